"""The notebook's classifier and a deeper net train on Dask arrays, on a dask.distributed cluster, as on numpy.

The cluster is started here: two workers as threads of this process
(processes=False), so its messages never leave the process, and no dashboard.
X is chunked along examples (columns), the parameters are one block each, and
after_each_update persists them, so that each iteration's graph does not hold the last.
(tinygraph train --backend dask runs these same steps, tinygraph.models.commands.train.fit.)
"""

import json

import numpy as np
import pytest
from history_support import assert_same_history

import tinygraph as tg
from tinygraph.models.backends import after_each_update, dask_client, move_data
from tinygraph.models.classifier import Classifier
from tinygraph.models.cli import main
from tinygraph.models.mlp import MLP
from tinygraph.models.data import csv_to_npy, load_npy, write_csv
from tinygraph.models.optimizers import SGD, Adam
from tinygraph.models.train import train

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

NX, NH, ITERATIONS, LR = 20, 8, 8, 0.5


@pytest.fixture(scope="module")
def scheduler():
    """The address of a two-worker cluster in this process: no network, no dashboard."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def data():
    """Two features decide the label; 200 training and 100 validation examples, one per column."""
    rng = np.random.default_rng(0)
    X, X_val = rng.standard_normal((NX, 200)), rng.standard_normal((NX, 100))
    label = lambda X: (X[0:1] + X[1:2] > 0).astype(np.float64)  # noqa: E731
    return X, label(X), X_val, label(X_val)


@pytest.fixture(scope="module")
def trained_on_dask(scheduler, data):
    """The loss history, and the model with its Dask parameters, as tinygraph train --backend dask runs them."""
    with dask_client(scheduler):
        model, arrays = Classifier(NX, NH).to("dask"), move_data("dask", data, examples_per_chunk=100)
        optimizer, persist = SGD(model.parameters(), LR), after_each_update("dask", model)
        result = train(model, *arrays, iterations=ITERATIONS, optimizer=optimizer, on_iteration=persist)
        return result.history, model


def test_classifier_on_dask_arrays_on_a_local_cluster_has_the_numpy_loss_history(data, trained_on_dask):
    model = Classifier(NX, NH)
    expected = train(model, *data, iterations=ITERATIONS, optimizer=SGD(model.parameters(), LR)).history
    history, model = trained_on_dask
    assert_same_history(history, expected)
    assert isinstance(model.W1.data, da.Array)


def test_persisted_parameters_are_one_block_each_not_a_graph_of_past_iterations(trained_on_dask):
    _, model = trained_on_dask
    for p in model.parameters():
        assert len(p.data.__dask_graph__()) == 1, p.name


def test_a_dask_array_becomes_a_tensor_without_being_computed():
    X = da.ones((3, 4), chunks=(3, 2)) * 2  # a graph of two blocks, not yet computed
    t = tg.Tensor(X)
    assert t.data is X
    assert t.xp.__name__ == "array_api_compat.dask.array"


def test_load_npy_reads_the_converted_csv_in_blocks_of_examples(tmp_path, data):
    X, Y, _, _ = data
    write_csv(tmp_path / "train.csv", X, Y)
    X_dask, Y_dask = load_npy(csv_to_npy(tmp_path / "train.csv"), "dask", examples_per_chunk=64)
    assert X_dask.chunks == ((NX,), (64, 64, 64, 8))
    assert Y_dask.chunks == ((1,), (64, 64, 64, 8))
    np.testing.assert_array_equal(X_dask.compute(), X)
    np.testing.assert_array_equal(Y_dask.compute(), Y)


def test_tinygraph_train_on_a_dask_scheduler_writes_the_numpy_runs_history(scheduler, tmp_path):
    for run, options in (("numpy", []), ("dask", ["--backend", "dask", "--scheduler", scheduler])):
        argv = ["train", "--dataset", "moons", "--iterations", "4", "--out", str(tmp_path / run), *options]
        assert main(argv) == 0
    expected, history = (json.loads((tmp_path / run / "history.json").read_text()) for run in ("numpy", "dask"))
    assert_same_history(history, expected)


def test_a_deeper_net_with_dropout_and_mini_batches_on_the_cluster_has_the_numpy_loss_history(scheduler, data):
    def run(backend):
        model = MLP([NX, 6, 4, 1], seed=2, dropout=0.2).to(backend)
        arrays = move_data(backend, data, examples_per_chunk=100)
        return train(
            model, *arrays, optimizer=Adam(model.parameters(), 0.05), epochs=3, batch_size=100, shuffle_seed=5,
            on_iteration=after_each_update(backend, model),
        ).history  # fmt: skip

    expected = run("numpy")
    with dask_client(scheduler):
        history = run("dask")
    assert_same_history(history, expected)
