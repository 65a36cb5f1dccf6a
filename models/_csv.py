"""The notebook's CSV layout, parsed fast and in little memory: the private parser behind tinygraph.models.data.

How the loader needs little more memory than the array, in about the time of
pandas' read_csv (which peaks at 5x the array): a first pass finds where every
line ends, so the array is allocated once, at its final size. Then threads each
take a part of the file and read it a block of rows at a time: the block is
checked for rows with the wrong number of cells, its commas are turned into line
breaks every few numbers (lines of a few numbers parse fastest), and pandas' C
parser, one per part, parses it straight into a chunk that is copied into the
block's rows. Only a block that fails is read again, slowly, cell by cell, to
name the row and the column. Rows and columns are counted from 1, as a
spreadsheet shows them.

Why a parser of our own: no well-kept library matches it on this file's shape,
12,289 rows x 2,000 columns (a 435 MiB file for a 188 MiB array), where wide
tables are the weak side of columnar readers. `python -m benchmarks.bench_csv`
(medians of 3 loads, each in a fresh process, on a shared 2-core machine; peak
resident memory above the imports, as a multiple of the loaded array):

    loader             time (CPU time) as x pandas   peak memory   numbers
    this parser        1.21 (1.12)                   1.06x         bit-identical to pandas 3.1
    pandas.read_csv    1.00 (1.00)                   5.07x
    polars 2.1.0       1.30 (1.27)                   3.04x         the same; explicit Float64 schema

Those three came from one run with polars added to the loaders for it (wall
clock 8.8 to 11.4 s on a machine other jobs loaded; CPU 1.8 to 2.3 s). An
earlier quieter run gave this parser 1.67 s against pandas' 1.31 s, and
pyarrow.csv took 1.7-3.4 s at 6.3x the array.
"""

from __future__ import annotations

import csv
import functools
import math
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import numpy as np

from tinygraph.models.errors import ConfigError, DataError

# The file is cut into parts, which threads parse side by side (pandas' parser
# lets go of Python's global lock); a thread reads its part a block at a time.
# Several parts a thread even out threads that happen to run slower. Each thread
# holds a few times a block in memory, which bounds what the loader needs above
# the array. One parser reads a whole part and keeps its buffers from block to
# block: a parser per block would fault in fresh memory each time (measured on
# the full-size file, that doubled the system time).
BLOCK_BYTES = 1 << 20
PARSE_THREADS = min(4, os.cpu_count() or 1)  # a thread a core; more than 2 were not measured
PARTS_PER_THREAD = 4
# pandas' parser has a cost per line and per column: lines of 8 numbers took about
# 10% less CPU time than one number a line, and a sixth of the file's 2,000 a line.
CELLS_PER_LINE = 8
PARSER_OPTIONS = dict(
    header=None,
    dtype=np.float64,
    engine="c",
    na_filter=False,  # "nan", "NA" and empty cells are errors, not missing values
    quoting=csv.QUOTE_NONE,
    skip_blank_lines=False,
    lineterminator="\n",  # the line ends the loader counts; a lone "\r" is then part of a cell, and an error
    low_memory=False,  # parse each chunk in one go, not in pieces pandas then joins
)
# The byte-order mark some programs (Excel's "CSV UTF-8") write at the start of a file.
BOM = "\ufeff".encode()
# The cell grammar the slow pass accepts: decimal numbers, spaces around them allowed.
NUMBER = re.compile(rb"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")


