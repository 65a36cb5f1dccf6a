"""The training pictures: predictions on the image grid, a second history on the learning curve."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygraph.models import plots
from tinygraph.models.errors import DataError
from tinygraph.models.datasets import IMAGE_SHAPE

pytest.importorskip("matplotlib")

FEATURES = int(np.prod(IMAGE_SHAPE))


def images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((FEATURES, n))


def titles(fig) -> list[tuple[str, str]]:
    """Each image's title and its colour, in order."""
    from matplotlib.colors import to_hex

    return [(ax.get_title(), to_hex(ax.title.get_color())) for ax in fig.get_axes()]


def test_with_probabilities_each_title_gives_true_and_predicted_label_and_probability():
    Y = np.array([[1.0, 0.0, 0.0]])
    fig = plots.image_grid(images(3), Y, probabilities=np.array([[0.9, 0.2, 0.6]]))
    expected = ["true dog, pred dog 0.90", "true cat, pred cat 0.80", "true cat, pred dog 0.60 ✗"]
    assert [t for t, _ in titles(fig)] == expected


def test_a_misclassified_image_is_framed_and_titled_in_red():
    fig = plots.image_grid(images(2), np.array([[1.0, 1.0]]), probabilities=np.array([[0.7, 0.3]]))
    (right, wrong) = fig.get_axes()
    assert titles(fig)[1][1] == plots.MISCLASSIFIED and titles(fig)[0][1] == "#000000"
    assert all(spine.get_visible() for spine in wrong.spines.values())
    assert not any(spine.get_visible() for spine in right.spines.values())


def test_validation_images_get_a_block_of_their_own():
    fig = plots.image_grid(
        images(4), np.ones((1, 4)), count=3, probabilities=np.full((1, 4), 0.8),
        validation=(images(5, seed=1), np.zeros((1, 5)), np.full((1, 5), 0.8)),
    )  # fmt: skip
    assert [sub._suptitle.get_text() for sub in fig.subfigs] == ["training images", "validation images"]
    assert [t for t, _ in titles(fig)] == ["true dog, pred dog 0.80"] * 3 + ["true cat, pred dog 0.80 ✗"] * 3


def test_without_probabilities_the_titles_are_the_labels():
    assert [t for t, _ in titles(plots.image_grid(images(2), np.array([[0.0, 1.0]])))] == ["cat", "dog"]


def test_the_learning_curve_overlays_a_second_history_dashed():
    history = {"train_loss": [0.7, 0.5], "val_loss": [0.7, 0.6]}
    other = {"train_loss": [0.69, 0.6, 0.5], "val_loss": [0.69, 0.65, 0.6]}
    (ax,) = plots.learning_curve(history, compare=other, compare_label="notebook").get_axes()
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"train", "validation", "train (notebook)", "validation (notebook)"}
    assert lines["validation (notebook)"].get_linestyle() == "--"
    assert list(lines["train (notebook)"].get_ydata()) == other["train_loss"]


def test_read_history_reads_the_notebooks_printed_losses(tmp_path):
    log = tmp_path / "notebook.txt"
    log.write_text("iteration 0 :train_loss:0.6931 val_loss0.6932\nnoise\niteration 1 :train_loss:0.65 val_loss0.66\n")
    assert plots.read_history(log) == {"train_loss": [0.6931, 0.65], "val_loss": [0.6932, 0.66]}


def test_read_history_reads_a_runs_history_json(tmp_path):
    path = tmp_path / "history.json"
    path.write_text(json.dumps({"per": "epoch", "train_loss": [1.0], "val_loss": [2.0]}))
    assert plots.read_history(path) == {"train_loss": [1.0], "val_loss": [2.0]}


def test_read_history_names_a_file_without_losses(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("nothing here")
    with pytest.raises(DataError, match=r"empty.txt: no line like 'iteration 0"):
        plots.read_history(path)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    root = Path(__file__).resolve().parent.parent
    return subprocess.run([sys.executable, "-m", "tinygraph.models.cli", *args], cwd=root, capture_output=True, text=True)


def test_the_curve_command_draws_a_run_with_the_notebooks_log_over_it(tmp_path):
    history, log, out = tmp_path / "history.json", tmp_path / "notebook.txt", tmp_path / "curve.png"
    history.write_text(json.dumps({"per": "iteration", "train_loss": [0.7, 0.6], "val_loss": [0.7, 0.65]}))
    log.write_text("iteration 0 :train_loss:0.69 val_loss0.7\niteration 1 :train_loss:0.6 val_loss0.64\n")
    done = run_cli("curve", str(history), "--compare", str(log), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"\x89PNG")


def test_the_curve_command_names_a_file_without_losses(tmp_path):
    (tmp_path / "log.txt").write_text("no losses here")
    done = run_cli("curve", str(tmp_path / "log.txt"), "--out", str(tmp_path / "c.png"))
    assert done.returncode == 2
    assert done.stderr.strip().endswith("log.txt: no line like 'iteration 0 :train_loss:0.69 val_loss0.69' to read")
    assert not (tmp_path / "c.png").exists()
