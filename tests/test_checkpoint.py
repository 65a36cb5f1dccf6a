"""tinygraph.models.checkpoint: a network saved to one .npz file loads back as the same network, without pickle."""

import json

import numpy as np
import pytest

from tinygraph.models import checkpoint
from tinygraph.models.classifier import Classifier
from tinygraph.models.errors import ParameterError
from tinygraph.models.mlp import MLP

X = np.random.default_rng(0).normal(size=(3, 7))


@pytest.mark.parametrize(
    "model",
    [Classifier(3, 4, seed=2), MLP([3, 5, 4, 3], ["tanh", "relu"], init="he", seed=4, dropout=0.2)],
    ids=["classifier", "mlp"],
)
def test_a_saved_network_loads_back_as_the_same_network(tmp_path, model):
    checkpoint.save(model, tmp_path / "params.npz")
    loaded = checkpoint.load(tmp_path / "params.npz")
    assert type(loaded) is type(model) and loaded.architecture() == model.architecture()
    np.testing.assert_array_equal(loaded.probabilities(X), model.probabilities(X))


def test_the_file_is_plain_arrays_and_json_that_numpy_reads_without_pickle(tmp_path):
    checkpoint.save(MLP([3, 2, 1]), tmp_path / "params.npz")
    with np.load(tmp_path / "params.npz", allow_pickle=False) as saved:
        assert sorted(saved.files) == ["W1", "W2", "architecture", "b1", "b2"]
        assert json.loads(str(saved["architecture"]))["layer_sizes"] == [3, 2, 1]


def test_the_notebooks_own_four_arrays_load_as_its_classifier(tmp_path):
    model = Classifier(3, 4)
    np.savez(tmp_path / "notebook.npz", **model.arrays())
    loaded = checkpoint.load(tmp_path / "notebook.npz")
    assert isinstance(loaded, Classifier) and (loaded.nx, loaded.nh) == (3, 4)


def test_a_file_that_is_not_parameters_is_refused_naming_it(tmp_path):
    (tmp_path / "notes.npz").write_text("not a zip file")
    with pytest.raises(ParameterError, match="notes.npz: not a .npz archive of parameters"):
        checkpoint.load(tmp_path / "notes.npz")
