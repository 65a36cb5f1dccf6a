"""Built-in datasets, made in code from a seed (nothing is downloaded).

Four 2-D problems for decision-boundary pictures: two moons (the default),
circles, XOR and spirals. Each `make_<name>(n_train, n_val, seed, noise)` returns
(train_X, train_Y, val_X, val_Y) in the notebook's layout: X is 2 x n, Y is 1 x n
with labels 0 and 1, the classes as balanced as n allows. `noise` is the standard
deviation of the Gaussian noise added to every point.

`write_synthetic_images` writes a stand-in for the notebook's cat/dog files, of
their exact shape, to try the CSV path at full size:

    python -m tinygraph.models.datasets synthetic --out data/
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from tinygraph.models.data import write_csv
from tinygraph.models.errors import ConfigError, lookup

Split = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # train_X, train_Y, val_X, val_Y
Points = Callable[[np.ndarray, np.random.Generator], np.ndarray]  # labels, generator -> 2 x n points
IMAGE_SHAPE = (64, 64, 3)  # height, width, RGB: the notebook's images


def make_moons(n_train: int = 800, n_val: int = 200, seed: int = 1, noise: float = 0.15) -> Split:
    """Two interleaved half circles: class 0 arches up, class 1 arches down through its middle."""
    return _split(_moons, n_train, n_val, seed, noise)


def make_circles(n_train: int = 800, n_val: int = 200, seed: int = 1, noise: float = 0.08) -> Split:
    """Two concentric circles: class 0 outside (radius 1), class 1 inside (radius 0.5)."""
    return _split(_circles, n_train, n_val, seed, noise)


def make_xor(n_train: int = 800, n_val: int = 200, seed: int = 1, noise: float = 0.3) -> Split:
    """Four clusters at (+-1, +-1): class 1 where the coordinates' signs differ."""
    return _split(_xor, n_train, n_val, seed, noise)


def make_spirals(n_train: int = 1600, n_val: int = 400, seed: int = 1, noise: float = 0.05) -> Split:
    """Two spirals wound around each other, one and a half turns each."""
    return _split(_spirals, n_train, n_val, seed, noise)


DATASETS: dict[str, Callable[..., Split]] = {
    "moons": make_moons,
    "circles": make_circles,
    "xor": make_xor,
    "spirals": make_spirals,
}


def load_builtin(name: str, seed: int = 1) -> Split:
    """The built-in dataset `name` at its default size and noise: (train_X, train_Y, val_X, val_Y)."""
    return lookup(DATASETS, name, "dataset")(seed=seed)


def _split(points: Points, n_train: int, n_val: int, seed: int, noise: float) -> Split:
    """Draw n_train + n_val labelled points, add noise, shuffle, and split them into training and validation."""
    if n_train < 1 or n_val < 0:
        raise ConfigError(f"need n_train >= 1 and n_val >= 0, got n_train={n_train} and n_val={n_val}")
    if noise < 0:
        raise ConfigError(f"noise is a standard deviation and cannot be negative, got {noise}")
    rng = np.random.default_rng(seed)
    n = n_train + n_val
    Y = rng.permutation(np.arange(n) % 2).astype(np.float64)[np.newaxis, :]
    X = points(Y[0], rng) + rng.normal(0.0, noise, (2, n))
    return X[:, :n_train], Y[:, :n_train], X[:, n_train:], Y[:, n_train:]


def _moons(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    angle = rng.uniform(0.0, np.pi, labels.size)
    upper = np.stack([np.cos(angle), np.sin(angle)])
    lower = np.stack([1.0 - np.cos(angle), 0.5 - np.sin(angle)])
    return np.where(labels == 1, lower, upper)


def _circles(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    angle = rng.uniform(0.0, 2 * np.pi, labels.size)
    radius = np.where(labels == 1, 0.5, 1.0)
    return radius * np.stack([np.cos(angle), np.sin(angle)])


def _xor(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    first = rng.choice([-1.0, 1.0], labels.size)
    second = np.where(labels == 1, -first, first)
    return np.stack([first, second])


def _spirals(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    along = np.sqrt(rng.uniform(0.0, 1.0, labels.size))  # sqrt: as many points per length outside as inside
    angle = 3 * np.pi * along + np.pi * labels
    return along * np.stack([np.cos(angle), np.sin(angle)])


def synthetic_images(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n images in the notebook's layout: X is 12288 x n pixels in [0, 1], Y is 1 x n.

    Every image is a grey background of random brightness, a disc near the centre
    and pixel noise. The disc is orange-ish for a "dog" (label 1) and blue-ish for
    a "cat" (label 0), each animal's shade drawn around its class's: the colour of
    the centre tells the classes apart, mostly, and a classifier must learn it.
    Pixels are whole multiples of 1/255, as in an image file.
    """
    height, width, _ = IMAGE_SHAPE
    Y = rng.permutation(np.arange(n) % 2)[np.newaxis, :]
    rows, cols = np.mgrid[0:height, 0:width]
    centre = rng.normal([height / 2, width / 2], 4.0, (n, 2))
    radius = rng.uniform(10.0, 18.0, n)
    distance2 = (rows - centre[:, 0, None, None]) ** 2 + (cols - centre[:, 1, None, None]) ** 2
    inside = distance2 < radius[:, None, None] ** 2
    tints = np.array([[0.35, 0.4, 0.6], [0.6, 0.45, 0.35]])  # cat (blue), dog (orange)
    tints = tints[Y[0]] + rng.normal(0.0, 0.12, (n, 3))  # no two animals quite alike
    images = np.where(inside[..., None], tints[:, None, None, :], rng.uniform(0.3, 0.6, (n, 1, 1, 1)))
    images += rng.normal(0.0, 0.2, images.shape)
    pixels = np.round(np.clip(images, 0.0, 1.0) * 255).astype(np.uint8) / 255
    return np.ascontiguousarray(pixels.reshape(n, -1).T), Y.astype(np.float64)


def write_synthetic_images(
    out_dir: str | os.PathLike[str], n_train: int = 2000, n_val: int = 500, seed: int = 1
) -> tuple[Path, Path]:
    """Write train.csv and validation.csv of the notebook's exact shape into out_dir; return their paths.

    12,289 rows (the 64x64x3 pixels of each image as rows of its numpy reshape,
    then the label row) and n_train / n_val columns. The full size is about
    470 MB and 120 MB of text and takes a minute to write.
    """
    if n_train < 1 or n_val < 1:
        raise ConfigError(f"need at least one image in each file, got n_train={n_train} and n_val={n_val}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = out_dir / "train.csv", out_dir / "validation.csv"
    for path, n in zip(paths, (n_train, n_val)):
        write_csv(path, *synthetic_images(n, rng))
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tinygraph.models.datasets", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    synthetic = commands.add_parser("synthetic", help="write train.csv and validation.csv of synthetic 64x64x3 images")
    synthetic.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write the two files into")
    synthetic.add_argument("--n-train", type=int, default=2000, help="training images (default: 2000)")
    synthetic.add_argument("--n-val", type=int, default=500, help="validation images (default: 500)")
    synthetic.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    args = parser.parse_args(argv)
    for path in write_synthetic_images(args.out, args.n_train, args.n_val, args.seed):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
