"""One epoch of the same small CNN in tinygraph, in hand-written numpy and in PyTorch on the CPU.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.bench_cnn [--quick] [--repeats N] [--json PATH]

The network: three blocks of a 3 x 3 convolution (zero padding 1, stride 1, 16,
32 and 64 filters), a ReLU and a 2 x 2 max pooling, then one dense layer to a
logit and the mean binary cross-entropy; plain gradient descent. The data: 2,000
images of the notebook's 64 x 64 x 3, as its 12288 x n columns, in mini-batches
of 64 (31 full ones and one of 16). Every implementation starts each epoch from
the same initial weights and takes the same batches, so all of them must
compute the same 32 losses (to 1e-10 in float64), which the script checks.

tinygraph reads the batches from the notebook's columns (images_from_columns:
a view, then its padding copies them); the hand-written numpy code does the same
im2col math without a graph; PyTorch gets its own n x C x H x W layout, made once
before timing. Epochs take turns, a different implementation first each round,
and the table gives medians: on a shared machine single epochs vary, so read
the ratios. Peak memory: each implementation runs one more epoch in a fresh
process, and reports the peak resident memory (Linux's VmHWM, reset just
before the epoch) above what it held before it: data, weights and libraries
are excluded, activations, saved arrays and gradients counted, PyTorch's alike.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

HERE = Path(__file__).resolve().parent
DEFAULT_JSON = HERE / "results" / "bench_cnn.json"
IMPLEMENTATIONS = ("tinygraph", "numpy", "pytorch")
TIME_GOAL = 1.5  # tinygraph's time per epoch over PyTorch's
LOSS_TOLERANCE = {"float64": 1e-10, "float32": 1e-4}


@dataclass(frozen=True)
class Setup:
    images: int = 2000
    side: int = 64  # height = width
    channels: int = 3
    filters: tuple[int, ...] = (16, 32, 64)
    batch: int = 64
    learning_rate: float = 0.01
    dtype: str = "float64"
    seed: int = 0


QUICK = Setup(images=80, side=16, filters=(4, 8), batch=32)


def make_problem(setup: Setup) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """X ((h w c) x n, the notebook's columns, pixels k/255), Y (1 x n) and the initial parameters.

    Parameters: per block W (out x in x 3 x 3) and b (out,), then the dense W (1 x features) and b (1 x 1),
    each uniform in +-1/sqrt(fan in) as PyTorch draws them.
    """
    rng = np.random.default_rng(setup.seed)
    dtype = np.dtype(setup.dtype)
    X = (rng.integers(0, 256, (setup.side * setup.side * setup.channels, setup.images)) / 255).astype(dtype)
    Y = (rng.random((1, setup.images)) < 0.5).astype(dtype)
    params = []
    channels = setup.channels
    for out in setup.filters:
        bound = 1 / np.sqrt(channels * 9)
        params += [rng.uniform(-bound, bound, (out, channels, 3, 3)), rng.uniform(-bound, bound, out)]
        channels = out
    features = channels * (setup.side >> len(setup.filters)) ** 2
    bound = 1 / np.sqrt(features)
    params += [rng.uniform(-bound, bound, (1, features)), rng.uniform(-bound, bound, (1, 1))]
    return X, Y, [p.astype(dtype) for p in params]


def batches(setup: Setup) -> list[slice]:
    return [slice(start, min(start + setup.batch, setup.images)) for start in range(0, setup.images, setup.batch)]


class Tinygraph:
    """The network as a tinygraph graph, one per mini-batch."""

    def __init__(self, setup: Setup):
        import tinygraph as tg

        self.tg, self.setup = tg, setup
        self.X, self.Y, self.initial = make_problem(setup)

    def epoch(self) -> list[float]:
        tg, setup = self.tg, self.setup
        params = [tg.Tensor(p, requires_grad=True) for p in self.initial]
        losses = []
        for batch in batches(setup):
            A = tg.images_from_columns(self.X[:, batch], (setup.side, setup.side, setup.channels))
            for W, b in zip(params[:-2:2], params[1:-2:2]):
                A = tg.max_pool2d(tg.relu(tg.conv2d(A, W, b, padding=1)), 2)
            W, b = params[-2:]
            L = tg.binary_cross_entropy_with_logits(W @ A.reshape((-1, A.shape[-1])) + b, self.Y[:, batch])
            L.backward()
            for p in params:
                p.data = p.data - setup.learning_rate * p.grad
                p.grad = None
            losses.append(L.item())
        return losses


class HandWrittenNumpy:
    """The same im2col math written out in numpy, without a graph: forward, backward, update."""

    def __init__(self, setup: Setup):
        self.setup = setup
        self.X, self.Y, self.initial = make_problem(setup)

    def epoch(self) -> list[float]:
        setup = self.setup
        params = list(self.initial)
        losses = []
        for batch in batches(setup):
            X, Y = self.X[:, batch], self.Y[:, batch]
            n = X.shape[1]
            A = X.reshape(setup.side, setup.side, setup.channels, n).transpose(2, 0, 1, 3)
            blocks = []
            for W, b in zip(params[:-2:2], params[1:-2:2]):
                cols = np.pad(A, ((0, 0), (1, 1), (1, 1), (0, 0)))
                cols = sliding_window_view(cols, (3, 3), axis=(1, 2)).transpose(0, 4, 5, 1, 2, 3).reshape(-1, A[0].size)
                Z = (W.reshape(len(W), -1) @ cols + b[:, None]).reshape(len(W), *A.shape[1:])
                R = np.maximum(Z, 0)
                C, H, Wd, _ = R.shape
                P = R.reshape(C, H // 2, 2, Wd // 2, 2, n).max(axis=(2, 4))
                blocks.append((A.shape, cols, Z, R, P))
                A = P
            Wd, bd = params[-2:]
            F = A.reshape(-1, n)
            logits = Wd @ F + bd
            losses.append(float(np.mean(np.maximum(logits, 0) - Y * logits + np.log1p(np.exp(-np.abs(logits))))))
            dlogits = (np.exp(np.minimum(logits, 0)) / (1 + np.exp(-np.abs(logits))) - Y) / n
            grads = [dlogits @ F.T, dlogits.sum(axis=1, keepdims=True)]
            dA = (Wd.T @ dlogits).reshape(A.shape)
            for layer in reversed(range(len(blocks))):
                shape, cols, Z, R, P = blocks[layer]
                W = params[2 * layer]
                C, H, Wd_, _ = R.shape
                windows = R.reshape(C, H // 2, 2, Wd_ // 2, 2, n)
                is_max = windows == P[:, :, None, :, None]
                share = dA / is_max.sum(axis=(2, 4))
                dZ = (is_max * share[:, :, None, :, None]).reshape(R.shape) * (Z > 0)
                dZ2 = dZ.reshape(len(W), -1)
                grads[:0] = [(dZ2 @ cols.T).reshape(W.shape), dZ2.sum(axis=1)]
                if layer:
                    dcols = (W.reshape(len(W), -1).T @ dZ2).reshape(shape[0], 3, 3, *shape[1:])
                    dpadded = np.zeros((shape[0], shape[1] + 2, shape[2] + 2, n), dtype=dZ.dtype)
                    for u in range(3):
                        for v in range(3):
                            dpadded[:, u : u + shape[1], v : v + shape[2]] += dcols[:, u, v]
                    dA = dpadded[:, 1:-1, 1:-1]
            params = [p - setup.learning_rate * g for p, g in zip(params, grads)]
        return losses


class PyTorchEager:
    """The same network with torch.nn.functional, on the CPU, in PyTorch's n x C x H x W layout."""

    def __init__(self, setup: Setup):
        import torch

        self.torch, self.setup = torch, setup
        X, Y, self.initial = make_problem(setup)
        images = X.reshape(setup.side, setup.side, setup.channels, -1).transpose(3, 2, 0, 1)
        self.X, self.Y = torch.from_numpy(np.ascontiguousarray(images)), torch.from_numpy(np.ascontiguousarray(Y.T))

    def epoch(self) -> list[float]:
        torch, setup = self.torch, self.setup
        F = torch.nn.functional
        params = [torch.tensor(p, requires_grad=True) for p in self.initial]
        losses = []
        for batch in batches(setup):
            A = self.X[batch]
            for W, b in zip(params[:-2:2], params[1:-2:2]):
                A = F.max_pool2d(F.relu(F.conv2d(A, W, b, padding=1)), 2)
            W, b = params[-2:]
            L = F.binary_cross_entropy_with_logits(A.flatten(1) @ W.T + b, self.Y[batch])
            L.backward()
            with torch.no_grad():
                for p in params:
                    p -= setup.learning_rate * p.grad
                    p.grad = None
            losses.append(L.item())
        return losses


KINDS = {"tinygraph": Tinygraph, "numpy": HandWrittenNumpy, "pytorch": PyTorchEager}


def present() -> tuple[str, ...]:
    """tinygraph and hand-written numpy always, PyTorch where it is installed (the last is the reference)."""
    return IMPLEMENTATIONS if importlib.util.find_spec("torch") else IMPLEMENTATIONS[:2]


def time_epochs(impls: dict[str, Any], repeats: int) -> tuple[dict[str, dict[str, list[float]]], dict[str, list]]:
    """Wall-clock and CPU seconds per epoch, `repeats` each, taking turns; and each one's losses of its first epoch.

    CPU time (all threads of the process) moves less than the wall clock when other
    programs share the cores; both use the same two BLAS / PyTorch threads here.
    """
    names = list(impls)
    losses = {name: impl.epoch() for name, impl in impls.items()}  # warm-up, and the losses to compare
    seconds: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in names}
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start, start_cpu = time.perf_counter(), time.process_time()
            impls[name].epoch()
            seconds[name]["wall"].append(time.perf_counter() - start)
            seconds[name]["cpu"].append(time.process_time() - start_cpu)
    return seconds, losses


