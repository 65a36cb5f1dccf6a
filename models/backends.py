"""Networks on other array libraries: numpy, Dask (larger than memory, or a cluster), CuPy or PyTorch.

tinygraph's nodes call only the Python array API standard, through each tensor's
own namespace, so the same graph runs on any of these libraries once the data and
the parameters live there: all arrays of one model in one library.

    model.to("dask")                                   # the same parameter tensors, now Dask arrays
    data = move_data("dask", (X, Y, X_val, Y_val), examples_per_chunk=500)
    optimizer = SGD(model.parameters(), lr)
    result = train(model, *data, iterations=2000, optimizer=optimizer,
                   on_iteration=after_each_update("dask", model))
    model.to("numpy")

numpy itself never needs this module: train() on numpy arrays as they are.

Dask builds graphs lazily. Without persisting the parameters after each update,
those of iteration k would be a graph of all k iterations before it, recomputed
from X at every step (8 iterations of the Dask test: 0.4 s for the first, 3.8 s
for the eighth); persisted, every iteration's graph starts from parameters already
in memory (on the cluster's workers, for a distributed scheduler).
For data larger than memory, convert the CSV once with tinygraph.models.data.csv_to_npy
and read it with tinygraph.models.data.load_npy("train.npy", "dask", examples_per_chunk=500).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygraph.models.errors import BackendUnavailableError, ConfigError
from tinygraph.models.train import IterationCallback
from tinygraph.backend import to_numpy

if TYPE_CHECKING:
    from tinygraph.models.mlp import MLP  # which imports this module when a model moves

BACKENDS = ("numpy", "dask", "cupy", "torch")

# The module each backend imports, and what to install when it is missing.
_PACKAGES = {
    "dask": ("dask.array", "Dask", "pip install 'dask[distributed]'"),
    "cupy": ("cupy", "CuPy", "pip install cupy-cuda12x"),
    "torch": ("torch", "PyTorch", "pip install torch"),
}


def require(backend: str) -> ModuleType:
    """The library module of `backend` (numpy, dask.array, cupy or torch), with a clear error when it is missing."""
    if backend == "numpy":
        return np
    if backend not in _PACKAGES:
        raise ConfigError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    module, package, install = _PACKAGES[backend]
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise BackendUnavailableError(f"the {backend} backend needs {package}: {install}") from error


def to_backend(array: Any, backend: str, *, examples_per_chunk: int | None = None, device: Any = None) -> Any:
    """`array` (of any of the libraries) as an array of `backend`.

    dask: a matrix is cut into blocks of `examples_per_chunk` columns (examples),
    all rows (features) in each; other arrays, and matrices without a chunk size,
    make one block. torch: on `device`, by default CUDA when available, else the CPU.
    """
    lib = require(backend)
    if backend == "dask":
        chunks = (-1, examples_per_chunk) if examples_per_chunk is not None and len(array.shape) == 2 else None
        if isinstance(array, lib.Array):
            return array if chunks is None else array.rechunk(chunks)
        return lib.from_array(to_numpy(array), chunks=chunks or -1)
    array = to_numpy(array)
    if backend == "cupy":
        try:
            return lib.asarray(array)
        except lib.cuda.runtime.CUDARuntimeError as error:
            raise BackendUnavailableError(f"the cupy backend needs a CUDA GPU: {error}") from error
    if backend == "torch":
        return lib.asarray(array, device=device or ("cuda" if lib.cuda.is_available() else "cpu"))
    return array


def move_data(
    backend: str,
    arrays: Sequence[Any],
    *,
    examples_per_chunk: int | None = None,
    device: Any = None,
    persist: bool = True,
) -> list[Any]:
    """The data arrays (X, Y, ...) on `backend`, ready for train() with a model moved there by model.to(backend).

    For Dask, the data are cut into blocks of `examples_per_chunk` columns and, if
    `persist`, read into the workers' memory once, instead of being sent with every
    iteration's graph; leave `persist` off for data larger than the cluster's memory.
    """
    arrays = [to_backend(a, backend, examples_per_chunk=examples_per_chunk, device=device) for a in arrays]
    if backend == "dask" and persist:
        import dask

        arrays = list(dask.persist(*arrays))
    return arrays


def after_each_update(
    backend: str, model: MLP, then: IterationCallback | None = None
) -> IterationCallback | None:
    """The on_iteration callback for train() on `backend`: for Dask, persist_parameters(model), then `then`."""
    if backend != "dask":
        return then
    persist = persist_parameters(model)

    def callback(epoch: int, logs: dict[str, float]) -> None:
        persist()
        if then is not None:
            then(epoch, logs)

    return callback


def persist_parameters(model: MLP) -> Callable[[], None]:
    """A function that computes the model's updated Dask parameters and keeps them in (the cluster's) memory."""
    import dask

    def persist() -> None:
        parameters = model.parameters()
        for p, persisted in zip(parameters, dask.persist(*(p.data for p in parameters))):
            p.data = persisted

    return persist


@contextmanager
def dask_client(address: str | None) -> Iterator[Any]:
    """A dask.distributed Client of the scheduler at `address` for the block (nothing when address is None)."""
    if address is None:
        yield None
        return
    try:
        from distributed import Client
    except ImportError as error:
        raise BackendUnavailableError(
            "a Dask scheduler needs dask.distributed: pip install 'dask[distributed]'"
        ) from error
    with Client(address, timeout=10) as client:
        yield client
