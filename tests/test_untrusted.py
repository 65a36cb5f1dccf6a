"""Hostile and damaged params.npz and .npy files are refused by name, before any network is built."""

import io
import json
import pickle
import tracemalloc
import zipfile

import numpy as np
import pytest

from tinygraph.models import resources
from tinygraph.models.cnn import CNN
from tinygraph.models.errors import DataError, ParameterError
from tinygraph.models.mlp import MLP
from tinygraph.models.data import load_npy
from tinygraph.models.untrusted import check_table, read_params


def save(path, arrays: dict, architecture=None) -> None:
    extra = {} if architecture is None else {"architecture": np.array(json.dumps(architecture))}
    np.savez(path, **arrays, **extra)


@pytest.fixture
def mlp():
    return MLP([3, 4, 2], "tanh", seed=0)


@pytest.fixture
def params(tmp_path, mlp):
    """A params.npz as tinygraph train writes it."""
    path = tmp_path / "params.npz"
    save(path, mlp.arrays(), mlp.architecture())
    return path


def refusal(path) -> str:
    with pytest.raises(ParameterError) as error:
        read_params(path)
    message = str(error.value)
    assert "allow_pickle" not in message and "pickle.load" not in message  # never advise loading unsafely
    return message


def test_a_file_tinygraph_writes_reads_back_exactly(params, mlp):
    saved = read_params(params)
    assert saved.architecture == mlp.architecture()
    assert {key: array.tobytes() for key, array in saved.arrays.items()} == {
        key: array.tobytes() for key, array in mlp.arrays().items()
    }


def test_the_notebooks_classifier_has_no_architecture_entry(tmp_path):
    arrays = {"W1": np.ones((5, 2)), "b1": np.zeros((5, 1)), "W2": np.ones((1, 5)), "b2": np.zeros((1, 1))}
    save(tmp_path / "p.npz", arrays)
    saved = read_params(tmp_path / "p.npz")
    assert saved.architecture is None and saved.layer_sizes == [2, 5, 1]


def test_a_cnn_reads_back_with_its_filter_banks(tmp_path):
    cnn = CNN([8, 8, 1], [2, 3], [5], 3, seed=0)
    save(tmp_path / "p.npz", cnn.arrays(), cnn.architecture())
    saved = read_params(tmp_path / "p.npz")
    assert {key: array.shape for key, array in saved.arrays.items()} == {key: a.shape for key, a in cnn.arrays().items()}


def test_a_cnn_whose_blocks_do_not_feed_its_dense_layers_is_refused(tmp_path):
    cnn = CNN([8, 8, 1], [2, 3], [5], 3, seed=0)
    save(tmp_path / "p.npz", cnn.arrays(), cnn.architecture() | {"filters": [2, 4]})
    assert refusal(tmp_path / "p.npz") == (
        f"{tmp_path / 'p.npz'}: architecture: 2 blocks of [2, 4] filters on 8 x 8 images give 16 features, "
        "but layer_sizes starts with 12"
    )


def test_parameters_stored_in_fortran_order_read_back_the_same(tmp_path, mlp):
    arrays = {key: np.asfortranarray(array) for key, array in mlp.arrays().items()}
    save(tmp_path / "p.npz", arrays, mlp.architecture())
    assert all(np.array_equal(read_params(tmp_path / "p.npz").arrays[k], a) for k, a in arrays.items())


NOT_AN_ARCHIVE = "not a .npz archive of parameters (a zip of .npy arrays, as tinygraph train writes)"


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "the file is empty; expected a params.npz written by tinygraph train"),
        (b"W1,b1\n1,2\n", NOT_AN_ARCHIVE),
        (pickle.dumps({"W1": [1.0]}), NOT_AN_ARCHIVE),
    ],
)
def test_files_that_are_not_archives_are_named_for_what_they_are(tmp_path, content, message):
    (tmp_path / "p.npz").write_bytes(content)
    assert refusal(tmp_path / "p.npz") == f"{tmp_path / 'p.npz'}: {message}"


def test_a_single_npy_array_is_not_an_archive(tmp_path):
    np.save(tmp_path / "p.npy", np.ones(3))
    assert refusal(tmp_path / "p.npy").endswith("holds a single .npy array, not a .npz archive of parameters")


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_a_truncated_archive_is_damaged(params, keep):
    content = params.read_bytes()
    params.write_bytes(content[: int(len(content) * keep)])
    assert refusal(params) == f"{params}: a damaged or truncated .npz archive"


