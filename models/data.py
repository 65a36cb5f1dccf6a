"""The notebook's CSV layout: read it (fast, in little memory), write it exactly, convert it to .npy.

The layout (lecture notebook, section 2): no header; each column is one example;
the feature rows come first (for images, the 12288 pixels of a 64x64x3 reshape)
and the last row holds the labels. `train.csv` has 12,289 rows of 2,000 numbers:
about 435 MiB of text for a 188 MiB array.

    X, Y = load_csv("train.csv")                   # X is nx x n, Y is 1 x n
    write_csv("copy.csv", X, Y)                    # reads back to the same numbers
    csv_to_npy("train.csv")                        # train.npy, for data larger than memory
    X, Y = load_npy("train.npy", "dask", examples_per_chunk=500)

The parser itself, and why it is one of our own, is models/_csv.py.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
from numpy.typing import DTypeLike

from tinygraph.models._csv import last_row_as_float64, read_table
from tinygraph.models.errors import ConfigError, DataError

Labels = Literal["binary", "classes"]
LABEL_KINDS: tuple[str, ...] = ("binary", "classes")


def load_csv(
    path: str | os.PathLike[str],
    dtype: DTypeLike = np.float64,
    labels: Labels = "binary",
    allocate: Callable[[tuple[int, int], np.dtype], np.ndarray] = np.empty,
) -> tuple[np.ndarray, np.ndarray]:
    """Read a CSV file in the notebook's layout into (X, Y): X is nx x n, Y is 1 x n.

    labels="binary" requires every label to be 0 or 1; labels="classes" accepts
    the whole numbers 0, 1, 2, ... of a multi-class problem (checked as written,
    before any rounding to `dtype`). Numbers are read exactly into float64; for
    float32 or float16, that float64 is rounded to `dtype`. Raises DataError
    (naming the file, row and column) for an empty file, ragged rows, cells that
    are not numbers, NaN or infinity, values too large for `dtype`, and labels
    that break the rule; it returns the arrays or raises, never half of them.
    X and Y are views of one table (feature rows, then the label row) made by
    `allocate(shape, dtype)`, a C-contiguous array: by default in memory, or e.g. a
    memory-mapped file.
    """
    path, dtype = Path(path), _float_dtype(dtype)
    _check_label_kind(labels)
    table = read_table(path, dtype, allocate)
    if table.shape[0] < 2:
        raise DataError(f"{path}: found a single row; expected feature rows, then the label row")
    return _with_labels(path, table, labels)


def load_examples(
    path: str | os.PathLike[str], features: int, dtype: DTypeLike = np.float64, labels: Labels = "binary"
) -> tuple[np.ndarray, np.ndarray | None]:
    """(X, Y) from a CSV of `features` feature rows with a label row last, or (X, None) from one without.

    For predictions: the row count tells which the file is; any other count is a DataError naming it.
    """
    path, dtype = Path(path), _float_dtype(dtype)
    _check_label_kind(labels)
    table = read_table(path, dtype)
    if table.shape[0] == features:
        return table, None
    if table.shape[0] != features + 1:
        raise DataError(
            f"{path}: {table.shape[0]} rows, but the network takes {features} features: expected {features} "
            f"feature rows, or {features + 1} with the label row"
        )
    return _with_labels(path, table, labels)


def load_train_val(
    train_path: str | os.PathLike[str],
    val_path: str | os.PathLike[str],
    dtype: DTypeLike = np.float64,
    labels: Labels = "binary",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read the training and the validation file: (train_X, train_Y, val_X, val_Y).

    Raises DataError when the two files have different numbers of features, as
    the notebook's own check does.
    """
    train_X, train_Y = load_csv(train_path, dtype, labels)
    val_X, val_Y = load_csv(val_path, dtype, labels)
    if train_X.shape[0] != val_X.shape[0]:
        raise DataError(
            f"{train_path} has {train_X.shape[0]} feature rows but {val_path} has {val_X.shape[0]}: "
            "training and validation examples must have the same features"
        )
    return train_X, train_Y, val_X, val_Y