def peak_memory_in_this_process(name: str, setup: Setup) -> dict[str, float]:
    """Peak resident MiB of one epoch above what the process held before it (data, weights, libraries)."""
    impl = KINDS[name](setup)
    baseline = _status_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current resident size
    impl.epoch()
    return {"peak_mib": (_status_kib("VmHWM") - baseline) / 1024, "baseline_mib": baseline / 1024}


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}: peak memory is measured on Linux only")


def peak_memory(name: str, quick: bool, dtype: str) -> dict[str, float]:
    """One epoch in a fresh process, so that no implementation inherits another's memory."""
    command = [sys.executable, "-m", "benchmarks.bench_cnn", "--memory-of", name, "--dtype", dtype]
    done = subprocess.run(command + ["--quick"] * quick, capture_output=True, text=True, cwd=HERE.parent, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{name}'s memory run failed:\n{done.stderr}")
    return json.loads(done.stdout)


def run(setup: Setup, repeats: int, quick: bool) -> dict[str, Any]:
    names = present()
    reference = names[-1]
    impls = {name: KINDS[name](setup) for name in names}
    seconds, losses = time_epochs(impls, repeats)
    medians = {name: statistics.median(s["wall"]) for name, s in seconds.items()}
    cpu_medians = {name: statistics.median(s["cpu"]) for name, s in seconds.items()}
    differences = {name: float(np.max(np.abs(np.subtract(l, losses["numpy"])))) for name, l in losses.items()}
    del impls
    memory = {name: peak_memory(name, quick, setup.dtype) for name in names}
    return {
        "setup": asdict(setup),
        "batches_per_epoch": len(batches(setup)),
        "repeats": repeats,
        "seconds": seconds,
        "median_s": medians,
        "reference": reference,
        "ratio_to_reference": {name: m / medians[reference] for name, m in medians.items()},
        "median_cpu_s": cpu_medians,
        "cpu_ratio_to_reference": {name: m / cpu_medians[reference] for name, m in cpu_medians.items()},
        "time_goal": TIME_GOAL,
        # The goal is against PyTorch: without it there is nothing to meet or miss.
        "time_goal_met": medians["tinygraph"] / medians["pytorch"] <= TIME_GOAL if "pytorch" in medians else None,
        "first_losses": {name: l[:3] for name, l in losses.items()},
        "max_loss_difference_from_numpy": differences,
        "losses_agree": all(d <= LOSS_TOLERANCE[setup.dtype] for d in differences.values()),
        "memory": memory,
    }


def print_table(report: dict[str, Any]) -> None:
    times = f"x {report['reference']}"
    columns = ("median s", times, "CPU s", times, "peak MiB", "loss diff")
    print("\n" + f"{'':<10}" + "".join(f"{c:>11}" for c in columns))
    for name in report["median_s"]:
        print(
            f"{name:<10}{report['median_s'][name]:>11.3f}{report['ratio_to_reference'][name]:>11.2f}"
            f"{report['median_cpu_s'][name]:>11.3f}{report['cpu_ratio_to_reference'][name]:>11.2f}"
            f"{report['memory'][name]['peak_mib']:>11.0f}{report['max_loss_difference_from_numpy'][name]:>11.1e}"
        )
    goal = {True: "met", False: "NOT met", None: "not measured (PyTorch is not installed)"}[report["time_goal_met"]]
    print(f"goal tinygraph <= {TIME_GOAL}x pytorch: {goal}; losses agree: {report['losses_agree']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_cnn", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="80 images of 16 x 16, two blocks: a smoke test")
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs per implementation (default: 5)")
    parser.add_argument("--dtype", choices=sorted(LOSS_TOLERANCE), default="float64", help="(default: float64)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"the report (default: {DEFAULT_JSON})")
    parser.add_argument("--memory-of", choices=IMPLEMENTATIONS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    base = QUICK if args.quick else Setup()
    setup = Setup(**{**asdict(base), "dtype": args.dtype})
    if args.memory_of:
        print(json.dumps(peak_memory_in_this_process(args.memory_of, setup)))
        return 0

    from benchmarks.machine import machine

    started = time.perf_counter()
    report = run(setup, args.repeats, args.quick)
    torch_note = None if "pytorch" in report["median_s"] else "not installed"
    report.update(quick=args.quick, seconds_total=time.perf_counter() - started, machine=machine(torch_note))
    print_table(report)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.json}")
    return 0 if report["losses_agree"] else 1  # a wrong loss is a failure; a missed speed goal is a figure


if __name__ == "__main__":
    raise SystemExit(main())