def read_table(path: Path, dtype: np.dtype, allocate: Callable = np.empty) -> np.ndarray:
    """The whole file as one rows x columns array of `dtype`, made by `allocate(shape, dtype)`, every cell checked."""
    with open(path, "rb") as file:
        line_ends = _line_ends(file, path)
        columns = _columns(file, path, line_ends[0])
    shape = (len(line_ends), columns)
    table = allocate(shape, dtype)
    if table.shape != shape or table.dtype != dtype:
        raise ConfigError(f"allocate({shape}, {dtype}) returned an array of shape {table.shape} and dtype {table.dtype}")
    if not table.flags.c_contiguous:  # blocks are written through reshaped views of its rows
        raise ConfigError(f"allocate must return a C-contiguous array, not one with strides {table.strides}")
    rows = len(line_ends)
    rows_per_block = max(1, BLOCK_BYTES * rows // line_ends[-1])
    parts = _split(range(rows), math.ceil(rows / (PARSE_THREADS * PARTS_PER_THREAD)))
    read_part = functools.partial(_read_part, path, line_ends, table, rows_per_block)
    pool = ThreadPoolExecutor(PARSE_THREADS)
    try:
        for _ in pool.map(read_part, parts):  # raises the first bad part's error, in file order
            pass
    finally:
        pool.shutdown(cancel_futures=True)  # after an error, parts not yet begun are not read
    return table


def _read_part(path: Path, line_ends: list[int], table: np.ndarray, rows_per_block: int, part: range) -> None:
    """Parse the file's rows `part` into the same rows of `table`, a block of rows at a time, checking every cell."""
    import pandas as pd  # here, not at the top: it takes a while to import, and only loading needs it

    columns = table.shape[1]
    group = _cells_per_line(columns)
    blocks = _split(part, rows_per_block)
    rows = blocks[0]
    with _RegroupedText(path, line_ends, blocks, columns) as text:
        try:
            chunks = pd.read_csv(text, chunksize=rows_per_block * (columns // group), **PARSER_OPTIONS)
            for rows in blocks:
                chunk = next(chunks, None)
                block = table[rows.start : rows.stop]
                lines = block.reshape(-1, group)  # a view: the block's numbers as the parser's lines
                if chunk is None or chunk.shape != lines.shape:
                    raise ValueError("the parser found fewer values than the rows hold")
                with np.errstate(over="ignore"):  # a float32 overflow is reported below, with its cell
                    lines[...] = chunk.to_numpy()
                if not np.isfinite(block).all():
                    raise ValueError("a value is not finite")
            if next(chunks, None) is not None:
                raise ValueError("the parser found more values than the rows hold")
        except ValueError as error:
            raise _first_problem(path, line_ends, rows, columns, table.dtype, str(error)) from None


class _RegroupedText:
    """The text of a run of blocks, as pandas' parser reads it: `read(size)` returns the next bytes.

    Each block is read from the file when the parser needs it and checked that
    every row has as many commas as the first; then every `group`-th comma of a
    row becomes a line break, so that the parser sees lines of `group` numbers,
    in the file's order. The text ends early, before a block that fails the check.
    """

    def __init__(self, path: Path, line_ends: list[int], blocks: list[range], columns: int) -> None:
        self._file = open(path, "rb")  # a file of its own: threads read their parts side by side
        self._line_ends, self._commas, self._group = line_ends, columns - 1, _cells_per_line(columns)
        self._blocks = iter(blocks)
        self._text, self._position = memoryview(b""), 0
        # One buffer of each kind for all the blocks: fresh ones for every block would fault in new pages.
        longest = max(stop - start for start, stop in (_span(line_ends, rows) for rows in blocks))
        self._buffer, self._is_comma = bytearray(longest), np.empty(longest, dtype=bool)

    def read(self, size: int = -1) -> bytes:
        while self._position == len(self._text):
            rows = next(self._blocks, None)
            if rows is None:
                return b""
            self._text, self._position = self._regrouped(rows), 0
        end = len(self._text) if size < 0 else self._position + size
        piece = bytes(self._text[self._position : end])
        self._position += len(piece)
        return piece

    def _regrouped(self, rows: range) -> memoryview:
        """The text of the lines `rows`, checked and regrouped; empty (and the end) if the check fails."""
        start, stop = _span(self._line_ends, rows)
        text = memoryview(self._buffer)[: stop - start]
        self._file.seek(start)
        self._file.readinto(text)
        # pandas would skip a byte-order mark at the start of its text unseen: the file's
        # own mark becomes space before the first number; one inside the file is an error.
        marked = text[: len(BOM)] == BOM
        if marked and rows.start == 0:
            text[: len(BOM)] = b" " * len(BOM)
        characters = np.frombuffer(text, np.uint8)
        commas = np.flatnonzero(np.equal(characters, ord(","), out=self._is_comma[: len(characters)]))
        ends = np.array(self._line_ends[rows.start : rows.stop]) - start
        if (marked and rows.start != 0) or not _commas_per_line_are(commas, ends, self._commas):
            self._blocks = iter(())  # the parser falls short here, and the slow pass names the row
            return memoryview(b"")
        per_row = commas.reshape(len(rows), self._commas)
        characters[per_row[:, self._group - 1 :: self._group]] = ord("\n")
        return text

    def __enter__(self) -> _RegroupedText:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._file.close()


def _line_ends(file: BinaryIO, path: Path) -> list[int]:
    """The offset just past each line: its line break, or the end of the data for the last line.

    Knowing them, the loader allocates the array once and reads blocks that end
    exactly at the end of a line. Trailing blank lines and spaces are left out.
    Threads search pieces of the file side by side.
    """
    end = _data_end(file)
    if end == 0:
        raise DataError(f"{path}: the file is empty")
    pieces = _split(range(end), math.ceil(end / PARSE_THREADS))
    with ThreadPoolExecutor(PARSE_THREADS) as pool:
        found = pool.map(functools.partial(_line_breaks, path), pieces)
        return [offset for offsets in found for offset in offsets] + [end]


def _line_breaks(path: Path, piece: range) -> list[int]:
    """The offsets just past the line breaks in the bytes `piece` of the file."""
    offsets = []
    buffer = bytearray(BLOCK_BYTES)  # one buffer for the whole piece: no memory churn
    with open(path, "rb") as file:
        file.seek(piece.start)
        for start in range(piece.start, piece.stop, BLOCK_BYTES):
            size = file.readinto(memoryview(buffer)[: min(BLOCK_BYTES, piece.stop - start)])
            newline = buffer.find(b"\n", 0, size)
            while newline >= 0:  # find() is a fast memchr; lines are long, so the loop is short
                offsets.append(start + newline + 1)
                newline = buffer.find(b"\n", newline + 1, size)
    return offsets


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
    first_line = file.read(first_line_end).removeprefix(BOM)
    if not first_line.strip():
        raise DataError(f"{path}, row 1: an empty line (the first row sets how many cells every row has)")
    return first_line.count(b",") + 1


def _span(line_ends: list[int], rows: range) -> tuple[int, int]:
    """Where the text of the lines `rows` starts and ends in the file."""
    return (line_ends[rows.start - 1] if rows.start else 0), line_ends[rows.stop - 1]


def _split(rows: range, size: int) -> list[range]:
    """`rows` in consecutive ranges of `size` rows (the last one shorter)."""
    return [range(first, min(first + size, rows.stop)) for first in range(rows.start, rows.stop, size)]


def _commas_per_line_are(commas: np.ndarray, line_ends: np.ndarray, per_line: int) -> bool:
    """Whether every line holds exactly `per_line` of the commas (their offsets, in order).

    Dealt out `per_line` at a time from the top, each line's share of the commas
    lies within that line only if no line has one too many or one too few.
    """
    lines = len(line_ends)
    if commas.size != lines * per_line:
        return False
    if per_line == 0:
        return True
    shares = commas.reshape(lines, per_line)
    line_starts = np.concatenate(([0], line_ends[:-1]))
    return bool((shares[:, 0] >= line_starts).all() and (shares[:, -1] < line_ends).all())


def _cells_per_line(columns: int) -> int:
    """The largest divisor of `columns` up to CELLS_PER_LINE: how many numbers a line gets for the parser."""
    return next(k for k in range(CELLS_PER_LINE, 0, -1) if columns % k == 0)


def _first_problem(
    path: Path, line_ends: list[int], rows: range, columns: int, dtype: np.dtype, parser_said: str
) -> DataError:
    """The error for the first row of `rows` without `columns` cells or the first cell that is not a finite number.

    The slow pass: the rows are read again and every cell is checked on its own.
    """
    start, stop = _span(line_ends, rows)
    with open(path, "rb") as file:
        file.seek(start)
        text = file.read(stop - start)
    if rows.start == 0:
        text = text.removeprefix(BOM)
    for row, line in zip(range(rows.start + 1, rows.stop + 1), text.split(b"\n")):
        cells = line.rstrip(b"\r").split(b",")
        if len(cells) != columns:
            found = "an empty line" if not line.strip() else f"{len(cells)} cells"
            return DataError(f"{path}, row {row}: {found}, but row 1 has {columns}")
        for column, cell in enumerate(cells, start=1):
            problem = _cell_problem(cell, dtype)
            if problem:
                return DataError(f"{path}, row {row}, column {column}: {problem}")
    return DataError(f"{path}, rows {rows.start + 1} to {rows.stop}: could not be read ({parser_said})")


def _cell_problem(cell: bytes, dtype: np.dtype) -> str | None:
    text = cell.decode("utf-8", errors="replace").strip(" \t\n\r\v\f")  # what the parser skips, no more
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


def last_row_as_float64(path: Path) -> np.ndarray:
    """The file's last row (its cells already checked) as a 1 x n float64 array."""
    with open(path, "rb") as file:
        end = start = _data_end(file)
        while start > 0:  # step back to the line break before the last row
            step = min(start, 64 << 10)
            file.seek(start - step)
            line_break = file.read(step).rfind(b"\n")
            start -= step
            if line_break >= 0:
                start += line_break + 1
                break
        file.seek(start)
        return np.array([[float(cell) for cell in file.read(end - start).removeprefix(BOM).split(b",")]])
