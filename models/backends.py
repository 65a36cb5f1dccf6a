"""The classifier on other array libraries: numpy, Dask (larger than memory, or a cluster), CuPy or PyTorch.

tinygraph's nodes call only the Python array API standard, through each tensor's
own namespace, so the same graph runs on any of these libraries once the data and
the parameters live there: all arrays of one model in one library.

    model, (X, Y, X_val, Y_val) = move("dask", model, (X, Y, X_val, Y_val), examples_per_chunk=500)
    train(model, X, Y, X_val, Y_val, iterations=..., optimizer=SGD(model.parameters(), lr),
          on_iteration=after_each_update("dask", model))

Dask builds graphs lazily. Without persisting the parameters after each update,
those of iteration k would be a graph of all k iterations before it, recomputed
from X at every step (8 iterations of the Dask test: 0.4 s for the first, 3.8 s
for the eighth); persisted, every iteration's graph starts from parameters already
in memory (on the cluster's workers, for a distributed scheduler).
For data larger than memory, convert the CSV once with csv_to_npy and read
it with load_npy("dir", "dask", examples_per_chunk=500).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

import tinygraph as tg
from models.classifier import Classifier
from models.train import IterationCallback
from tinygraph.backend import to_numpy

BACKENDS = ("numpy", "dask", "cupy", "torch")

# The module each backend imports, and what to install when it is missing.
_PACKAGES = {
    "dask": ("dask.array", "Dask", "pip install 'dask[distributed]'"),
    "cupy": ("cupy", "CuPy", "pip install cupy-cuda12x"),
    "torch": ("torch", "PyTorch", "pip install torch"),
}


class BackendUnavailableError(tg.TinygraphError, ImportError):
    """The array library a backend needs is not installed (or, for a GPU backend, has no GPU)."""


def require(backend: str) -> ModuleType:
    """The library module of `backend` (numpy, dask.array, cupy or torch), with a clear error when it is missing."""
    if backend == "numpy":
        return np
    if backend not in _PACKAGES:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
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


def classifier_to_backend(model: Classifier, backend: str, *, device: Any = None) -> Classifier:
    """A classifier whose parameters hold `model`'s values in `backend`'s library (for numpy, the same arrays)."""
    return Classifier(
        *(
            tg.Tensor(to_backend(p.data, backend, device=device), requires_grad=True, name=p.name)
            for p in model.parameters()
        )
    )


def move(
    backend: str,
    model: Classifier,
    arrays: Sequence[Any],
    *,
    examples_per_chunk: int | None = None,
    device: Any = None,
    persist: bool = True,
) -> tuple[Classifier, list[Any]]:
    """The model and the data arrays (X, Y, ...) on `backend`, ready for train().

    For Dask, the data are cut into blocks of `examples_per_chunk` columns and, if
    `persist`, read into the workers' memory once, instead of being sent with every
    iteration's graph; leave `persist` off for data larger than the cluster's memory.
    """
    model = classifier_to_backend(model, backend, device=device)
    arrays = [to_backend(a, backend, examples_per_chunk=examples_per_chunk, device=device) for a in arrays]
    if backend == "dask" and persist:
        import dask

        arrays = list(dask.persist(*arrays))
    return model, arrays


def after_each_update(backend: str, model: Classifier, then: IterationCallback | None = None) -> IterationCallback | None:
    """The on_iteration callback for train() on `backend`: for Dask, persist_parameters(model), then `then`."""
    if backend != "dask":
        return then
    persist = persist_parameters(model)

    def callback(i: int, train_loss: float, val_loss: float) -> None:
        persist()
        if then is not None:
            then(i, train_loss, val_loss)

    return callback


def persist_parameters(model: Classifier) -> Callable[[], None]:
    """A function that computes the model's updated Dask parameters and keeps them in (the cluster's) memory."""
    import dask

    def persist() -> None:
        parameters = model.parameters()
        for p, data in zip(parameters, dask.persist(*(p.data for p in parameters))):
            p.data = data

    return persist


# ---- the notebook's CSV, once, as .npy files that Dask reads in blocks -----------------
def csv_to_npy(csv_path: str | os.PathLike, out_dir: str | os.PathLike, dtype: Any = np.float64) -> tuple[Path, Path]:
    """Convert the notebook's CSV (feature rows, then a 0/1 label row; one column per example).

    Writes out_dir/X.npy (nx x n) and out_dir/Y.npy (1 x n) and returns their paths.
    The CSV is read a line at a time into a memory-mapped .npy file, so it may be
    larger than memory. Both files appear together, only once the whole CSV has been
    read; a ragged row, a cell that is not a number, or a label other than 0 and 1
    raises an error naming the file, the line and the column, and writes nothing.
    """
    csv_path, out_dir = Path(csv_path), Path(out_dir)
    rows, columns = _csv_shape(csv_path)
    if rows < 2:
        raise tg.ShapeError(f"{csv_path}: needs at least one feature row and the label row, found {rows} rows")
    out_dir.mkdir(parents=True, exist_ok=True)
    X_path, Y_path = out_dir / "X.npy", out_dir / "Y.npy"
    partial = [out_dir / "X.partial.npy", out_dir / "Y.partial.npy"]
    try:
        X = np.lib.format.open_memmap(partial[0], mode="w+", dtype=dtype, shape=(rows - 1, columns))
        Y = np.empty((1, columns), dtype=dtype)
        for row, (line_number, values) in enumerate(_csv_rows(csv_path, columns, dtype)):
            if row < rows - 1:
                X[row] = values
            else:
                Y[0] = values
        X.flush()
        del X
        _check_labels(Y[0], csv_path, line_number)
        np.save(partial[1], Y)
        os.replace(partial[0], X_path)
        os.replace(partial[1], Y_path)
    finally:
        for path in partial:
            path.unlink(missing_ok=True)
    return X_path, Y_path


def _csv_shape(path: Path) -> tuple[int, int]:
    """(non-blank lines, fields in the first of them): one cheap pass to size the .npy file."""
    rows, columns = 0, 0
    with open(path) as lines:
        for line in lines:
            if line.strip():
                columns = columns or line.count(",") + 1
                rows += 1
    return rows, columns


def _csv_rows(path: Path, columns: int, dtype: Any) -> Iterator[tuple[int, np.ndarray]]:
    """(line number, values) for each non-blank line, each checked to have `columns` numbers."""
    with open(path) as lines:
        for line_number, line in enumerate(lines, start=1):
            if not line.strip():
                continue  # as pandas.read_csv, which the notebook uses
            cells = line.split(",")
            if len(cells) != columns:
                raise tg.ShapeError(f"{path}, line {line_number}: {len(cells)} columns, but line 1 has {columns}")
            try:
                yield line_number, np.asarray(cells, dtype=dtype)
            except ValueError:
                column = next(i for i, cell in enumerate(cells, start=1) if not _is_number(cell))
                raise tg.DTypeError(
                    f"{path}, line {line_number}, column {column}: {cells[column - 1].strip()!r} is not a number"
                ) from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_labels(labels: np.ndarray, path: Path, line_number: int) -> None:
    wrong = np.flatnonzero((labels != 0) & (labels != 1))
    if wrong.size:
        column = wrong[0] + 1
        raise tg.LabelError(
            f"{path}, line {line_number} (the label row), column {column}: "
            f"labels must be 0 or 1, not {labels[wrong[0]]:g}"
        )


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


def load_npy(directory: str | os.PathLike, backend: str = "numpy", *, examples_per_chunk: int | None = None):
    """X and Y written by csv_to_npy, as arrays of `backend`; for Dask, read block by block when computed."""
    X_path, Y_path = Path(directory) / "X.npy", Path(directory) / "Y.npy"
    for path in (X_path, Y_path):
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist; write it first with csv_to_npy (the notebook's CSV)")
    if backend != "dask":
        return tuple(to_backend(np.load(path), backend) for path in (X_path, Y_path))
    da = require("dask")
    X = NpyBlocks(X_path)
    chunks = (X.shape[0], examples_per_chunk or X.shape[1])
    return da.from_array(X, chunks=chunks), da.from_array(NpyBlocks(Y_path), chunks=(1, chunks[1]))
