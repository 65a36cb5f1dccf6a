"""The networks and the synthetic data that the benchmarks train.

Every workload is the notebook's network grown or shrunk: ReLU hidden layers, a
sigmoid output, the mean binary cross-entropy, plain gradient descent, examples
as columns. One training iteration is the notebook's loop body: forward on the
training and validation sets, the loss on both, backward on the training set,
update. The data is made in memory from a seeded generator (random "pixels" in
[0, 1) and 0/1 labels): the timings do not depend on what the numbers are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LEARNING_RATE = 0.01


@dataclass(frozen=True)
class Workload:
    name: str
    sizes: tuple[int, ...]  # nx, the hidden layers' widths, ny = 1
    n_train: int
    n_val: int
    flat_iterations: int  # how many iterations the flat-memory check runs

    @property
    def label(self) -> str:
        """e.g. `deep 64-64x10-1 n=256+64`"""
        widths = "-".join(map(str, self.sizes))
        hidden = self.sizes[1:-1]
        if len(hidden) > 2 and len(set(hidden)) == 1:
            widths = f"{self.sizes[0]}-{hidden[0]}x{len(hidden)}-{self.sizes[-1]}"
        return f"{self.name} {widths} n={self.n_train}+{self.n_val}"


def workloads(quick: bool = False) -> list[Workload]:
    """The suite; `quick` shrinks every size so that it runs in seconds (a smoke test)."""
    if quick:
        return [
            Workload("lecture", (768, 50, 1), 200, 50, 50),
            Workload("mid", (784, 128, 1), 64, 16, 50),
            Workload("tiny", (2, 16, 1), 100, 25, 50),
            Workload("tiny2", (2, 16, 16, 1), 100, 25, 50),
            Workload("deep", (64,) + (64,) * 10 + (1,), 64, 16, 50),
        ]
    return [
        # The notebook's run; one iteration takes about 0.1 s, so 200 show a leak
        # as surely as the small nets' 2,000 (what leaks leaks every iteration).
        Workload("lecture", (12288, 50, 1), 2000, 500, 200),
        Workload("mid", (784, 128, 1), 256, 64, 2000),
        Workload("tiny", (2, 16, 1), 100, 25, 2000),
        Workload("tiny2", (2, 16, 16, 1), 100, 25, 2000),
        Workload("deep", (64,) + (64,) * 10 + (1,), 256, 64, 2000),
    ]


@dataclass(frozen=True)
class Data:
    X: np.ndarray  # nx x n_train
    Y: np.ndarray  # 1 x n_train
    X_val: np.ndarray
    Y_val: np.ndarray


def make_data(workload: Workload, dtype: np.dtype, seed: int = 0) -> Data:
    """Synthetic data of the workload's shape, drawn directly in `dtype` (no float64 copy)."""
    rng = np.random.default_rng(seed)
    nx = workload.sizes[0]

    def examples(n: int) -> tuple[np.ndarray, np.ndarray]:
        X = rng.random((nx, n), dtype=dtype)
        Y = (rng.random((1, n)) < 0.5).astype(dtype)
        return X, Y

    return Data(*examples(workload.n_train), *examples(workload.n_val))


def initial_parameters(workload: Workload, dtype: np.dtype, seed: int = 1) -> list[tuple[np.ndarray, np.ndarray]]:
    """(W, b) per layer: W uniform in +-1/sqrt(fan-in) (about the notebook's +-0.01 for nx = 12288), b zero."""
    rng = np.random.default_rng(seed)
    sizes = workload.sizes
    return [
        (
            rng.uniform(-1, 1, (fan_out, fan_in)).astype(dtype) / np.sqrt(fan_in).astype(dtype),
            np.zeros((fan_out, 1), dtype=dtype),
        )
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:])
    ]
