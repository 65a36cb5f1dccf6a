"""The CNN: what it learns that an MLP cannot, its gradients, saving, augmentation, its frames and its command line."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.models import checkpoint
from tinygraph.models.cnn import CNN
from tinygraph.models.data import write_csv
from tinygraph.models.datasets import IMAGE_SHAPE, synthetic_images
from tinygraph.models.image_datasets import make_patterns, paste_at_random
from tinygraph.models.mlp import MLP
from tinygraph.models.optimizers import OPTIMIZERS
from tinygraph.models.train import train

ROOT = Path(__file__).resolve().parent.parent


def fit(model, split, epochs):
    optimizer = OPTIMIZERS["adam"](model.parameters(), lr=0.01)
    train(model, *split, optimizer=optimizer, epochs=epochs, batch_size=32)
    return model.accuracy(split[2], split[3])


def test_cnn_beats_an_mlp_of_as_many_parameters_when_the_pattern_moves():
    split = make_patterns(n_train=600, n_val=300, seed=0)
    cnn = CNN((12, 12, 1), filters=(4, 8), seed=1)
    mlp = MLP([144, 3, 1], "relu", init="he", seed=1)
    assert cnn.parameter_count() <= mlp.parameter_count()  # 409 and 439
    cnn_accuracy, mlp_accuracy = fit(cnn, split, epochs=6), fit(mlp, split, epochs=6)
    assert cnn_accuracy >= 0.9 and mlp_accuracy <= 0.7, (cnn_accuracy, mlp_accuracy)


def test_cnn_gradient_matches_finite_differences():
    model = CNN((5, 4, 2), filters=(2, 3), hidden=(3,), outputs=3, seed=2)
    rng = np.random.default_rng(0)
    X, Y = rng.random((40, 3)), np.array([[0.0, 2.0, 1.0]])
    names = list(model.params)

    def loss(*params):
        model.params = dict(zip(names, params))
        return model.loss(X, Y)

    assert tg.gradcheck(loss, [p.data for p in model.parameters()])


def test_saved_cnn_is_restored_with_the_same_predictions(tmp_path):
    model = CNN((6, 6, 3), filters=(4,), hidden=(5,), outputs=1, seed=3, augment=True)
    X = np.random.default_rng(0).random((108, 7))
    checkpoint.save(model, tmp_path / "params.npz")
    restored = checkpoint.load(tmp_path / "params.npz")
    assert isinstance(restored, CNN) and restored.architecture() == model.architecture()
    np.testing.assert_array_equal(restored.probabilities(X), model.probabilities(X))


def test_evaluation_in_chunks_gives_the_logits_of_one_pass():
    model = CNN((4, 4, 1), filters=(2,), outputs=3, seed=4)
    X = np.random.default_rng(0).random((16, 300))  # three chunks of at most 128
    with tg.no_grad():
        chunked = model.forward(X).numpy()
    np.testing.assert_allclose(chunked, model.all_steps(X, False, False)["Z2"].numpy(), rtol=1e-12)
    assert chunked.shape == (3, 300)


def test_augmentation_flips_and_shifts_each_image_as_a_whole():
    model = CNN((5, 5, 2), filters=(2,), seed=5, augment=True, shift=1)
    images = np.random.default_rng(0).random((2, 5, 5, 6)) + 1  # no pixel is 0, the padding's value
    augmented = model.augmented(images)
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)))
    for k in range(6):
        candidates = [
            flipped[:, dy : dy + 5, dx : dx + 5]
            for flipped in (padded[..., k], np.pad(images[:, :, ::-1, k], ((0, 0), (1, 1), (1, 1))))
            for dy in range(3)
            for dx in range(3)
        ]
        assert any(np.array_equal(augmented[..., k], c) for c in candidates)


def test_augmentation_is_drawn_from_the_seed():
    images = np.random.default_rng(0).random((1, 8, 8, 20))
    first, again = (CNN((8, 8, 1), filters=(2,), seed=6, augment=True).augmented(images) for _ in range(2))
    other = CNN((8, 8, 1), filters=(2,), seed=7, augment=True).augmented(images)
    assert np.array_equal(first, again) and not np.array_equal(first, other)


def test_each_block_is_one_frame_of_the_graph_and_the_input_and_flattening_are_outside():
    model = CNN((4, 4, 1), filters=(2, 3), hidden=(4,), seed=1)
    steps = model.forward_steps(np.ones((16, 2)))
    frame = model.layer_of(steps)
    for layer in (1, 2):
        tensors = (model.params[f"W{layer}"], steps[f"Z{layer}"], steps[f"A{layer}"], steps[f"P{layer}"])
        titles = {frame(t) for t in tensors}
        assert titles == {f"conv block {layer} ({model.filters[layer - 1]} filters 3x3, relu, max pool)"}
    assert frame(steps["images"]) is None and frame(steps["flat"]) is None
    assert frame(steps["Z3"]) == "hidden layer 3 (relu)" and frame(steps["Z4"]) == "output layer (sigmoid)"


def test_cnn_refuses_columns_that_are_not_its_images():
    with pytest.raises(tg.ShapeError, match=r"takes 48 x n \(one 4 x 4 x 3 image per column"):
        CNN((4, 4, 3), filters=(2,)).forward(np.ones((47, 2)))


def test_train_conv_writes_the_cnn_pictures_and_predict_restores_it(tmp_path):
    train_X, train_Y, val_X, val_Y = make_patterns(n_train=64, n_val=32, seed=1)
    write_csv(tmp_path / "train.csv", train_X, train_Y)
    write_csv(tmp_path / "val.csv", val_X, val_Y)
    out = tmp_path / "run"
    command = [
        sys.executable, "-m", "tinygraph.models.cli", "train", "--train", str(tmp_path / "train.csv"),
        "--val", str(tmp_path / "val.csv"), "--conv", "4,8", "--image-shape", "12,12,1", "--epochs", "1",
        "--augment", "--out", str(out),
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert {"filters.png", "feature_maps.png", "graph.svg", "params.npz"} <= {p.name for p in out.iterdir()}
    clusters = re.findall(r"conv block (\d) \(", (out / "graph.svg").read_text())
    assert sorted(set(clusters)) == ["1", "2"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["conv"] == [4, 8] and metrics["augment"] is True
    predict = [sys.executable, "-m", "tinygraph.models.cli", "predict", "--params", str(out / "params.npz"),
               "--data", str(tmp_path / "val.csv")]  # fmt: skip
    done = subprocess.run(predict, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"accuracy on {tmp_path / 'val.csv'}: {metrics['val_accuracy']:.4f}" in done.stdout


def test_the_synthetic_images_reach_the_cnn_with_their_colours_where_their_pictures_show_them():
    # The writer's discs are orange-ish for a dog (1) and blue-ish for a cat (0), at the centre:
    # read as the CNN reads the columns (channel 0 red, 2 blue), the centre's colour gives the label.
    X, Y = synthetic_images(20, np.random.default_rng(0))
    images = tg.images_from_columns(X, IMAGE_SHAPE).numpy()  # C x H x W x n
    centre = images[:, 28:36, 28:36, :].mean(axis=(1, 2))
    assert np.mean((centre[0] > centre[2]) == (Y[0] == 1)) >= 0.8
    np.testing.assert_array_equal(images[..., 0].transpose(1, 2, 0), X[:, 0].reshape(IMAGE_SHAPE))  # the picture


def test_pasted_images_keep_every_pixel_somewhere_on_the_canvas():
    images = np.random.default_rng(0).random((5, 3, 2)) + 1  # no pixel is 0, the background's value
    pasted = paste_at_random(images, 6, np.random.default_rng(1))
    for image, canvas in zip(images, pasted):
        top, left = np.argwhere(canvas > 0).min(axis=0)
        np.testing.assert_array_equal(canvas[top : top + 3, left : left + 2], image)
        assert np.count_nonzero(canvas) == image.size


def test_graph_conv_draws_a_tiny_cnn_with_a_frame_per_block(tmp_path):
    command = [sys.executable, "-m", "tinygraph.models.cli", "graph", "--conv", "2,3", "--out", str(tmp_path)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    forward = (tmp_path / "forward.svg").read_text()
    assert sorted(set(re.findall(r"conv block (\d) \(", forward))) == ["1", "2"]
    assert (tmp_path / "step-through" / "step-through.html").exists()
