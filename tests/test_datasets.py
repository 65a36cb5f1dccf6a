"""tinygraph.models.datasets: the built-in 2-D problems and the synthetic images, made in code from a seed."""

import numpy as np
import pytest

from tinygraph.models import datasets
from tinygraph.models.data import load_train_val
from tinygraph.models.datasets import DATASETS, load_builtin, synthetic_images, write_synthetic_images

NAMES = sorted(DATASETS)


def test_the_four_datasets_are_built_in():
    assert NAMES == ["circles", "moons", "spirals", "xor"]


@pytest.mark.parametrize("name", NAMES)
def test_shapes_are_the_notebooks_layout(name):
    train_X, train_Y, val_X, val_Y = DATASETS[name](n_train=30, n_val=12, seed=0)
    assert (train_X.shape, train_Y.shape, val_X.shape, val_Y.shape) == ((2, 30), (1, 30), (2, 12), (1, 12))
    assert all(a.dtype == np.float64 for a in (train_X, train_Y, val_X, val_Y))


@pytest.mark.parametrize("name", NAMES)
def test_labels_are_zero_or_one_and_balanced(name):
    _, train_Y, _, val_Y = DATASETS[name](n_train=101, n_val=40, seed=3)
    labels = np.concatenate([train_Y, val_Y], axis=1)
    assert set(np.unique(labels)) == {0.0, 1.0}
    assert abs(labels.sum() - labels.size / 2) <= 0.5


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_gives_the_same_data(name):
    first, second = DATASETS[name](seed=7), DATASETS[name](seed=7)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", NAMES)
def test_another_seed_gives_other_data(name):
    assert not np.array_equal(DATASETS[name](seed=1)[0], DATASETS[name](seed=2)[0])


@pytest.mark.parametrize("name", NAMES)
def test_noise_zero_puts_the_classes_apart(name):
    """Without noise the two classes' points never coincide: each dataset's shape is what separates them."""
    X, Y, _, _ = DATASETS[name](n_train=400, n_val=1, seed=0, noise=0.0)
    zeros, ones = X[:, Y[0] == 0], X[:, Y[0] == 1]
    closest = np.min(np.linalg.norm(zeros[:, :, None] - ones[:, None, :], axis=0))
    assert closest > 1e-3


def test_more_noise_spreads_the_points():
    quiet, noisy = (datasets.make_circles(seed=0, noise=noise)[0] for noise in (0.0, 0.3))
    radius = lambda X: np.linalg.norm(X, axis=0)  # noqa: E731
    assert np.std(radius(noisy)) > np.std(radius(quiet))


def test_negative_noise_is_refused():
    with pytest.raises(ValueError, match="noise"):
        datasets.make_moons(noise=-0.1)


def test_no_training_examples_is_refused():
    with pytest.raises(ValueError, match="n_train"):
        datasets.make_xor(n_train=0)


def test_load_builtin_uses_each_datasets_defaults():
    for name in NAMES:
        for a, b in zip(load_builtin(name, seed=4), DATASETS[name](seed=4)):
            np.testing.assert_array_equal(a, b)


def test_unknown_dataset_names_the_ones_there_are():
    expected = "unknown dataset 'mnist'; choose one of moons, circles, xor, spirals"
    with pytest.raises(ValueError, match=expected):
        load_builtin("mnist")


# --- synthetic images ----------------------------------------------------------------------


def test_synthetic_images_have_the_notebooks_shape_and_pixel_range():
    X, Y = synthetic_images(5, np.random.default_rng(0))
    assert X.shape == (64 * 64 * 3, 5) and Y.shape == (1, 5)
    assert X.min() >= 0 and X.max() <= 1
    np.testing.assert_array_equal(X * 255, np.round(X * 255))  # whole multiples of 1/255


def test_synthetic_images_are_learnable():
    """The class is in the colour of the centre: even nearest-class-mean beats chance clearly."""
    rng = np.random.default_rng(0)
    X, Y = synthetic_images(200, rng)
    val_X, val_Y = synthetic_images(200, rng)
    means = [X[:, Y[0] == label].mean(axis=1, keepdims=True) for label in (0, 1)]
    predicted = np.linalg.norm(val_X - means[1], axis=0) < np.linalg.norm(val_X - means[0], axis=0)
    assert np.mean(predicted == val_Y[0]) > 0.8


def test_pixels_are_rows_of_a_64x64x3_reshape():
    """As the notebook shows them: X[:, i].reshape(64, 64, 3) is image i, its disc in the middle."""
    X, _ = synthetic_images(50, np.random.default_rng(1))
    images = X.T.reshape(50, 64, 64, 3)
    centre, corner = images[:, 28:36, 28:36, :], images[:, :8, :8, :]
    # the disc's colour differs from the grey background: channels spread more in the centre
    assert np.std(centre.mean(axis=(1, 2)), axis=1).mean() > np.std(corner.mean(axis=(1, 2)), axis=1).mean()


def test_write_synthetic_images_writes_loadable_train_and_validation(tmp_path):
    train, val = write_synthetic_images(tmp_path / "out", n_train=6, n_val=4, seed=2)
    assert (train.name, val.name) == ("train.csv", "validation.csv")
    shapes = [a.shape for a in load_train_val(train, val)]
    assert shapes == [(12288, 6), (1, 6), (12288, 4), (1, 4)]


def test_write_synthetic_images_is_deterministic_per_seed(tmp_path):
    first = write_synthetic_images(tmp_path / "a", n_train=3, n_val=2, seed=5)
    second = write_synthetic_images(tmp_path / "b", n_train=3, n_val=2, seed=5)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_command_line_writes_the_two_files(tmp_path, capsys):
    assert datasets.main(["synthetic", "--out", str(tmp_path), "--n-train", "3", "--n-val", "2"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.csv", "validation.csv"]
    assert "wrote" in capsys.readouterr().out


def test_synthetic_files_without_images_are_refused(tmp_path):
    with pytest.raises(ValueError, match="at least one image"):
        write_synthetic_images(tmp_path, n_train=5, n_val=0)
    assert list(tmp_path.iterdir()) == []
