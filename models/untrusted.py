"""Reading numpy files that anyone may have written: params.npz and the CSV converter's .npy tables.

Every header is read and checked before any array: the names, the dtypes
(floating point; never Python objects, so nothing is ever unpickled), the
shapes against the architecture the file states, and the bytes each array
really holds. Only then are the arrays read, and their values checked finite.
So a file cannot make tinygraph allocate more than the arrays it holds (and
those are held to the memory available). Errors name the file and the key, and
never suggest loading a file "unsafely".

    saved = read_params(path)              # SavedParams(arrays, architecture or None)
    check_table(path)                      # a .npy table: nx + 1 rows, labels last
"""

from __future__ import annotations

import json
import math
import os
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from tinygraph.models.data import Labels
from tinygraph.models.errors import DataError, ParameterError
from tinygraph.models.cnn import KERNEL as CNN_KERNEL
from tinygraph.models.mlp import ACTIVATIONS
from tinygraph.models.resources import check_fits

ARCHITECTURE = "architecture"  # the entry of params.npz that says which network its arrays make
ARCHITECTURE_KEYS = {"network": False, "layer_sizes": True, "activations": True, "output": False, "dropout": False}
CNN_KEYS = {"image_shape": True, "filters": True, "augment": False, "shift": False}  # a CNN's, besides
NETWORKS = ("MLP", "Classifier", "CNN")  # what an architecture's "network" may name
MAX_ARCHITECTURE_CHARACTERS = 1 << 16
MAX_HEADER_BYTES = 10_000  # numpy's own limit on a header it reads without trusting
NPY_MAGIC, ZIP_MAGIC = b"\x93NUMPY", b"PK\x03\x04"
PARAMETER = re.compile(r"([Wb])([1-9][0-9]*)")
CHANGED = "damaged (its data do not match the archive's checksum)"
COLUMNS_PER_CHECK = 1 << 14  # columns of a .npy table checked at a time: a large table is never read whole


@dataclass
class SavedParams:
    """What a params.npz holds: parameter arrays by name, and the architecture (None: the notebook's classifier)."""

    arrays: dict[str, np.ndarray]
    architecture: dict[str, Any] | None

    @property
    def layer_sizes(self) -> list[int]:
        if self.architecture is not None:
            return list(self.architecture["layer_sizes"])
        nh, nx = self.arrays["W1"].shape
        return [nx, nh, 1]


@dataclass(frozen=True)
class Header:
    """What a .npy header promises: the shape, the dtype, and where the data begin."""

    shape: tuple[int, ...]
    dtype: np.dtype
    offset: int
    fortran_order: bool = False

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


# ---- params.npz -------------------------------------------------------------------------
def read_params(source: str | os.PathLike[str] | IO[bytes], name: str | None = None) -> SavedParams:
    """The parameters and architecture in a params.npz, every part checked; ParameterError naming `name` otherwise.

    `source` is a path or an open binary file (e.g. standard input, read into memory);
    `name` is what messages call it (default: the path).
    """
    name = name or str(source)
    with _open_archive(source, name) as archive:
        members = _members(archive, name)
        headers = {key: _member_header(archive, info, name, key) for key, info in members.items()}
        architecture = None
        if ARCHITECTURE in members:
            architecture = _read_architecture(archive, members[ARCHITECTURE], headers[ARCHITECTURE], name)
        expected = _expected_shapes(architecture, headers, name)
        _check_keys_and_shapes(expected, headers, name)
        check_fits(sum(headers[key].nbytes for key in expected), f"{name}: its parameters")
        arrays = {key: _read_member(archive, members[key], headers[key], name, key) for key in expected}
    for key, array in arrays.items():
        bad = first_not_finite(array)
        if bad is not None:
            raise ParameterError(f"{name}: {key}: holds {float(array[bad])!r} at {bad}; parameters must be finite")
    return SavedParams(arrays, architecture)


