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
For data larger than memory, convert the CSV once with csv_to_npy and read
it with load_npy("train.npy", "dask", examples_per_chunk=500).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from models import data
from models.errors import BackendUnavailableError, ConfigError
from models.train import IterationCallback
from models.untrusted import check_table
from tinygraph.backend import to_numpy

if TYPE_CHECKING:
    from models.mlp import MLP  # which imports this module when a model moves

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

    def callback(i: int, train_loss: float, val_loss: float) -> None:
        persist()
        if then is not None:
            then(i, train_loss, val_loss)

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


# ---- the notebook's CSV, once, as a .npy file that Dask reads in blocks -----------------
def csv_to_npy(
    csv_path: str | os.PathLike, npy_path: str | os.PathLike | None = None, dtype: Any = np.float64
) -> Path:
    """Convert the notebook's CSV (feature rows, then a 0/1 label row) into a .npy file of the same table.

    `npy_path` defaults to the CSV's path with the suffix .npy. The CSV is parsed
    by models.data.load_csv, with its checks and errors, straight into a
    memory-mapped file, so it may be larger than memory; the .npy file appears
    only once the whole CSV has been read and checked.
    """
    npy_path = Path(csv_path).with_suffix(".npy") if npy_path is None else Path(npy_path)
    partial = npy_path.with_name(f".{npy_path.name}.partial")
    tables = []

    def allocate(shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
        tables.append(np.lib.format.open_memmap(partial, mode="w+", dtype=dtype, shape=shape))
        return tables[0]

    try:
        data.load_csv(csv_path, dtype, allocate=allocate)
        tables.pop().flush()
        os.replace(partial, npy_path)
    finally:
        partial.unlink(missing_ok=True)
    return npy_path


class NpyBlocks:
    """A .npy file that Dask reads in blocks: each block maps the file afresh.

    Pickling it (to send a graph to a cluster's workers) sends the path, not the
    data, as a memory map would; the workers must see the same file system.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        header = np.load(self.path, mmap_mode="r")
        self.shape, self.dtype, self.ndim = header.shape, header.dtype, header.ndim

    def __getitem__(self, index: Any) -> np.ndarray:
        return np.array(np.load(self.path, mmap_mode="r")[index])


def load_npy(
    path: str | os.PathLike,
    backend: str = "numpy",
    *,
    examples_per_chunk: int | None = None,
    labels: data.Labels = "binary",
) -> tuple[Any, Any]:
    """(X, Y) from a table written by csv_to_npy, as arrays of `backend`; Dask reads blocks of examples lazily.

    The file is checked first, as models.untrusted.check_table says (its size, dtype,
    finite values and `labels`), so a damaged or hostile file is refused by name.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; convert the CSV first with csv_to_npy")
    check_table(path, labels)
    if backend == "dask":
        table = NpyBlocks(path)
        chunks = (table.shape[0], examples_per_chunk or table.shape[1])
        table = require("dask").from_array(table, chunks=chunks)
    else:
        table = to_backend(np.load(path), backend)
    return table[:-1], table[-1:]
