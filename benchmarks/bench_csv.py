"""The CSV loader against pandas and numpy on the notebook's full-size file.

    python -m benchmarks.bench_csv [--quick] [--repeats N] [--json PATH]

Writes a synthetic train.csv of the notebook's shape (12,289 rows x 2,000
columns, about 470 MB; --quick: 50 columns) into a temporary folder, then loads
it with tinygraph's `tinygraph.models.data.load_csv`, `pandas.read_csv(header=None)` and
`numpy.loadtxt(delimiter=",")`, each time in a fresh Python process, the three
taking turns. A process reports the seconds its load took (wall clock, and the
CPU time it used, which moves less on a busy shared machine) and its peak
resident memory (Linux's VmHWM) above what it held after its imports. The table
gives medians, as ratios to pandas' times and to the loaded array's size, and
the script checks that the three loaders read the very same numbers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_JSON = HERE / "results" / "bench_csv.json"
LOADERS = ("tinygraph", "pandas", "numpy")


def load(loader: str, path: str) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    if loader == "tinygraph":
        from tinygraph.models.data import load_csv

        return load_csv(path)
    if loader == "pandas":
        import pandas as pd

        return pd.read_csv(path, header=None).to_numpy()
    return np.loadtxt(path, delimiter=",")


def measure_in_this_process(loader: str, path: str) -> dict[str, Any]:
    """Load once; the seconds, the peak memory above the baseline, and a digest of the numbers read."""
    import pandas  # noqa: F401  every loader pays the same imports before the baseline

    import tinygraph.models.data  # noqa: F401

    baseline = _resident_bytes()
    start, start_cpu = time.perf_counter(), time.process_time()
    loaded = load(loader, path)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - start_cpu
    peak = _peak_resident_bytes() - baseline
    table = np.vstack(loaded) if isinstance(loaded, tuple) else loaded  # tinygraph's (X, Y) as one table
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_bytes": peak,
        "array_bytes": table.nbytes,
        "shape": list(table.shape),
        "sha256": hashlib.sha256(np.ascontiguousarray(table, dtype=np.float64)).hexdigest(),
    }


def _resident_bytes() -> int:
    return _proc_status_bytes("VmRSS")


def _peak_resident_bytes() -> int:
    # Not getrusage's ru_maxrss: Linux carries it over from the parent through
    # fork and exec, so a child would report the peak of the process that made the file.
    return _proc_status_bytes("VmHWM")


def _proc_status_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024  # "VmHWM:  123456 kB"
    raise RuntimeError(f"/proc/self/status has no {field}: this benchmark measures memory on Linux only")


def measure(loader: str, path: Path) -> dict[str, Any]:
    """One load in a fresh process, so that no loader inherits another's memory."""
    command = [sys.executable, "-m", "benchmarks.bench_csv", "--child", loader, str(path)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=HERE.parent, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{loader} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def run(path: Path, repeats: int, loaders: tuple[str, ...] = LOADERS) -> dict[str, Any]:
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in loaders}
    for r in range(repeats):
        for name in loaders[r % len(loaders) :] + loaders[: r % len(loaders)]:  # take turns
            sample = measure(name, path)
            samples[name].append(sample)
            print(f"  {name:<9} {sample['seconds']:6.2f} s, CPU {sample['cpu_seconds']:.2f} s", flush=True)

    def median(name: str, key: str) -> float:
        return statistics.median(sample[key] for sample in samples[name])

    results = {}
    for name, runs in samples.items():
        results[name] = {
            "median_s": median(name, "seconds"),
            "median_cpu_s": median(name, "cpu_seconds"),
            "time_vs_pandas": median(name, "seconds") / median("pandas", "seconds"),
            "cpu_vs_pandas": median(name, "cpu_seconds") / median("pandas", "cpu_seconds"),
            "peak_mib": median(name, "peak_bytes") / 2**20,
            "peak_vs_array": median(name, "peak_bytes") / runs[0]["array_bytes"],
            "array_mib": runs[0]["array_bytes"] / 2**20,
            "shape": runs[0]["shape"],
            "samples": [{key: s[key] for key in ("seconds", "cpu_seconds", "peak_bytes")} for s in runs],
        }
    digests = {sample["sha256"] for runs in samples.values() for sample in runs}
    return {"results": results, "same_numbers": len(digests) == 1}


def print_table(report: dict[str, Any]) -> None:
    columns = ("median s", "x pandas", "CPU s", "x pandas", "peak MiB", "x array")
    print("\n" + f"{'loader':<10}" + "".join(f"{c:>10}" for c in columns))
    for name, r in report["results"].items():
        keys = ("median_s", "time_vs_pandas", "median_cpu_s", "cpu_vs_pandas", "peak_mib", "peak_vs_array")
        figures = [r[key] for key in keys]
        print(f"{name:<10}" + "".join(f"{f:10.2f}" for f in figures))
    print("all loaders read the same numbers" if report["same_numbers"] else "THE LOADERS READ DIFFERENT NUMBERS")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small file (50 columns), for a smoke test")
    parser.add_argument("--repeats", type=int, default=3, help="loads per loader (default: 3)")
    parser.add_argument(
        "--skip-numpy", action="store_true", help="leave out numpy.loadtxt (the slowest, 10x the others' time)"
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"the report (default: {DEFAULT_JSON})")
    parser.add_argument("--child", nargs=2, metavar=("LOADER", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure_in_this_process(*args.child)))
        return 0

    from benchmarks.machine import machine
    from tinygraph.models.datasets import write_synthetic_images

    columns = 50 if args.quick else 2000
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        path, _ = write_synthetic_images(folder, n_train=columns, n_val=1)
        size = path.stat().st_size
        print(f"wrote {path.name}: 12289 x {columns}, {size / 2**20:.0f} MiB, in {time.perf_counter() - start:.0f} s")
        loaders = tuple(name for name in LOADERS if not (args.skip_numpy and name == "numpy"))
        report = run(path, args.repeats, loaders)
    print_table(report)
    import pandas

    report.update(file_mib=size / 2**20, columns=columns, repeats=args.repeats, pandas=pandas.__version__)
    report.update(machine=machine("not used here"))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.json}")
    return 0 if report["same_numbers"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