def _open_archive(source: str | os.PathLike[str] | IO[bytes], name: str) -> zipfile.ZipFile:
    """The zip archive that a .npz file is; a ParameterError that says what the file is instead."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as file:  # a missing file's OSError names it
            start = file.read(len(NPY_MAGIC))
    else:
        start = source.read(len(NPY_MAGIC))
        source.seek(0)
    if not start:
        raise ParameterError(f"{name}: the file is empty; expected a params.npz written by tinygraph train")
    if start.startswith(NPY_MAGIC):
        raise ParameterError(f"{name}: holds a single .npy array, not a .npz archive of parameters")
    if not start.startswith(ZIP_MAGIC):
        raise ParameterError(
            f"{name}: not a .npz archive of parameters (a zip of .npy arrays, as tinygraph train writes)"
        )
    try:
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):  # a zip cut short loses its directory
        raise ParameterError(f"{name}: a damaged or truncated .npz archive") from None


def _members(archive: zipfile.ZipFile, name: str) -> dict[str, zipfile.ZipInfo]:
    """The archive's arrays by key (the member name without .npy); anything else is refused by name."""
    members: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        key = info.filename.removesuffix(".npy")
        if key == info.filename or info.is_dir():
            raise ParameterError(f"{name}: holds {info.filename!r}, which is not a .npy array")
        if key in members:
            raise ParameterError(f"{name}: holds the key {key!r} twice")
        members[key] = info
    return members


def _member_header(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, key: str) -> Header:
    """The header of one member, checked against the member's size: the data must be all there."""
    where = f"{name}: {key}"
    try:
        with archive.open(info) as member:
            header = read_header(member, where)
    except DataError as error:
        raise ParameterError(str(error)) from None
    except zipfile.BadZipFile:  # the zip reader reads ahead, so a changed byte anywhere in a small array shows here
        raise ParameterError(f"{where}: {CHANGED}") from None
    except (OSError, EOFError, ValueError):
        raise ParameterError(f"{where}: damaged (its .npy header cannot be read)") from None
    if info.file_size != header.offset + header.nbytes:
        raise ParameterError(
            f"{where}: holds {info.file_size - header.offset} bytes of data, but its header promises "
            f"{header.nbytes} for shape {header.shape} of {header.dtype} (truncated or damaged)"
        )
    return header


def _read_architecture(archive: zipfile.ZipFile, info: zipfile.ZipInfo, header: Header, name: str) -> dict[str, Any]:
    """The architecture entry: JSON text of an object with layer_sizes, activations, and maybe output and dropout."""
    where = f"{name}: {ARCHITECTURE}"
    if header.dtype.kind != "U" or header.shape != () or header.dtype.itemsize > 4 * MAX_ARCHITECTURE_CHARACTERS:
        raise ParameterError(
            f"{where}: must be a short text (JSON), not an array of shape {header.shape} of {header.dtype}"
        )
    text = str(_read_member(archive, info, header, name, ARCHITECTURE))
    try:
        architecture = json.loads(text)
    except ValueError:
        raise ParameterError(f"{where}: is not JSON ({text[:60]!r})") from None
    return check_architecture(architecture, where)


def check_architecture(architecture: Any, where: str) -> dict[str, Any]:
    """`architecture` if it has the form MLP.architecture() gives; a ParameterError naming the part that is wrong."""
    if not isinstance(architecture, dict):
        raise ParameterError(
            f"{where}: must be a JSON object with layer_sizes and activations, not {architecture!r:.60}"
        )
    network = architecture.get("network", "MLP")
    if network not in NETWORKS:
        raise ParameterError(f"{where}: network {network!r:.40} is not one of {', '.join(NETWORKS)}")
    keys = ARCHITECTURE_KEYS | (CNN_KEYS if network == "CNN" else {})
    unknown = sorted(set(architecture) - keys.keys())
    missing = [key for key, required in keys.items() if required and key not in architecture]
    if unknown or missing:
        wrong = f"unknown keys {unknown}" if unknown else f"lacks {missing}"
        raise ParameterError(f"{where}: {wrong}; expected {', '.join(keys)}")
    if network == "CNN":
        check_cnn(architecture, where)
    sizes, activations = architecture["layer_sizes"], architecture["activations"]
    if not (isinstance(sizes, list) and len(sizes) >= 2 and all(_is_count(size) for size in sizes)):
        raise ParameterError(
            f"{where}: layer_sizes must be a list of 2 or more whole numbers of at least 1, not {sizes!r:.60}"
        )
    if not (isinstance(activations, list) and len(activations) == len(sizes) - 2):
        raise ParameterError(f"{where}: activations must be a list of {len(sizes) - 2} names, one per hidden layer")
    unknown_activations = [a for a in activations if not isinstance(a, str) or a not in ACTIVATIONS]
    if unknown_activations:
        raise ParameterError(
            f"{where}: unknown activation {unknown_activations[0]!r:.40}; one of {', '.join(ACTIVATIONS)}"
        )
    if network == "Classifier" and (len(sizes) != 3 or sizes[-1] != 1 or activations != ["relu"]):
        raise ParameterError(f"{where}: the notebook's Classifier has layer_sizes [nx, nh, 1] and activations ['relu']")
    output = "sigmoid" if sizes[-1] == 1 else "softmax"
    if architecture.get("output", output) != output:
        raise ParameterError(f"{where}: output {architecture['output']!r:.40} does not fit {sizes[-1]} output units")
    dropout = architecture.get("dropout", 0.0)
    if not (isinstance(dropout, (int, float)) and not isinstance(dropout, bool) and 0 <= dropout < 1):
        raise ParameterError(f"{where}: dropout must be a number from 0 up to (not including) 1, not {dropout!r:.40}")
    return architecture


