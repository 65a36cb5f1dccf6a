"""`tinygraph train` and `tinygraph predict`, end to end: the files they write, and how they refuse bad input."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.models.classifier import Classifier
from tinygraph.models.cli import main
from tinygraph.models.data import load_csv, write_csv
from tinygraph.models.datasets import write_synthetic_images

ROOT = Path(__file__).resolve().parent.parent
RUN_FILES = {"history.json", "params.npz", "metrics.json", "learning_curve.png", "graph.svg"}
METRICS = {"train_accuracy", "val_accuracy", "train_loss", "val_loss", "iterations", "seconds", "interrupted"}


def tinygraph(*args, **options) -> subprocess.CompletedProcess:
    """The command line as a user runs it, in a fresh interpreter."""
    command = [sys.executable, "-m", "tinygraph.models.cli", *map(str, args)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, **options)


@pytest.fixture
def csv_pair(tmp_path):
    """train.csv and validation.csv in the notebook's layout: 3 features, labels by the sign of the first."""
    rng = np.random.default_rng(0)
    paths = []
    for name, n in (("train.csv", 40), ("validation.csv", 20)):
        X = rng.normal(size=(3, n))
        write_csv(tmp_path / name, X, (X[:1] > 0).astype(float))
        paths.append(tmp_path / name)
    return paths


def is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---- tinygraph train ------------------------------------------------------------------
def test_train_on_the_default_dataset_writes_history_params_metrics_and_pictures(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "images.png").write_bytes(b"an earlier run's picture, which this run does not make")
    result = tinygraph("train", "--iterations", 7, "--hidden", 5, "--out", out, "--overwrite")
    assert result.returncode == 0, result.stderr
    assert "validation accuracy" in result.stdout
    assert "layer  W      b      activation  parameters" in result.stdout  # the model's summary, at the start
    assert "21 parameters, float64" in result.stdout  # 5 x 2 + 5 + 1 x 5 + 1
    assert set(p.name for p in out.iterdir()) == RUN_FILES | {"decision_boundary.png"}
    history = json.loads((out / "history.json").read_text())
    assert set(history) == {"per", "train_loss", "val_loss", "train_accuracy", "val_accuracy"}
    assert history["per"] == "iteration" and all(0 <= a <= 1 for a in history["val_accuracy"])
    assert len(history["train_loss"]) == len(history["val_loss"]) == 7
    with np.load(out / "params.npz", allow_pickle=False) as params:
        assert {name: params[name].shape for name in params.files} == {
            "W1": (5, 2), "b1": (5, 1), "W2": (1, 5), "b2": (1, 1), "architecture": ()
        }  # fmt: skip
        architecture = json.loads(str(params["architecture"]))
        assert architecture["network"] == "Classifier" and architecture["layer_sizes"] == [2, 5, 1]
    metrics = json.loads((out / "metrics.json").read_text())
    assert METRICS <= set(metrics)
    assert metrics["iterations"] == 7 and metrics["interrupted"] is False
    assert 0 <= metrics["val_accuracy"] <= 1
    assert is_png(out / "learning_curve.png") and is_png(out / "decision_boundary.png")


def test_the_default_run_reaches_the_promised_validation_accuracy(tmp_path):
    # The README's `tinygraph train`: the default dataset, iterations and learning rate.
    assert main(["train", "--out", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "metrics.json").read_text())["val_accuracy"] >= 0.9


def test_csv_round_trip_through_train_and_predict(tmp_path, csv_pair):
    train_csv, val_csv = csv_pair
    out = tmp_path / "run"
    trained = tinygraph("train", "--train", train_csv, "--val", val_csv, "--iterations", 30, "--lr", 0.5, "--out", out)
    assert trained.returncode == 0, trained.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    predictions = tmp_path / "predictions.csv"
    predicted = tinygraph("predict", "--params", out / "params.npz", "--data", val_csv, "--out", predictions)
    assert predicted.returncode == 0, predicted.stderr
    assert f"{metrics['val_accuracy']:.4f}" in predicted.stdout
    with np.load(out / "params.npz", allow_pickle=False) as params:
        model = Classifier.from_arrays(dict(params))
    X, _ = load_csv(val_csv)
    assert np.array_equal(np.loadtxt(predictions, delimiter=",", ndmin=2), model.predict(X))


