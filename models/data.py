"""The notebook's CSV layout: read it fast and in little memory, write it exactly.

The layout (lecture notebook, section 2): no header; each column is one example;
the feature rows come first (for images, the 12288 pixels of a 64x64x3 reshape)
and the last row holds the labels. `train.csv` has 12,289 rows of 2,000 numbers:
about 435 MiB of text for a 188 MiB array.

How the loader needs only a third more memory than the array (pandas' read_csv
peaks at 5x the array; the README's "Benchmarks" gives the figures, times
included): a first pass finds where every line ends, so the array is allocated
once, at its final size; then the file is read in blocks of whole lines, and
each block is checked for ragged rows, parsed by a C parser (pandas' when it is
installed, numpy's loadtxt otherwise) and copied into its rows. Only a block that
fails is read again, slowly, cell by cell, to name the row and the column. Rows
and columns are counted from 1, as a spreadsheet shows them.
"""

from __future__ import annotations

import bisect
import csv
import importlib.util
import io
import os
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, BinaryIO, Literal

import numpy as np
from numpy.typing import DTypeLike

Labels = Literal["binary", "classes"]
LABEL_KINDS: tuple[str, ...] = ("binary", "classes")

# The text is read and parsed a block at a time. On the full-size file
# (benchmarks/bench_csv.py), 8 MB blocks cost about 60 MB above the array (1.3x
# its 188 MB); pandas' parse of the blocks is most of the time. Smaller blocks save
# memory but cost time: the allocator then hands each block's buffers back to the
# system and fresh pages must be faulted in again (2 MB blocks: 1.1x the array).
# Parsing two blocks at once in threads was measured and left out: on 2 cores it
# used half again as much CPU time (both threads fault in fresh pages, which the
# kernel serialises), was no faster, and peaked at 1.4x (4 MB blocks) to 1.7x (8 MB).
BLOCK_BYTES = 8 << 20
# The cell grammar the slow pass accepts: decimal numbers, spaces around them allowed.
NUMBER = re.compile(rb"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")


class DataError(ValueError):
    """A data file that does not hold the notebook's layout; the message names the file, row and column."""


def load_csv(
    path: str | os.PathLike[str],
    dtype: DTypeLike = np.float64,
    labels: Labels = "binary",
    allocate: Callable[[tuple[int, int], np.dtype], np.ndarray] = np.empty,
) -> tuple[np.ndarray, np.ndarray]:
    """Read a CSV file in the notebook's layout into (X, Y): X is nx x n, Y is 1 x n.

    labels="binary" requires every label to be 0 or 1; labels="classes" accepts
    the whole numbers 0, 1, 2, ... of a multi-class problem. Raises DataError
    (naming the file, row and column) for an empty file, ragged rows, cells that
    are not numbers, NaN or infinity, values too large for `dtype`, and labels
    that break the rule; it returns the arrays or raises, never half of them.
    X and Y are views of one table (feature rows, then the label row) made by
    `allocate(shape, dtype)`: by default in memory, or e.g. a memory-mapped file.
    """
    if labels not in LABEL_KINDS:
        raise ValueError(f"labels must be one of {', '.join(map(repr, LABEL_KINDS))}, not {labels!r}")
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"dtype must be a floating-point type such as float64 or float32, not {dtype}")
    path = Path(path)
    table = _read_table(path, dtype, allocate)
    if table.shape[0] < 2:
        raise DataError(f"{path}: found a single row; expected feature rows, then the label row")
    X, Y = table[:-1], table[-1:]
    _check_labels(path, Y, labels, row=table.shape[0])
    return X, Y


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
        raise ValueError(f"write_csv needs X of shape nx x n and Y of shape 1 x n; got X {X.shape} and Y {Y.shape}")
    if not (np.isfinite(X).all() and np.isfinite(Y).all()):
        raise ValueError(f"write_csv: X and Y must be finite ({path} would not load)")
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


def _read_table(path: Path, dtype: np.dtype, allocate: Callable = np.empty) -> np.ndarray:
    """The whole file as one rows x columns array of `dtype`, made by `allocate(shape, dtype)`, every cell checked."""
    parse = _parse_with_pandas if _pandas_available() else _parse_with_numpy
    with open(path, "rb") as file:
        line_ends = _line_ends(file, path)
        columns = _columns(file, path, line_ends[0])
        table = allocate((len(line_ends), columns), dtype)
        for first, bounds, block in _blocks(file, line_ends):
            _check_rectangular(path, block, bounds, first + 1, columns)
            rows = table[first : first + len(bounds)]
            try:
                values = parse(block, columns)
                if values.shape != rows.shape:
                    raise ValueError(f"the parser found {values.shape} values, expected {rows.shape}")
                with np.errstate(over="ignore"):  # a float32 overflow is reported below, with its cell
                    rows[...] = values
            except ValueError as error:
                raise _bad_cell(path, block, bounds, first + 1, dtype, str(error)) from None
            if not np.isfinite(rows).all():
                raise _bad_cell(path, block, bounds, first + 1, dtype, "a value is not finite")
    return table