def check_cnn(architecture: Mapping[str, Any], where: str) -> None:
    """A CNN's own entries: the image shape, the blocks' filters, and that the blocks feed the dense layers."""
    shape, filters = architecture["image_shape"], architecture["filters"]
    if not (isinstance(shape, list) and len(shape) == 3 and all(_is_count(size) for size in shape)):
        raise ParameterError(f"{where}: image_shape must be [height, width, channels], not {shape!r:.60}")
    if not (isinstance(filters, list) and filters and all(_is_count(size) for size in filters)):
        raise ParameterError(f"{where}: filters must be a list of 1 or more whole numbers, not {filters!r:.60}")
    if not isinstance(architecture.get("augment", False), bool):
        raise ParameterError(f"{where}: augment must be true or false")
    shift = architecture.get("shift", 1)
    if not (isinstance(shift, int) and not isinstance(shift, bool) and shift >= 0):
        raise ParameterError(f"{where}: shift must be a whole number of pixels, not {shift!r:.40}")
    height, width, _ = shape
    blocks = len(filters)
    features = filters[-1] * (height >> blocks) * (width >> blocks)
    if features < 1 or architecture["layer_sizes"][0] != features:
        raise ParameterError(
            f"{where}: {blocks} blocks of {filters} filters on {height} x {width} images give {features} features, "
            f"but layer_sizes starts with {architecture['layer_sizes'][0]}"
        )


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _expected_shapes(
    architecture: Mapping[str, Any] | None, headers: Mapping[str, Header], name: str
) -> dict[str, tuple[int, ...]]:
    """Each parameter's shape: from the architecture, or (the notebook's classifier) from W1's header."""
    shapes: dict[str, tuple[int, ...]] = {}
    if architecture is not None and architecture.get("network") == "CNN":  # the blocks' filter banks come first
        channels = architecture["image_shape"][2]
        for block, filters in enumerate(architecture["filters"], start=1):
            shapes[f"W{block}"], shapes[f"b{block}"] = (filters, channels, CNN_KERNEL, CNN_KERNEL), (filters,)
            channels = filters
    if architecture is not None:
        sizes = architecture["layer_sizes"]
    elif "W1" in headers and len(headers["W1"].shape) == 2:
        nh, nx = headers["W1"].shape
        sizes = [nx, nh, 1]
    else:
        raise ParameterError(f"{name}: W1 is missing or not a matrix (found {sorted(headers)})")
    for layer, (n_in, n_out) in enumerate(zip(sizes, sizes[1:]), start=len(shapes) // 2 + 1):
        shapes[f"W{layer}"], shapes[f"b{layer}"] = (n_out, n_in), (n_out, 1)
    return shapes


def _check_keys_and_shapes(expected: Mapping[str, tuple[int, ...]], headers: Mapping[str, Header], name: str) -> None:
    parameters = {key: header for key, header in headers.items() if key != ARCHITECTURE}
    unknown = sorted(set(parameters) - expected.keys(), key=_parameter_order)
    if unknown:
        raise ParameterError(f"{name}: {unknown[0]}: not a parameter of this network (it has {', '.join(expected)})")
    missing = [key for key in expected if key not in parameters]
    if missing:
        raise ParameterError(f"{name}: {missing[0]}: missing (the network needs {', '.join(expected)})")
    dtypes = {_native(header.dtype) for header in parameters.values()}
    for key, shape in expected.items():
        header = parameters[key]
        if header.dtype.kind != "f" or header.dtype.itemsize > 8:
            raise ParameterError(f"{name}: {key}: holds {header.dtype}, not float16, float32 or float64 numbers")
        if header.shape != shape:
            raise ParameterError(f"{name}: {key}: has shape {header.shape}, but the network needs {shape}")
    if len(dtypes) > 1:
        raise ParameterError(f"{name}: the parameters mix dtypes {sorted(map(str, dtypes))}; they must share one")


def _parameter_order(key: str) -> tuple[int, str]:
    match = PARAMETER.fullmatch(key)
    return (int(match.group(2)), match.group(1)) if match else (0, key)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, header: Header, name: str, key: str) -> np.ndarray:
    """The array of a member whose header was checked: exactly header.nbytes bytes after the header."""
    try:
        with archive.open(info) as member:
            member.read(header.offset)
            data = member.read(header.nbytes)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        raise ParameterError(f"{name}: {key}: {CHANGED}") from None
    if len(data) != header.nbytes:
        raise ParameterError(f"{name}: {key}: truncated")
    order = "F" if header.fortran_order else "C"
    return np.frombuffer(data, dtype=header.dtype).reshape(header.shape, order=order).astype(_native(header.dtype))


