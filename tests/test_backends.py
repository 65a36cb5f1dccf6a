"""models.backends: the classifier on other array libraries, and the notebook's CSV as .npy files.

PyTorch runs here on the CPU, which exercises the same code path as on a GPU.
Dask, with its cluster, is in tests/test_dask.py.
"""

import sys

import numpy as np
import pytest

import tinygraph as tg
from models.backends import BackendUnavailableError, after_each_update, csv_to_npy, load_npy, move, to_backend
from models.classifier import Classifier
from models.optimizers import SGD
from models.train import train

torch = pytest.importorskip("torch")


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X, X_val = rng.standard_normal((5, 40)), rng.standard_normal((5, 20))
    label = lambda X: (X[0:1] - X[2:3] > 0).astype(np.float64)  # noqa: E731
    return X, label(X), X_val, label(X_val)


def loss_history(backend, data, **options):
    model, data = move(backend, Classifier.initialize(5, 4), data, **options)
    optimizer = SGD(model.parameters(), 0.5)
    result = train(model, *data, iterations=10, optimizer=optimizer, on_iteration=after_each_update(backend, model))
    return result.history, model


def test_classifier_on_torch_tensors_has_the_numpy_loss_history(data):
    expected, _ = loss_history("numpy", data)
    history, model = loss_history("torch", data, device="cpu")
    for key in ("train_loss", "val_loss"):
        np.testing.assert_allclose(history[key], expected[key], rtol=0, atol=1e-10)
    assert isinstance(model.W1.data, torch.Tensor)


def test_a_torch_tensor_becomes_a_tensor_held_by_torch():
    t = tg.Tensor(torch.ones(2, 3, dtype=torch.float32))
    assert isinstance(t.data, torch.Tensor) and t.dtype == torch.float32
    assert t.xp.__name__ == "array_api_compat.torch"


def test_numpy_constants_join_a_torch_tensor_on_its_device():
    # torch's "meta" device stands in for a GPU: like CUDA, torch will not mix it with CPU tensors.
    W = tg.Tensor(torch.ones(2, 3, dtype=torch.float64, device="meta"), requires_grad=True)
    out = W * np.ones((2, 3)) + 1
    assert out.data.device.type == "meta"


@pytest.mark.parametrize("backend", ["numpy", "dask", "torch"])
def test_to_backend_and_numpy_give_back_the_same_numbers(backend):
    array = np.arange(6.0).reshape(2, 3)
    moved = to_backend(array, backend, examples_per_chunk=2, device="cpu")
    np.testing.assert_array_equal(tg.Tensor(moved).numpy(), array)


@pytest.mark.parametrize(
    "backend, module, advice",
    [
        ("dask", "dask.array", "the dask backend needs Dask: pip install 'dask[distributed]'"),
        ("cupy", "cupy", "the cupy backend needs CuPy: pip install cupy-cuda12x"),
        ("torch", "torch", "the torch backend needs PyTorch: pip install torch"),
    ],
)
def test_a_backend_whose_library_is_missing_says_what_to_install(monkeypatch, backend, module, advice):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail, as when not installed
    with pytest.raises(BackendUnavailableError, match=advice.replace("[", r"\[").replace("]", r"\]")):
        to_backend(np.ones(2), backend)


def test_an_unknown_backend_names_the_choices():
    with pytest.raises(ValueError, match="unknown backend 'jax'; choose one of numpy, dask, cupy, torch"):
        to_backend(np.ones(2), "jax")


def test_data_of_another_library_than_the_parameters_is_refused_by_name(data):
    model = Classifier.initialize(5, 4)
    with pytest.raises(tg.DTypeError, match="X is an array of array_api_compat.torch but the parameters .* numpy"):
        model.forward(to_backend(data[0], "torch", device="cpu"))


# ---- csv_to_npy ------------------------------------------------------------------------
def write_csv(path, lines):
    path.write_text("".join(line + "\n" for line in lines))
    return path


def test_csv_to_npy_writes_the_feature_rows_and_the_label_row(tmp_path, data):
    X, Y, _, _ = data
    np.savetxt(tmp_path / "train.csv", np.vstack([X, Y]), delimiter=",", fmt="%.17g")
    X_path, Y_path = csv_to_npy(tmp_path / "train.csv", tmp_path / "npy")
    np.testing.assert_array_equal(np.load(X_path), X)
    np.testing.assert_array_equal(np.load(Y_path), Y)
    X_loaded, Y_loaded = load_npy(tmp_path / "npy")
    np.testing.assert_array_equal(X_loaded, X)
    np.testing.assert_array_equal(Y_loaded, Y)


def test_csv_to_npy_keeps_float32_when_asked(tmp_path):
    csv = write_csv(tmp_path / "t.csv", ["0.5,0.25", "1,0"])
    X_path, Y_path = csv_to_npy(csv, tmp_path / "npy", dtype=np.float32)
    assert np.load(X_path).dtype == np.float32 and np.load(Y_path).dtype == np.float32


@pytest.mark.parametrize(
    "lines, error, message",
    [
        (["0.5,0.25,1", "0.5,0.25", "1,0,1"], tg.ShapeError, r"t.csv, line 2: 2 columns, but line 1 has 3"),
        (["0.5,0.25", "0.5,cat", "1,0"], tg.DTypeError, r"t.csv, line 2, column 2: 'cat' is not a number"),
        (["0.5,0.25", "0.5,0.75", "1,2"], tg.LabelError, r"t.csv, line 3 \(the label row\), column 2: .* not 2"),
        (["1,0"], tg.ShapeError, r"t.csv: needs at least one feature row and the label row, found 1 rows"),
    ],
    ids=["ragged row", "not a number", "label not 0 or 1", "labels only"],
)
def test_csv_to_npy_names_the_line_and_column_of_bad_data_and_writes_nothing(tmp_path, lines, error, message):
    csv = write_csv(tmp_path / "t.csv", lines)
    with pytest.raises(error, match=message):
        csv_to_npy(csv, tmp_path / "npy")
    assert not (tmp_path / "npy").exists() or not any((tmp_path / "npy").iterdir())


def test_load_npy_without_the_converted_files_says_how_to_make_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="X.npy does not exist; write it first with csv_to_npy"):
        load_npy(tmp_path)