def _line_ends(file: BinaryIO, path: Path) -> list[int]:
    """The offset just past each line: its line break, or the end of the data for the last line.

    Knowing them, the loader allocates the array once and reads blocks that end
    exactly at the end of a line. Trailing blank lines and spaces are left out.
    """
    end = _data_end(file)
    if end == 0:
        raise DataError(f"{path}: the file is empty")
    file.seek(0)
    line_ends, offset = [], 0
    buffer = bytearray(BLOCK_BYTES)  # one buffer for the whole scan: no memory churn
    while offset < end:
        size = file.readinto(memoryview(buffer)[: min(BLOCK_BYTES, end - offset)])
        newline = buffer.find(b"\n", 0, size)
        while newline >= 0:  # find() is a fast memchr; lines are long, so the loop is short
            line_ends.append(offset + newline + 1)
            newline = buffer.find(b"\n", newline + 1, size)
        offset += size
    line_ends.append(end)
    return line_ends


def _data_end(file: BinaryIO) -> int:
    """The offset just after the last byte that is not white space (0 for an empty file)."""
    end = file.seek(0, os.SEEK_END)
    while end > 0:
        start = max(0, end - (64 << 10))
        file.seek(start)
        tail = file.read(end - start).rstrip()
        if tail:
            return start + len(tail)
        end = start
    return 0


def _columns(file: BinaryIO, path: Path, first_line_end: int) -> int:
    """How many cells the first row has: every other row must have as many."""
    file.seek(0)
    first_line = file.read(first_line_end)
    if not first_line.strip():
        raise DataError(f"{path}, row 1: an empty line (the first row sets how many cells every row has)")
    return first_line.count(b",") + 1


def _blocks(file: BinaryIO, line_ends: list[int]) -> Iterator[tuple[int, list[int], bytes]]:
    """Blocks of whole lines of about BLOCK_BYTES each (at least one line), read in order.

    Yields the index of the block's first line, the ends of its lines relative to
    the block's start, and the block's bytes.
    """
    file.seek(0)
    first, start = 0, 0
    while first < len(line_ends):
        stop = max(first + 1, bisect.bisect_right(line_ends, start + BLOCK_BYTES, lo=first))
        yield first, [end - start for end in line_ends[first:stop]], file.read(line_ends[stop - 1] - start)
        first, start = stop, line_ends[stop - 1]


def _check_rectangular(path: Path, block: bytes, bounds: list[int], first_row: int, columns: int) -> None:
    is_comma = np.frombuffer(block, np.uint8) == ord(",")
    for i, (start, stop) in enumerate(zip([0, *bounds], bounds)):
        cells = np.count_nonzero(is_comma[start:stop]) + 1
        if cells != columns:
            found = "an empty line" if not block[start:stop].strip() else f"{cells} cells"
            raise DataError(f"{path}, row {first_row + i}: {found}, but row 1 has {columns}")


def _parse_with_pandas(block: bytes, columns: int) -> np.ndarray:
    import pandas as pd

    # One number per line: pandas' C parser has a cost per column and per call,
    # which thousands of columns would multiply.
    column = pd.read_csv(
        io.BytesIO(block.replace(b",", b"\n")),
        header=None,
        dtype=np.float64,
        engine="c",
        na_filter=False,  # "nan", "NA" and empty cells are errors, not missing values
        quoting=csv.QUOTE_NONE,
        skip_blank_lines=False,
        low_memory=False,  # a block is small: parse it in one go, not in pieces pandas then joins
    ).to_numpy()
    return column.reshape(-1, columns)


def _parse_with_numpy(block: bytes, columns: int) -> np.ndarray:
    return np.loadtxt(io.BytesIO(block), delimiter=",", dtype=np.float64, ndmin=2, comments=None, quotechar=None)


def _pandas_available() -> bool:
    return importlib.util.find_spec("pandas") is not None


def _bad_cell(
    path: Path, block: bytes, bounds: list[int], first_row: int, dtype: np.dtype, parser_said: str
) -> DataError:
    """The error for the first cell of a failed block that is not a finite number of `dtype`, read one by one."""
    for i, (start, stop) in enumerate(zip([0, *bounds], bounds)):
        for j, cell in enumerate(block[start:stop].rstrip(b"\r\n").split(b",")):
            problem = _cell_problem(cell, dtype)
            if problem:
                return DataError(f"{path}, row {first_row + i}, column {j + 1}: {problem}")
    last_row = first_row + len(bounds) - 1
    return DataError(f"{path}, rows {first_row} to {last_row}: could not be read ({parser_said})")


def _cell_problem(cell: bytes, dtype: np.dtype) -> str | None:
    text = cell.decode("utf-8", errors="replace").strip()
    if not text:
        return "the cell is empty"
    if not NUMBER.fullmatch(cell):
        try:
            value = float(text)  # reads the words nan, inf, infinity
        except ValueError:
            return f"{text[:40]!r} is not a number"
        return f"{text!r} is not a finite number" if not np.isfinite(value) else f"{text!r} is not a plain decimal"
    value = float(text)
    if not np.isfinite(value):
        return f"{text!r} is too large for a float64"
    with np.errstate(over="ignore"):
        if not np.isfinite(dtype.type(value)):
            return f"{text!r} is too large for a {dtype}"
    return None


def _check_labels(path: Path, Y: np.ndarray, labels: Labels, row: int) -> None:
    if labels == "binary":
        bad, rule = (Y[0] != 0) & (Y[0] != 1), "0 or 1"
    else:
        bad, rule = (Y[0] < 0) | (Y[0] != np.floor(Y[0])), "a whole number 0, 1, 2, ..."
    if bad.any():
        column = int(np.argmax(bad))
        raise DataError(
            f"{path}, row {row} (the label row), column {column + 1}: "
            f"the label {float(Y[0, column])!r} is not {rule}"
        )