def test_train_on_notebook_shaped_images_draws_them(tmp_path):
    write_synthetic_images(tmp_path, n_train=6, n_val=4, seed=0)
    out = tmp_path / "run"
    result = tinygraph(
        "train", "--train", tmp_path / "train.csv", "--val", tmp_path / "validation.csv",
        "--iterations", 2, "--hidden", 3, "--dtype", "float32", "--out", out,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert set(p.name for p in out.iterdir()) == RUN_FILES | {"images.png"}
    assert is_png(out / "images.png")
    with np.load(out / "params.npz", allow_pickle=False) as params:
        assert params["W1"].shape == (3, 12288) and params["W1"].dtype == np.float32


def test_print_every_prints_the_losses_as_the_notebook_does(tmp_path):
    result = tinygraph("train", "--iterations", 4, "--print-every", 2, "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("iteration")]
    assert [line.split(":")[0] for line in lines] == ["iteration 0", "iteration 2"]
    assert "train_loss" in lines[0] and "val_accuracy" in lines[0]


def test_ctrl_c_stops_training_and_writes_what_was_learned(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-u", "-m", "tinygraph.models.cli", "train", "--iterations", "10000000", "--out", str(out)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout.readline().startswith("training on")
    time.sleep(1.5)  # well into the loop: one iteration takes about a millisecond
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted after" in stdout
    metrics = json.loads((out / "metrics.json").read_text())
    history = json.loads((out / "history.json").read_text())
    assert metrics["interrupted"] is True
    assert 0 < metrics["iterations"] == len(history["train_loss"]) < 10_000_000


# ---- bad input: one line on stderr, exit code 2, nothing written -----------------------
def test_a_missing_training_file_is_named_with_exit_code_2(tmp_path):
    result = tinygraph("train", "--train", tmp_path / "nope.csv", "--val", tmp_path / "nope.csv", "--out", tmp_path / "r")
    assert result.returncode == 2
    assert "nope.csv" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_a_ragged_csv_is_refused_and_nothing_is_written(tmp_path, csv_pair, capsys):
    train_csv, val_csv = csv_pair
    train_csv.write_text("1,2,3\n4,5\n0,1,0\n")
    assert main(["train", "--train", str(train_csv), "--val", str(val_csv), "--out", str(tmp_path / "r")]) == 2
    assert "train.csv" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_train_and_validation_with_different_feature_counts_are_refused(tmp_path, csv_pair, capsys):
    train_csv, val_csv = csv_pair
    write_csv(val_csv, np.zeros((2, 4)), np.zeros((1, 4)))
    assert main(["train", "--train", str(train_csv), "--val", str(val_csv), "--out", str(tmp_path / "r")]) == 2
    assert "features" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [["--train", "a.csv"], ["--train", "a.csv", "--val", "b.csv", "--dataset", "moons"], ["--lr", "-1"],
     ["--dataset", "nonsense"], ["--iterations", "many"]],
    ids=["train without val", "csv and dataset", "negative lr", "unknown dataset", "iterations not a number"],
)  # fmt: skip
def test_options_that_do_not_make_sense_exit_with_code_2(args, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["train", *args])
    assert exit.value.code == 2
    assert "error" in capsys.readouterr().err


def test_version_prints_the_packages_version():
    result = tinygraph("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"tinygraph {tg.__version__}"


# ---- tinygraph predict ----------------------------------------------------------------
def trained_params(tmp_path: Path, nx: int) -> Path:
    path = tmp_path / "params.npz"
    np.savez(path, **Classifier(nx, 4).arrays())
    return path


def features_only(path: Path, out: Path) -> Path:
    """The CSV at `path` without its label row."""
    np.savetxt(out, load_csv(path)[0], fmt="%.17g", delimiter=",")
    return out


def test_predict_on_a_csv_without_a_label_row_says_so_and_writes_the_labels(tmp_path, csv_pair, capsys):
    params, unlabeled = trained_params(tmp_path, nx=3), features_only(csv_pair[1], tmp_path / "unlabeled.csv")
    out = tmp_path / "predicted.csv"
    assert main(["predict", "--params", str(params), "--data", str(unlabeled), "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "20 examples of 3 features, no label row" in stdout and "accuracy" not in stdout
    X, _ = load_csv(csv_pair[1])
    np.testing.assert_array_equal(np.loadtxt(out, delimiter=",", ndmin=2), Classifier(3, 4).predict(X))


def test_predict_on_a_csv_with_a_label_row_says_so_and_reports_the_accuracy(tmp_path, csv_pair, capsys):
    assert main(["predict", "--params", str(trained_params(tmp_path, nx=3)), "--data", str(csv_pair[1])]) == 0
    stdout = capsys.readouterr().out
    assert "20 examples of 3 features, a label row" in stdout and "accuracy on" in stdout


def test_predict_with_proba_writes_the_probabilities(tmp_path, csv_pair):
    out = tmp_path / "proba.csv"
    argv = ["predict", "--params", str(trained_params(tmp_path, nx=3)), "--data", str(csv_pair[1]), "--proba"]
    assert main([*argv, "--out", str(out)]) == 0
    X, _ = load_csv(csv_pair[1])
    np.testing.assert_array_equal(np.loadtxt(out, delimiter=",", ndmin=2), Classifier(3, 4).probabilities(X))


def test_predict_with_proba_but_nowhere_to_write_them_is_refused(tmp_path, csv_pair, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["predict", "--params", str(trained_params(tmp_path, nx=3)), "--data", str(csv_pair[1]), "--proba"])
    assert exit.value.code == 2 and "--proba says what --out holds" in capsys.readouterr().err


def test_predict_refuses_data_with_other_features_than_the_parameters(tmp_path, csv_pair, capsys):
    params = trained_params(tmp_path, nx=5)
    assert main(["predict", "--params", str(params), "--data", str(csv_pair[1])]) == 2
    assert "5 features" in capsys.readouterr().err


def test_predict_refuses_a_file_that_is_not_saved_parameters(tmp_path, csv_pair, capsys):
    assert main(["predict", "--params", str(csv_pair[0]), "--data", str(csv_pair[1])]) == 2
    assert "train.csv: not a .npz archive of parameters" in capsys.readouterr().err


def test_predict_names_a_missing_parameter(tmp_path, csv_pair, capsys):
    np.savez(tmp_path / "partial.npz", W1=np.zeros((4, 3)))
    assert main(["predict", "--params", str(tmp_path / "partial.npz"), "--data", str(csv_pair[1])]) == 2
    assert "missing" in capsys.readouterr().err


def test_predict_refuses_parameters_of_mixed_dtypes_naming_the_file(tmp_path, csv_pair, capsys):
    arrays = Classifier(3, 4).arrays()
    np.savez(tmp_path / "mixed.npz", **arrays | {"b2": arrays["b2"].astype(np.float32)})
    assert main(["predict", "--params", str(tmp_path / "mixed.npz"), "--data", str(csv_pair[1])]) == 2
    assert "mixed.npz: the parameters mix dtypes ['float32', 'float64']; they must share one" in capsys.readouterr().err


def test_predict_with_a_missing_params_file_names_it(tmp_path, csv_pair, capsys):
    assert main(["predict", "--params", str(tmp_path / "gone.npz"), "--data", str(csv_pair[1])]) == 2
    assert "gone.npz" in capsys.readouterr().err