def test_changed_bytes_inside_an_array_fail_the_checksum(params):
    content = bytearray(params.read_bytes())
    at = content.index(b"\x93NUMPY", content.index(b"W1.npy")) + 200  # inside W1's data
    content[at] ^= 0xFF
    params.write_bytes(bytes(content))
    assert refusal(params) == f"{params}: W1: damaged (its data do not match the archive's checksum)"


@pytest.mark.parametrize(
    "architecture, message",
    [
        ("42", "must be a JSON object with layer_sizes and activations, not 42"),
        ('{"layer_sizes": [3, 4, 2]}', "lacks ['activations']; expected network, layer_sizes, activations, output"),
        ('{"layer_sizes": [3, 4, 2], "activations": ["tanh"], "code": "rm -rf"}', "unknown keys ['code']"),
        ('{"layer_sizes": [3, true, 2], "activations": ["tanh"]}', "layer_sizes must be a list of 2 or more whole"),
        ('{"layer_sizes": [3, 4, 2], "activations": ["tanh", "relu"]}', "activations must be a list of 1 names"),
        ('{"layer_sizes": [3, 4, 2], "activations": ["eval"]}', "unknown activation 'eval'; one of relu"),
        ('{"layer_sizes": [3, 4, 2], "activations": ["tanh"], "output": "sigmoid"}', "output 'sigmoid' does not fit 2"),
        ('{"layer_sizes": [3, 4, 2], "activations": ["tanh"], "dropout": 1.5}', "dropout must be a number from 0"),
        ("{not json", "is not JSON ('{not json')"),
        ('{"network": "os.system", "layer_sizes": [3, 4, 2], "activations": ["tanh"]}',
         "network 'os.system' is not one of MLP, Classifier"),
        ('{"network": "Classifier", "layer_sizes": [3, 4, 2], "activations": ["tanh"]}',
         "the notebook's Classifier has layer_sizes [nx, nh, 1] and activations ['relu']"),
    ],
)  # fmt: skip
def test_an_architecture_of_the_wrong_form_is_refused_naming_what_is_wrong(tmp_path, mlp, architecture, message):
    np.savez(tmp_path / "p.npz", **mlp.arrays(), architecture=np.array(architecture))
    assert refusal(tmp_path / "p.npz").startswith(f"{tmp_path / 'p.npz'}: architecture: {message}")


def test_an_architecture_claiming_two_billion_units_allocates_nothing(tmp_path, mlp):
    save(tmp_path / "p.npz", mlp.arrays(), {"layer_sizes": [3, 2_000_000_000, 2], "activations": ["tanh"]})
    tracemalloc.start()
    try:
        message = refusal(tmp_path / "p.npz")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert message == f"{tmp_path / 'p.npz'}: W1: has shape (4, 3), but the network needs (2000000000, 3)"
    assert peak < 1 << 20


def test_an_honest_file_larger_than_memory_is_refused_before_reading(params, monkeypatch):
    monkeypatch.setattr(resources, "available_bytes", lambda: 100)
    with pytest.raises(resources.ResourceError) as error:
        read_params(params)
    assert str(error.value) == f"{params}: its parameters: needs about 208 bytes of memory, but 100 bytes is available"


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_parameters_that_are_not_finite_are_refused_naming_the_key_and_entry(tmp_path, mlp, value):
    arrays = mlp.arrays()
    arrays["W2"][1, 3] = value
    save(tmp_path / "p.npz", arrays, mlp.architecture())
    expected = f"{tmp_path / 'p.npz'}: W2: holds {value!r} at (1, 3); parameters must be finite"
    assert refusal(tmp_path / "p.npz") == expected


def test_an_object_array_is_refused_and_never_unpickled(tmp_path, mlp):
    class Payload:
        def __reduce__(self):
            return (open, (str(tmp_path / "pwned"), "w"))

    arrays = mlp.arrays() | {"W1": np.array([Payload()], dtype=object)}
    np.savez(tmp_path / "p.npz", **arrays, architecture=np.array(json.dumps(mlp.architecture())))
    assert refusal(tmp_path / "p.npz") == (
        f"{tmp_path / 'p.npz'}: W1: holds Python objects, which tinygraph never loads; expected numbers"
    )
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a | {"W3": np.ones((2, 2))}, "W3: not a parameter of this network (it has W1, b1, W2, b2)"),
        (lambda a: {k: v for k, v in a.items() if k != "b2"}, "b2: missing (the network needs W1, b1, W2, b2)"),
        (lambda a: a | {"b1": np.ones((4, 1), dtype=np.int64)},
         "b1: holds int64, not float16, float32 or float64 numbers"),
        (lambda a: a | {"b1": np.ones((4, 1), dtype=np.float32)},
         "the parameters mix dtypes ['float32', 'float64']; they must share one"),
        (lambda a: a | {"W2": np.ones((3, 4))}, "W2: has shape (3, 4), but the network needs (2, 4)"),
    ],
)  # fmt: skip
def test_keys_dtypes_and_shapes_must_fit_the_architecture(tmp_path, mlp, change, message):
    save(tmp_path / "p.npz", change(mlp.arrays()), mlp.architecture())
    assert refusal(tmp_path / "p.npz") == f"{tmp_path / 'p.npz'}: {message}"


