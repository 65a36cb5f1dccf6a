"""tinygraph.models.backends: the classifier and deeper nets on other array libraries, and the CSV as .npy files.

PyTorch runs here on the CPU, which exercises the same code path as on a GPU.
Dask, with its cluster, is in tests/test_dask.py.
"""

import json
import sys

import numpy as np
import pytest
from history_support import assert_same_history

import tinygraph as tg
from tinygraph.models.backends import move_data, to_backend
from tinygraph.models.classifier import Classifier
from tinygraph.models.cli import main
from tinygraph.models.errors import BackendUnavailableError
from tinygraph.models.mlp import MLP
from tinygraph.models.optimizers import SGD, Adam, StepDecay
from tinygraph.models.train import train

torch = pytest.importorskip("torch")


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X, X_val = rng.standard_normal((5, 40)), rng.standard_normal((5, 20))
    label = lambda X: (X[0:1] - X[2:3] > 0).astype(np.float64)  # noqa: E731
    return X, label(X), X_val, label(X_val)


def train_classifier(backend, data):
    """Every library trains the same way: the model moves in place, then one train() call, then back to numpy."""
    model = Classifier(5, 4).to(backend, device="cpu")
    result = train(model, *move_data(backend, data, device="cpu"), iterations=10, optimizer=SGD(model.parameters(), 0.5))
    return model.to("numpy"), result


def test_classifier_on_torch_tensors_has_the_numpy_loss_history(data):
    _, expected = train_classifier("numpy", data)
    _, result = train_classifier("torch", data)
    assert_same_history(result.history, expected.history)


def test_a_model_moved_back_to_numpy_holds_its_trained_parameters_as_numpy_arrays(data):
    model, _ = train_classifier("torch", data)
    trained = model.arrays()
    assert all(type(p.data) is np.ndarray for p in model.parameters())
    assert not np.array_equal(trained["W1"], Classifier(5, 4).arrays()["W1"])


def test_moving_a_model_keeps_its_parameter_tensors_and_their_numbers():
    model = MLP([5, 3, 1], seed=2)
    tensors, before = model.parameters(), model.arrays()
    model.to("torch", device="cpu")
    assert [id(p) for p in model.parameters()] == [id(p) for p in tensors]
    assert all(isinstance(p.data, torch.Tensor) and p.grad is None for p in model.parameters())
    for name, array in model.to("numpy").arrays().items():
        np.testing.assert_array_equal(array, before[name])


def train_mlp(backend, data):
    """A deeper net with every per-epoch part of train(): mini-batches, dropout, Adam, a schedule, early stopping."""
    model = MLP([5, 6, 4, 1], seed=3, dropout=0.25).to(backend, device="cpu")
    optimizer = Adam(model.parameters(), 0.05)
    result = train(
        model, *move_data(backend, data, device="cpu"), optimizer=optimizer,
        schedule=StepDecay(optimizer, every=2, gamma=0.5), epochs=6, batch_size=16, shuffle_seed=4, early_stopping=3,
    )  # fmt: skip
    return model.to("numpy"), result


def test_a_deeper_net_on_torch_tensors_has_the_numpy_loss_history_and_parameters(data):
    expected_model, expected = train_mlp("numpy", data)
    model, result = train_mlp("torch", data)
    assert_same_history(result.history, expected.history)
    for name, array in model.arrays().items():
        np.testing.assert_allclose(array, expected_model.arrays()[name], rtol=0, atol=1e-10)
    assert result.best_epoch == expected.best_epoch


def test_numpy_data_for_a_net_on_torch_is_refused_naming_both_libraries(data):
    model = MLP([5, 3, 1]).to("torch", device="cpu")
    with pytest.raises(tg.DTypeError, match="MLP: X is an array of numpy but the parameters are arrays of"):
        model.loss(data[0], data[1])


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
    model = Classifier(5, 4)
    with pytest.raises(tg.DTypeError, match="X is an array of array_api_compat.torch but the parameters .* numpy"):
        model.forward(to_backend(data[0], "torch", device="cpu"))


# ---- tinygraph train --backend -----------------------------------------------------------
def tinygraph_train(out, *options):
    return main(["train", "--dataset", "moons", "--iterations", "5", "--out", str(out), *options])


def test_tinygraph_train_on_the_torch_backend_writes_the_numpy_runs_history(tmp_path):
    assert tinygraph_train(tmp_path / "numpy") == 0
    assert tinygraph_train(tmp_path / "torch", "--backend", "torch") == 0
    expected, history = (json.loads((tmp_path / run / "history.json").read_text()) for run in ("numpy", "torch"))
    assert_same_history(history, expected)


def test_tinygraph_train_of_a_deeper_net_on_torch_writes_the_numpy_runs_history(tmp_path):
    options = ["--layers", "8,4", "--dropout", "0.2"]
    assert tinygraph_train(tmp_path / "numpy", *options) == 0
    assert tinygraph_train(tmp_path / "torch", *options, "--backend", "torch") == 0
    expected, history = (json.loads((tmp_path / run / "history.json").read_text()) for run in ("numpy", "torch"))
    assert_same_history(history, expected)


def test_tinygraph_train_names_the_package_a_missing_backend_needs(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "cupy", None)
    assert tinygraph_train(tmp_path, "--backend", "cupy") == 2
    assert "the cupy backend needs CuPy: pip install cupy-cuda12x" in capsys.readouterr().err


def test_tinygraph_train_refuses_a_scheduler_without_the_dask_backend(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit:
        tinygraph_train(tmp_path, "--scheduler", "tcp://127.0.0.1:8786")
    assert exit.value.code == 2
    assert "--scheduler is the address of a Dask scheduler: give it with --backend dask" in capsys.readouterr().err
