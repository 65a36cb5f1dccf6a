"""`tinygraph train --layers ...` end to end: a deeper net's run, predict rebuilding it, K classes, bad options."""

import json

import numpy as np
import pytest

from tinygraph.models.cli import main
from tinygraph.models.data import write_csv
from tinygraph.models.datasets import load_builtin
from test_cli import RUN_FILES, tinygraph

DEEP = ("--layers", "32,32", "--optimizer", "adam", "--lr", "0.01", "--batch-size", "32", "--dropout", "0.1",
        "--early-stopping", "5", "--epochs", "40")  # fmt: skip


@pytest.fixture(scope="module")
def spirals_run(tmp_path_factory):
    """One run of the deeper net on the built-in spirals (about 3 s), shared by the tests that read its files."""
    out = tmp_path_factory.mktemp("spirals")
    result = tinygraph("train", "--dataset", "spirals", *DEEP, "--out", out)
    assert result.returncode == 0, result.stderr
    return out, result


def read_json(path):
    return json.loads(path.read_text())


def test_a_deep_net_run_writes_the_run_files_and_its_settings(spirals_run):
    out, _ = spirals_run
    assert set(p.name for p in out.iterdir()) == RUN_FILES | {"decision_boundary.png"}
    metrics = read_json(out / "metrics.json")
    assert metrics["layers"] == [32, 32] and metrics["optimizer"] == "adam" and metrics["batch_size"] == 32
    assert metrics["dropout"] == 0.1 and metrics["early_stopping"] == 5 and metrics["classes"] == 2


def test_a_deep_nets_history_has_one_entry_per_epoch(spirals_run):
    out, _ = spirals_run
    history, metrics = read_json(out / "history.json"), read_json(out / "metrics.json")
    assert history["per"] == "epoch"
    assert len(history["train_loss"]) == len(history["val_loss"]) == metrics["epochs"]
    assert metrics["iterations"] == metrics["epochs"] * 1600 // 32  # 50 batches of 32 per epoch


def test_early_stopping_in_the_cli_saves_the_parameters_of_the_lowest_validation_loss(spirals_run):
    out, result = spirals_run
    history, metrics = read_json(out / "history.json"), read_json(out / "metrics.json")
    # With these seeds the validation loss stops falling before the 40 epochs are up.
    assert metrics["stopped_early"] and "stopped early" in result.stdout
    assert metrics["epochs"] == metrics["best_epoch"] + 5 + 1 < 40
    assert metrics["val_loss"] == min(history["val_loss"]) < history["val_loss"][-1]


def test_params_carry_the_architecture_and_predict_rebuilds_the_deep_net(spirals_run, tmp_path):
    out, _ = spirals_run
    with np.load(out / "params.npz", allow_pickle=False) as params:
        architecture = json.loads(str(params["architecture"]))
        assert params["W3"].shape == (1, 32)
    assert architecture["layer_sizes"] == [2, 32, 32, 1] and architecture["activations"] == ["relu", "relu"]
    _, _, val_X, val_Y = load_builtin("spirals")
    write_csv(tmp_path / "val.csv", val_X, val_Y)
    predicted = tinygraph("predict", "--params", out / "params.npz", "--data", tmp_path / "val.csv")
    assert predicted.returncode == 0, predicted.stderr
    val_accuracy = read_json(out / "metrics.json")["val_accuracy"]
    assert f"accuracy on {tmp_path / 'val.csv'}: {val_accuracy:.4f}" in predicted.stdout


def test_two_relu_hidden_layers_with_adam_reach_095_validation_accuracy_on_spirals_from_the_cli(spirals_run):
    """A bar, not a measurement: the run above, with its fixed seeds (--seed 1 for weights and shuffles)."""
    out, _ = spirals_run
    assert read_json(out / "metrics.json")["val_accuracy"] >= 0.95


def three_blobs(n, rng):
    """Three Gaussian clusters in the plane, labelled 0, 1 and 2."""
    Y = rng.integers(0, 3, size=(1, n))
    centres = np.array([[0.0, 3.0, -3.0], [3.0, -2.0, -2.0]])
    return centres[:, Y[0]] + rng.normal(size=(2, n)), Y.astype(float)


def test_k_class_labels_train_a_softmax_net_and_round_trip_through_predict(tmp_path):
    rng = np.random.default_rng(0)
    write_csv(tmp_path / "train.csv", *three_blobs(150, rng))
    write_csv(tmp_path / "val.csv", *three_blobs(60, rng))
    out = tmp_path / "run"
    trained = tinygraph("train", "--train", tmp_path / "train.csv", "--val", tmp_path / "val.csv", "--layers", "8",
                        "--epochs", "30", "--lr", "0.05", "--out", out)  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    metrics = read_json(out / "metrics.json")
    assert metrics["classes"] == 3 and metrics["val_accuracy"] >= 0.9
    assert "decision_boundary.png" not in {p.name for p in out.iterdir()}  # the picture knows two classes
    predicted = tinygraph("predict", "--params", out / "params.npz", "--data", tmp_path / "val.csv",
                          "--out", tmp_path / "predicted.csv")  # fmt: skip
    assert predicted.returncode == 0, predicted.stderr
    labels = np.loadtxt(tmp_path / "predicted.csv", delimiter=",")
    assert set(np.unique(labels)) <= {0, 1, 2}
    assert np.mean(labels == np.loadtxt(tmp_path / "val.csv", delimiter=",")[-1]) == metrics["val_accuracy"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--epochs", "2", "--iterations", "2"], "give --epochs or --iterations, not both"),
        (["--layers", "4", "--lr-decay", "0.5"], "--lr-decay needs --lr-decay-every"),
        (["--layers", "4,x"], "is not hidden layer sizes such as 64,32"),
        (["--layers", "4", "--dropout", "1"], "is not a probability from 0 up to"),
    ],
    ids=["epochs and iterations", "decay without every", "bad layers",
         "dropout of 1"],
)  # fmt: skip
def test_deep_net_options_that_do_not_make_sense_exit_with_code_2(args, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["train", *args, "--out", str(tmp_path)])
    assert exit.value.code == 2
    assert message in capsys.readouterr().err


def test_a_network_option_without_layers_applies_to_the_notebooks_one_hidden_layer(tmp_path):
    assert main(["train", "--hidden", "4", "--dropout", "0.5", "--iterations", "3", "--out", str(tmp_path)]) == 0
    metrics = read_json(tmp_path / "metrics.json")
    assert metrics["layers"] == [4] and metrics["dropout"] == 0.5 and metrics["optimizer"] == "sgd"


def test_labels_beyond_the_classes_asked_for_are_refused_naming_them(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for name in ("train.csv", "val.csv"):
        write_csv(tmp_path / name, *three_blobs(20, rng))
    args = ["--train", tmp_path / "train.csv", "--val", tmp_path / "val.csv", "--layers", "4", "--classes", "2"]
    assert main(["train", *map(str, args), "--out", str(tmp_path / "run")]) == 2
    assert "the labels go up to 2, but --classes 2 allows 0 to 1" in capsys.readouterr().err