def test_a_header_promising_more_data_than_the_member_holds_is_refused(tmp_path, mlp):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (4, 3)})
    with zipfile.ZipFile(tmp_path / "p.npz", "w") as archive:
        for key, array in mlp.arrays().items():
            buffer = io.BytesIO()
            np.save(buffer, array)
            archive.writestr(f"{key}.npy", header.getvalue() + b"\0" * 8 if key == "W1" else buffer.getvalue())
        archive.writestr("architecture.npy", _npy(np.array(json.dumps(mlp.architecture()))))
    assert refusal(tmp_path / "p.npz") == (
        f"{tmp_path / 'p.npz'}: W1: holds 8 bytes of data, but its header promises 96 for shape (4, 3) "
        "of float64 (truncated or damaged)"
    )


@pytest.mark.filterwarnings("ignore:Duplicate name")  # zipfile's warning to this test, which writes the file
def test_the_same_key_twice_is_refused(tmp_path, mlp):
    with zipfile.ZipFile(tmp_path / "p.npz", "w") as archive:
        for key in ("W1", "W1"):
            archive.writestr(f"{key}.npy", _npy(mlp.arrays()[key]))
    assert refusal(tmp_path / "p.npz") == f"{tmp_path / 'p.npz'}: holds the key 'W1' twice"


def test_an_archive_read_from_memory_is_named_as_told(params):
    content = params.read_bytes().replace(b"W1.npy", b"W9.npy")
    with pytest.raises(ParameterError, match=r"^<stdin>: W9: not a parameter of this network"):
        read_params(io.BytesIO(content), name="<stdin>")


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


# ---- .npy tables written by csv_to_npy ------------------------------------------------------
def table(tmp_path, array: np.ndarray, name="t.npy"):
    np.save(tmp_path / name, array)
    return tmp_path / name


def test_a_converted_table_passes(tmp_path):
    X = np.arange(6.0).reshape(2, 3)
    header = check_table(table(tmp_path, np.vstack([X, [[0, 1, 1]]])))
    assert header.shape == (3, 3)


def test_a_truncated_table_is_refused(tmp_path):
    path = table(tmp_path, np.vstack([np.ones((2, 5)), np.zeros((1, 5))]))
    path.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(DataError) as error:
        check_table(path)
    assert str(error.value) == (
        f"{path}: holds 112 bytes of data, but its header promises 120 for shape (3, 5) of float64 "
        "(truncated or damaged)"
    )


@pytest.mark.parametrize(
    "array, message",
    [
        (np.array([[1.0, np.nan], [0.0, 1.0]]), ", row 1, column 2: nan is not a finite number"),
        (np.array([[1.0, 2.0], [0.0, 2.0]]), ", row 2 (the label row), column 2: the label 2.0 is not 0 or 1"),
        (np.ones((1, 3)), ": has shape (1, 3); expected feature rows, then the label row"),
        (np.ones((2, 2), dtype=np.int32), ": holds int32, not float16, float32 or float64 numbers"),
        (np.array([[1.0], [None]], dtype=object), ": holds Python objects, which tinygraph never loads"),
    ],
)  # fmt: skip
def test_a_table_with_bad_values_or_form_is_refused_naming_the_place(tmp_path, array, message):
    path = table(tmp_path, array)
    with pytest.raises(DataError) as error:
        check_table(path)
    assert str(error.value).startswith(f"{path}{message}")


def test_class_labels_may_go_past_one(tmp_path):
    check_table(table(tmp_path, np.array([[1.0, 2.0], [0.0, 2.0]])), labels="classes")


def test_load_npy_refuses_a_damaged_table_by_name(tmp_path):
    path = table(tmp_path, np.vstack([np.ones((2, 5)), np.zeros((1, 5))]))
    path.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(DataError, match=r"t\.npy: holds 112 bytes of data, but its header promises 120"):
        load_npy(path)
