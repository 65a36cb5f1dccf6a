"""Run the benchmark suite: python -m benchmarks.run [--quick] [--json PATH].

For every workload and dtype it times one training iteration of tinygraph, of the
same math written by hand in numpy, and of PyTorch (when it can be imported), the
three taking turns in this one process; then measures each one's peak memory per
iteration and checks that tinygraph's memory stays flat over many iterations.
It prints a table and writes the figures, with the machine, as JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

import tinygraph as tg
from benchmarks.implementations import HandWrittenNumpy, PyTorchEager, Tinygraph, pytorch_available
from benchmarks.machine import machine
from benchmarks.measure import calibrate, flat_memory, peak_memory, summary, time_round_robin
from benchmarks.workloads import Workload, make_data, workloads

HERE = Path(__file__).resolve().parent
DEFAULT_JSON = HERE / "results" / "latest.json"
DTYPES = (np.float64, np.float32)
# tinygraph's time over hand-written numpy's that each workload must stay within.
TIME_GOALS = {"lecture": 1.02, "mid": 1.15, "tiny": 2.0, "tiny2": 2.0}
LECTURE_MEMORY_GOAL_MIB = 25.0  # tinygraph's peak beyond hand-written numpy's


def bench_workload(workload: Workload, dtype: type, quick: bool, torch_note: str | None) -> dict[str, Any]:
    data = make_data(workload, np.dtype(dtype))
    kinds = [HandWrittenNumpy, Tinygraph] + ([PyTorchEager] if torch_note is None else [])
    impls = {kind.name: kind(workload, data, np.dtype(dtype)) for kind in kinds}
    steps = {name: impl.step for name, impl in impls.items()}
    batch = calibrate(list(steps.values()), target_s=0.005 if quick else 0.1)
    # Each has now taken two steps from the same start, so its losses must match numpy's
    # to rounding (later, thousands of steps let float32 trajectories drift apart).
    rtol = float(np.finfo(dtype).eps) ** 0.5
    agree = {name: bool(np.allclose(impl.losses, impls["numpy"].losses, rtol=rtol)) for name, impl in impls.items()}
    seconds = time_round_robin(steps, repeats=3 if quick else 21, batch=batch)
    times = {name: summary(s) for name, s in seconds.items()}
    base = times["numpy"]["median_s"]
    result: dict[str, Any] = {
        "workload": workload.name,
        "label": workload.label,
        "dtype": np.dtype(dtype).name,
        "iterations_per_sample": batch,
        "samples": len(seconds["numpy"]),
        "time": times,
        "ratio_to_numpy": {name: t["median_s"] / base for name, t in times.items()},
        "losses_agree_with_numpy": agree,
        "peak_mib": {name: peak_memory(impl.step) for name, impl in impls.items() if name != "pytorch"},
        "flat_memory": flat_memory(impls["tinygraph"].step, workload.flat_iterations, (tg.Tensor, tg.Node)),
    }
    goal = TIME_GOALS.get(workload.name)
    result["time_goal"] = goal
    result["time_goal_met"] = None if goal is None else result["ratio_to_numpy"]["tinygraph"] <= goal
    if workload.name == "lecture":
        extra = result["peak_mib"]["tinygraph"] - result["peak_mib"]["numpy"]
        result["memory_goal_met"] = extra <= LECTURE_MEMORY_GOAL_MIB
    return result


def bench_csv(quick: bool) -> dict[str, Any]:
    """The CSV loader against pandas: benchmarks/bench_csv.py, run as its own process, writes JSON."""
    script = HERE / "bench_csv.py"
    if not script.exists():
        return {"note": "benchmarks/bench_csv.py is not there yet"}
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "csv.json"
        command = [sys.executable, "-m", "benchmarks.bench_csv", "--json", str(out)] + (["--quick"] if quick else [])
        done = subprocess.run(command, cwd=HERE.parent, capture_output=True, text=True)
        if done.returncode != 0 or not out.exists():
            return {"note": f"bench_csv failed (exit {done.returncode})", "stderr": done.stderr[-2000:]}
        return json.loads(out.read_text())


def table(results: list[dict[str, Any]]) -> str:
    header = (
        f"{'workload':<32} {'dtype':<8} {'numpy ms':>9} {'tinygraph ms':>13} {'ratio':>6} {'goal':>5}"
        f" {'pytorch ms':>11} {'ratio':>6} {'peak MiB np/tg':>15} {'flat':>5}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        ms = {name: t["median_s"] * 1e3 for name, t in r["time"].items()}
        ratio = r["ratio_to_numpy"]
        goal = f"{r['time_goal']:.2f}" if r["time_goal"] else "-"
        torch = f"{ms['pytorch']:>11.3f} {ratio['pytorch']:>6.2f}" if "pytorch" in ms else f"{'-':>11} {'-':>6}"
        peaks = f"{r['peak_mib']['numpy']:.2f}/{r['peak_mib']['tinygraph']:.2f}"
        lines.append(
            f"{r['label']:<32} {r['dtype']:<8} {ms['numpy']:>9.3f} {ms['tinygraph']:>13.3f} {ratio['tinygraph']:>6.3f}"
            f" {goal:>5} {torch} {peaks:>15} {str(r['flat_memory']['flat']):>5}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes and few repeats: a smoke test, not a measurement"
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"where to write the figures ({DEFAULT_JSON})")
    parser.add_argument("--only", nargs="+", metavar="WORKLOAD", help="run only these workloads")
    parser.add_argument("--no-csv", action="store_true", help="skip the CSV loader benchmark")
    args = parser.parse_args(argv)

    torch_note = pytorch_available()
    suite = [w for w in workloads(args.quick) if not args.only or w.name in args.only]
    started = time.time()
    results = []
    for workload in suite:
        for dtype in DTYPES:
            results.append(bench_workload(workload, dtype, args.quick, torch_note))
            print(f"  done: {workload.name} {np.dtype(dtype).name}", file=sys.stderr, flush=True)
    report = {
        "quick": args.quick,
        "machine": machine(torch_note),
        "memory_measure": "tracemalloc peak above the start of one iteration (numpy buffers included; "
        "PyTorch's allocator is invisible to it)",
        "results": results,
        "csv": {"note": "skipped (--no-csv)"} if args.no_csv else bench_csv(args.quick),
        "seconds": time.time() - started,
    }
    print(table(results))
    if torch_note:
        print(torch_note)
    print(f"CSV loader: {json.dumps(report['csv'])}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))
    print(f"figures written to {args.json}")
    return report


if __name__ == "__main__":
    main()