def _native(dtype: np.dtype) -> np.dtype:
    """`dtype` in this machine's byte order (a file may hold big-endian numbers)."""
    return dtype.newbyteorder("=")


# ---- .npy headers and tables --------------------------------------------------------------
def read_header(file: IO[bytes], where: str) -> Header:
    """The header of the .npy data in `file` (positioned at its start); DataError naming `where` if it is not one."""
    try:
        version = np.lib.format.read_magic(file)
        reader = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if reader is None:
            raise DataError(f"{where}: a .npy format version {version} that tinygraph does not read")
        shape, fortran_order, dtype = reader(file, max_header_size=MAX_HEADER_BYTES)
    except DataError:
        raise
    except (ValueError, OSError, EOFError, SyntaxError, TypeError):
        raise DataError(f"{where}: not a .npy array (its header cannot be read)") from None
    if dtype.hasobject:
        raise DataError(f"{where}: holds Python objects, which tinygraph never loads; expected numbers")
    return Header(tuple(shape), dtype, file.tell(), fortran_order)


def check_table(path: str | os.PathLike[str], labels: Labels = "binary") -> Header:
    """Check a .npy table as csv_to_npy writes it (feature rows, then a label row), without reading it whole.

    The header: floating point, 2-D, at least two rows and one column; the file's
    size: exactly the header and the data it promises; the values: finite; the
    last row: labels 0/1 (or 0, 1, 2, ... for labels="classes"). DataError names
    the file, and the row and column of a bad value (counted from 1).
    """
    path = Path(path)
    with open(path, "rb") as file:
        header = read_header(file, str(path))
    if header.dtype.kind != "f" or header.dtype.itemsize > 8:
        raise DataError(f"{path}: holds {header.dtype}, not float16, float32 or float64 numbers")
    if len(header.shape) != 2 or header.shape[0] < 2 or header.shape[1] < 1:
        raise DataError(
            f"{path}: has shape {header.shape}; expected feature rows, then the label row, of 1 or more columns"
        )
    size = path.stat().st_size
    if size != header.offset + header.nbytes:
        raise DataError(
            f"{path}: holds {size - header.offset} bytes of data, but its header promises {header.nbytes} "
            f"for shape {header.shape} of {header.dtype} (truncated or damaged)"
        )
    order = "F" if header.fortran_order else "C"
    table = np.memmap(path, dtype=header.dtype, mode="r", offset=header.offset, shape=header.shape, order=order)
    for first in range(0, header.shape[1], COLUMNS_PER_CHECK):
        block = np.asarray(table[:, first : first + COLUMNS_PER_CHECK])
        bad = first_not_finite(block)
        if bad is not None:
            row, column = bad[0] + 1, first + bad[1] + 1
            raise DataError(f"{path}, row {row}, column {column}: {float(block[bad])!r} is not a finite number")
        _check_labels(block[-1], labels, f"{path}, row {header.shape[0]} (the label row)", first)
    return header


def _check_labels(row: np.ndarray, labels: Labels, where: str, first: int) -> None:
    """DataError naming the column of the first label in `row` (columns first + 1, ...) that breaks the rule."""
    bad = (row != 0) & (row != 1) if labels == "binary" else (row < 0) | (row != np.floor(row))
    if bad.any():
        column = int(np.argmax(bad))
        rule = "0 or 1" if labels == "binary" else "a whole number 0, 1, 2, ..."
        raise DataError(f"{where}, column {first + column + 1}: the label {float(row[column])!r} is not {rule}")


def first_not_finite(array: np.ndarray) -> tuple[int, ...] | None:
    """The index of the first NaN or infinity in `array`, or None if every value is finite."""
    finite = np.isfinite(array)
    if finite.all():
        return None
    return tuple(int(i) for i in np.unravel_index(int(np.argmin(finite)), array.shape))