def write_csv(path: str | os.PathLike[str], X: np.ndarray, Y: np.ndarray) -> None:
    """Write X (nx x n) and Y (1 x n) in the notebook's layout, so that load_csv reads them back exactly.

    Numbers are written as Python's repr (the shortest text that reads back to the
    same float), whole-number label rows as integers. The file appears complete or
    not at all: it is written to a temporary file beside it, then renamed.
    """
    X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    if X.ndim != 2 or Y.shape != (1, X.shape[1]):
        raise DataError(f"write_csv needs X of shape nx x n and Y of shape 1 x n; got X {X.shape} and Y {Y.shape}")
    if not (np.isfinite(X).all() and np.isfinite(Y).all()):
        raise DataError(f"write_csv: X and Y must be finite ({path} would not load)")
    label_row = Y[0].astype(np.int64) if (Y == np.round(Y)).all() else Y[0]

    def write(file: IO[bytes]) -> None:
        for row in (*X, label_row):
            file.write((",".join(map(repr, row.tolist())) + "\n").encode())

    write_atomically(Path(path), write)


def write_atomically(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write `path` through a temporary file in the same folder, renamed into place once complete."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # os.open, not mkstemp: the file gets the permissions of any new file (the umask's), not 0600.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


# ---- the CSV, once, as a .npy file that Dask reads in blocks ---------------------------
def csv_to_npy(
    csv_path: str | os.PathLike, npy_path: str | os.PathLike | None = None, dtype: Any = np.float64
) -> Path:
    """Convert the notebook's CSV (feature rows, then a 0/1 label row) into a .npy file of the same table.

    `npy_path` defaults to the CSV's path with the suffix .npy. The CSV is parsed
    by load_csv, with its checks and errors, straight into a memory-mapped file,
    so it may be larger than memory; the .npy file appears only once the whole CSV
    has been read and checked.
    """
    npy_path = Path(csv_path).with_suffix(".npy") if npy_path is None else Path(npy_path)
    partial = npy_path.with_name(f".{npy_path.name}.partial")
    tables = []

    def allocate(shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
        tables.append(np.lib.format.open_memmap(partial, mode="w+", dtype=dtype, shape=shape))
        return tables[0]

    try:
        load_csv(csv_path, dtype, allocate=allocate)
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
    labels: Labels = "binary",
) -> tuple[Any, Any]:
    """(X, Y) from a table written by csv_to_npy, as arrays of `backend`; Dask reads blocks of examples lazily.

    The file is checked first, as tinygraph.models.untrusted.check_table says (its size, dtype,
    finite values and `labels`), so a damaged or hostile file is refused by name.
    """
    from tinygraph.models.untrusted import check_table  # it reads Labels from here

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file; convert the CSV first with csv_to_npy")
    check_table(path, labels)
    if backend == "numpy":
        table = np.load(path)
    else:
        from tinygraph.models.backends import require, to_backend  # other libraries only

        if backend == "dask":
            table = NpyBlocks(path)
            table = require("dask").from_array(table, chunks=(table.shape[0], examples_per_chunk or table.shape[1]))
        else:
            table = to_backend(np.load(path), backend)
    return table[:-1], table[-1:]


# ---- checks ------------------------------------------------------------------------------
def _float_dtype(dtype: DTypeLike) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype.kind != "f" or dtype.itemsize > 8:  # numbers are parsed as float64: a longer type would mislead
        raise ConfigError(f"dtype must be float64, float32 or float16, not {dtype}")
    return dtype


def _check_label_kind(labels: str) -> None:
    if labels not in LABEL_KINDS:
        raise ConfigError(f"labels must be one of {', '.join(map(repr, LABEL_KINDS))}, not {labels!r}")


def _with_labels(path: Path, table: np.ndarray, labels: Labels) -> tuple[np.ndarray, np.ndarray]:
    """(X, Y): the table's feature rows and its label row, whose labels are checked as written."""
    X, Y = table[:-1], table[-1:]
    written = Y if table.dtype == np.float64 else last_row_as_float64(path)  # 1.00000001 would round to 1 in float32
    row = table.shape[0]
    if labels == "binary":
        bad, rule = (written[0] != 0) & (written[0] != 1), "0 or 1"
    else:
        bad, rule = (written[0] < 0) | (written[0] != np.floor(written[0])), "a whole number 0, 1, 2, ..."
    if bad.any():
        column = int(np.argmax(bad))
        raise DataError(
            f"{path}, row {row} (the label row), column {column + 1}: "
            f"the label {float(written[0, column])!r} is not {rule}"
        )
    return X, Y
