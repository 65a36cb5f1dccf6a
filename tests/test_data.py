"""tinygraph.models.data: the notebook's CSV layout, read exactly, and every bad file named by file, row and column."""

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tinygraph.models import _csv, data
from tinygraph.models.data import DataError, csv_to_npy, load_csv, load_npy, load_train_val, write_csv


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of a row or two in parts of a few rows, so that a small file is read in many of both, by several threads."""
    monkeypatch.setattr(_csv, "BLOCK_BYTES", 16)
    monkeypatch.setattr(_csv, "PARSE_THREADS", 3)


def write_text(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def error_for(tmp_path: Path, text: str, **options) -> str:
    path = write_text(tmp_path, text)
    with pytest.raises(DataError) as caught:
        load_csv(path, **options)
    assert str(path) in str(caught.value)
    return str(caught.value)


# --- reading good files -------------------------------------------------------


def test_reads_feature_rows_then_the_label_row(tmp_path):
    X, Y = load_csv(write_text(tmp_path, "0.5,1,2\n3,4,5.25\n0,1,1\n"))
    np.testing.assert_array_equal(X, [[0.5, 1, 2], [3, 4, 5.25]])
    np.testing.assert_array_equal(Y, [[0, 1, 1]])
    assert X.dtype == Y.dtype == np.float64


def test_float32_loads_as_float32(tmp_path):
    X, Y = load_csv(write_text(tmp_path, "0.1,0.2\n1,0\n"), dtype=np.float32)
    assert X.dtype == Y.dtype == np.float32
    np.testing.assert_array_equal(X, np.array([[0.1, 0.2]], dtype=np.float32))


def test_windows_line_ends_spaces_and_trailing_blank_lines_are_accepted(tmp_path):
    X, Y = load_csv(write_text(tmp_path, " 1 ,2\r\n0, 1\r\n\r\n  \n"))
    np.testing.assert_array_equal(X, [[1, 2]])
    np.testing.assert_array_equal(Y, [[0, 1]])


def test_a_last_line_without_a_line_break_is_read(tmp_path):
    _, Y = load_csv(write_text(tmp_path, "1,2\n0,1"))
    np.testing.assert_array_equal(Y, [[0, 1]])


def test_multiclass_labels_are_accepted_with_labels_classes(tmp_path):
    _, Y = load_csv(write_text(tmp_path, "1,2,3\n0,2,1\n"), labels="classes")
    np.testing.assert_array_equal(Y, [[0, 2, 1]])


@st.composite
def layouts(draw):
    """(X, Y): any finite float64 features, 0/1 labels, up to 6 x 6."""
    nx, n = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    X = draw(arrays(np.float64, (nx, n), elements=st.floats(allow_nan=False, allow_infinity=False)))
    Y = draw(arrays(np.float64, (1, n), elements=st.sampled_from([0.0, 1.0])))
    return X, Y


@given(layouts())
def test_values_read_back_exactly_as_written(tmp_path_factory, layout):
    X, Y = layout
    path = tmp_path_factory.mktemp("roundtrip") / "data.csv"
    write_csv(path, X, Y)
    X_read, Y_read = load_csv(path)
    np.testing.assert_array_equal(X_read.view(np.int64), X.view(np.int64))  # bit for bit, -0.0 included
    np.testing.assert_array_equal(Y_read, Y)


def test_many_blocks_read_as_one(tmp_path, small_blocks):
    X = np.arange(60.0).reshape(12, 5) / 7
    path = tmp_path / "data.csv"
    write_csv(path, X, np.array([[0, 1, 0, 1, 1]]))
    np.testing.assert_array_equal(load_csv(path)[0], X)


@pytest.mark.parametrize("columns", [1, 7, 16, 40])
def test_rows_of_any_width_are_read_in_order(tmp_path, small_blocks, columns):
    X = np.arange(9.0 * columns).reshape(9, columns) / 7  # 7 and 40 give lines of 7 and 8 numbers to the parser
    path = tmp_path / "data.csv"
    write_csv(path, X, np.ones((1, columns)))
    np.testing.assert_array_equal(load_csv(path)[0], X)


def test_a_line_longer_than_a_block_is_read(tmp_path, small_blocks):
    X = np.arange(40.0).reshape(2, 20) / 3
    path = tmp_path / "data.csv"
    write_csv(path, X, np.ones((1, 20)))
    np.testing.assert_array_equal(load_csv(path)[0], X)


# --- bad files ------------------------------------------------------------------


BAD_FILES = [
    pytest.param("", ": the file is empty", id="empty file"),
    pytest.param("\n \r\n\n", ": the file is empty", id="only blank lines"),
    pytest.param("0,1,1\n", ": found a single row", id="no feature rows"),
    pytest.param("1,2,3\n4,5\n0,1,1\n", ", row 2: 2 cells, but row 1 has 3", id="short row"),
    pytest.param("1,2,3\n4,5,6,7\n8,9\n0,1,1\n", ", row 2: 4 cells, but row 1 has 3", id="rows evening out in total"),
    pytest.param("1,2\n\n0,1\n", ", row 2: an empty line", id="blank line inside"),
    pytest.param("\n1,2\n0,1\n", ", row 1: an empty line", id="blank first line"),
    pytest.param("1,2,3\n4,5,cat\n0,1,1\n", ", row 2, column 3: 'cat' is not a number", id="word"),
    pytest.param("1,,3\n0,1,1\n", ", row 1, column 2: the cell is empty", id="empty cell"),
    pytest.param('"1",2\n0,1\n', ", row 1, column 1: '\"1\"' is not a number", id="quoted number"),
    pytest.param("1e999,2\n0,1\n", ", row 1, column 1: '1e999' is too large for a float64", id="overflow"),
]


@pytest.mark.parametrize(("text", "expected"), BAD_FILES)
def test_bad_file_is_refused_naming_file_row_and_column(tmp_path, text, expected):
    assert f"data.csv{expected}" in error_for(tmp_path, text)


def test_row_with_an_extra_cell_in_a_later_block_is_ragged(tmp_path, small_blocks):
    message = error_for(tmp_path, "1,2,3\n4,5,6\n7,8,9\n1,2,3,4\n0,1,1\n")
    assert "row 4: 4 cells, but row 1 has 3" in message


def test_non_numeric_cell_in_a_later_block_names_its_row(tmp_path, small_blocks):
    rows = ["1,2,3"] * 9 + ["4,x,6", "0,1,1"]
    assert "row 10, column 2: 'x' is not a number" in error_for(tmp_path, "\n".join(rows))


def test_of_several_bad_blocks_the_first_in_the_file_is_named(tmp_path, small_blocks):
    rows = ["1,2,3"] * 30 + ["4,x,6"] + ["1,2,3"] * 30 + ["7,y,9", "0,1,1"]
    assert "row 31, column 2: 'x' is not a number" in error_for(tmp_path, "\n".join(rows))


def test_a_blank_line_in_a_one_column_file_is_an_empty_cell(tmp_path):
    assert "row 2, column 1: the cell is empty" in error_for(tmp_path, "1\n\n2\n0\n")


def test_a_lone_carriage_return_inside_a_cell_is_refused(tmp_path, monkeypatch):
    for name, value in [("BLOCK_BYTES", 1), ("PARSE_THREADS", 1), ("PARTS_PER_THREAD", 1)]:
        monkeypatch.setattr(_csv, name, value)  # a part of one full block: the case that once read on
    assert "row 1, column 1: '2\\r3' is not a number" in error_for(tmp_path, "2\r3\n1\n0\n")


def test_carriage_returns_before_the_line_break_are_white_space(tmp_path):
    X, Y = load_csv(write_text(tmp_path, "1,2\r\r\n0,1\r\n"))
    np.testing.assert_array_equal(X, [[1, 2]])


def test_a_byte_order_mark_at_the_start_of_the_file_is_skipped(tmp_path):
    X, Y = load_csv(write_text(tmp_path, "\ufeff1,2\n0,1\n"))
    np.testing.assert_array_equal(X, [[1, 2]])


def test_with_a_byte_order_mark_the_first_bad_cell_is_still_named(tmp_path):
    assert "row 2, column 2: 'x' is not a number" in error_for(tmp_path, "\ufeff1,2\n3,x\n0,1\n")


@pytest.mark.parametrize("threads", [1, 2, 3, 4])
def test_a_byte_order_mark_inside_the_file_is_refused_by_any_number_of_threads(tmp_path, small_blocks, threads,
                                                                                monkeypatch):  # fmt: skip
    monkeypatch.setattr(_csv, "PARSE_THREADS", threads)
    rows = ["1,2"] * 16 + ["0,1"]
    rows[3] = "\ufeff5,6"
    assert "row 4, column 1: '\\ufeff5' is not a number" in error_for(tmp_path, "\n".join(rows))


def test_a_cell_with_a_no_break_space_is_shown_with_it(tmp_path):
    assert "column 2: '\\xa01' is not a plain decimal" in error_for(tmp_path, "1,\u00a01\n0,1\n")


def test_float32_labels_are_checked_as_written_not_as_rounded(tmp_path):
    message = error_for(tmp_path, "1,2\n0,1.00000001\n", dtype=np.float32)
    assert "row 2 (the label row), column 2: the label 1.00000001 is not 0 or 1" in message


@pytest.mark.parametrize("word", ["nan", "NaN", "inf", "-inf", "Infinity"])
def test_nan_and_infinity_are_refused(tmp_path, word):
    assert f"row 2, column 2: {word!r} is not a finite number" in error_for(tmp_path, f"1,2\n3,{word}\n0,1\n")


def test_number_too_large_for_float32_is_refused_only_in_float32(tmp_path):
    text = "1e39,2\n0,1\n"
    assert "'1e39' is too large for a float32" in error_for(tmp_path, text, dtype=np.float32)
    assert load_csv(write_text(tmp_path, text, "ok.csv"))[0][0, 0] == 1e39


@pytest.mark.parametrize("label", ["0.5", "2", "-1"])
def test_binary_label_row_must_be_zero_or_one(tmp_path, label):
    message = error_for(tmp_path, f"1,2,3\n0,{label},1\n")
    assert f"row 2 (the label row), column 2: the label {float(label)!r} is not 0 or 1" in message


@pytest.mark.parametrize("label", ["0.5", "-1"])
def test_class_labels_must_be_whole_numbers_from_zero(tmp_path, label):
    message = error_for(tmp_path, f"1,2,3\n0,{label},1\n", labels="classes")
    assert "row 2 (the label row), column 2" in message and "not a whole number" in message


def test_unknown_label_kind_is_refused(tmp_path):
    with pytest.raises(ValueError, match="labels must be one of 'binary', 'classes'"):
        load_csv(write_text(tmp_path, "1\n0\n"), labels="onehot")


def test_integer_dtype_is_refused(tmp_path):
    with pytest.raises(ValueError, match="dtype must be float64, float32 or float16, not int64"):
        load_csv(write_text(tmp_path, "1\n0\n"), dtype=np.int64)


def test_a_float_longer_than_float64_is_refused(tmp_path):
    with pytest.raises(ValueError, match="dtype must be float64, float32 or float16"):
        load_csv(write_text(tmp_path, "1\n0\n"), dtype=np.longdouble)


def test_an_allocator_of_strided_arrays_is_refused(tmp_path):
    def transposed(shape, dtype):
        return np.empty(shape[::-1], dtype).T

    with pytest.raises(ValueError, match="allocate must return a C-contiguous array"):
        load_csv(write_text(tmp_path, "1,2\n0,1\n"), allocate=transposed)


@pytest.mark.parametrize(
    ("shape", "dtype"), [((3, 2), np.float64), ((2, 2), np.float32)], ids=["wrong shape", "wrong dtype"]
)
def test_an_allocator_of_the_wrong_shape_or_dtype_is_refused(tmp_path, shape, dtype):
    with pytest.raises(ValueError, match=r"allocate\(\(2, 2\), float64\) returned an array of shape"):
        load_csv(write_text(tmp_path, "1,2\n0,1\n"), allocate=lambda *_: np.empty(shape, dtype))


def test_data_error_is_a_value_error():
    assert issubclass(DataError, ValueError)


# --- training and validation together ------------------------------------------


def test_train_and_val_load_together(tmp_path):
    train = write_text(tmp_path, "1,2,3\n4,5,6\n0,1,0\n", "train.csv")
    val = write_text(tmp_path, "7,8\n9,10\n1,0\n", "validation.csv")
    shapes = [a.shape for a in load_train_val(train, val)]
    assert shapes == [(2, 3), (1, 3), (2, 2), (1, 2)]


def test_train_and_val_with_different_feature_counts_are_refused(tmp_path):
    train = write_text(tmp_path, "1,2,3\n4,5,6\n0,1,0\n", "train.csv")
    val = write_text(tmp_path, "7,8\n1,0\n", "validation.csv")
    with pytest.raises(DataError) as caught:
        load_train_val(train, val)
    assert f"{train} has 2 feature rows but {val} has 1" in str(caught.value)


# --- writing ----------------------------------------------------------------------


def test_write_csv_writes_whole_number_labels_as_integers(tmp_path):
    path = tmp_path / "data.csv"
    write_csv(path, np.array([[0.5, 0.25]]), np.array([[1.0, 0.0]]))
    assert path.read_text() == "0.5,0.25\n1,0\n"


def test_write_csv_that_fails_leaves_the_old_file_and_no_temporary_one(tmp_path, monkeypatch):
    path = tmp_path / "data.csv"
    write_csv(path, np.ones((1, 2)), np.ones((1, 2)))

    def full_disk(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(data.os, "replace", full_disk)
    with pytest.raises(OSError, match="disk full"):
        write_csv(path, np.zeros((1, 2)), np.zeros((1, 2)))
    assert os.listdir(tmp_path) == ["data.csv"]
    assert path.read_text() == "1.0,1.0\n1,1\n"


def test_write_csv_refuses_mismatched_shapes(tmp_path):
    with pytest.raises(ValueError, match=r"X \(2, 3\) and Y \(1, 2\)"):
        write_csv(tmp_path / "data.csv", np.ones((2, 3)), np.ones((1, 2)))
    assert os.listdir(tmp_path) == []


def test_write_csv_refuses_non_finite_values(tmp_path):
    with pytest.raises(ValueError, match="finite"):
        write_csv(tmp_path / "data.csv", np.array([[np.nan]]), np.ones((1, 1)))


def test_a_file_whose_writing_fails_is_left_as_it_was(tmp_path):
    target = tmp_path / "metrics.json"
    target.write_text("old")

    def fail_halfway(file):
        file.write(b"new, but only half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        data.write_atomically(target, fail_halfway)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


EXAMPLES = np.random.default_rng(0).standard_normal((5, 40)), np.tile([[0.0, 1.0]], 20)


# ---- csv_to_npy and load_npy: the CSV as a .npy file ------------------------------------------------------------------------
def test_csv_to_npy_writes_the_csv_table_that_load_npy_splits_into_X_and_Y(tmp_path):
    X, Y = EXAMPLES
    write_csv(tmp_path / "train.csv", X, Y)
    npy = csv_to_npy(tmp_path / "train.csv")
    assert npy == tmp_path / "train.npy"
    X_loaded, Y_loaded = load_npy(npy)
    np.testing.assert_array_equal(X_loaded, X)
    np.testing.assert_array_equal(Y_loaded, Y)


def test_csv_to_npy_keeps_float32_when_asked(tmp_path):
    write_csv(tmp_path / "train.csv", *EXAMPLES)
    X, Y = load_npy(csv_to_npy(tmp_path / "train.csv", tmp_path / "f32.npy", dtype=np.float32))
    assert X.dtype == np.float32 and Y.dtype == np.float32


def test_csv_to_npy_of_bad_data_raises_the_loaders_error_and_writes_nothing(tmp_path):
    (tmp_path / "t.csv").write_text("0.5,0.25\n0.5,cat\n1,0\n")
    with pytest.raises(DataError, match=r"t.csv, row 2, column 2: 'cat' is not a number"):
        csv_to_npy(tmp_path / "t.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


def test_load_npy_without_the_converted_file_says_how_to_make_it(tmp_path):
    with pytest.raises(DataError, match="train.npy: no such file; convert the CSV first with csv_to_npy"):
        load_npy(tmp_path / "train.npy")
