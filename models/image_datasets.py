"""Small image datasets for the CNN chapter, made in code or bundled with scikit-learn (nothing is downloaded).

Both return (train_X, train_Y, val_X, val_Y) in the notebook's layout: one image per
column, flattened as numpy's reshape(h, w, c) reads it, and labels as a 1 x n row.

    make_patterns   a plus or a cross, 3 x 3 pixels, at a random place in a noisy
                    12 x 12 grey image: the label depends on a local pattern
                    wherever it is, which a convolution finds and a dense layer
                    must learn anew at every position
    load_digits     scikit-learn's 1,797 handwritten digits, 8 x 8 grey, labels 0..9,
                    as they come (centred) or each at a random place on a larger canvas
"""

from __future__ import annotations

import numpy as np

from tinygraph.models.datasets import Split

PLUS = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=float)  # label 1
CROSS = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=float)  # label 0: as many lit pixels as the plus


def make_patterns(n_train: int = 800, n_val: int = 400, seed: int = 0, side: int = 12) -> Split:
    """Grey side x side images (one channel) of uniform noise in [0, 0.3) with a plus (1) or a cross (0) added."""
    if n_train < 1 or n_val < 1 or side < 3:
        raise ValueError(f"need n_train, n_val >= 1 and side >= 3, got {n_train}, {n_val} and {side}")
    rng = np.random.default_rng(seed)
    n = n_train + n_val
    Y = rng.permutation(np.arange(n) % 2)
    images = rng.uniform(0.0, 0.3, (n, side, side))
    top, left = rng.integers(0, side - 2, n), rng.integers(0, side - 2, n)
    rows = top[:, None, None] + np.arange(3)[None, :, None]  # n x 3 x 1: the pattern's rows in each image
    columns = left[:, None, None] + np.arange(3)[None, None, :]
    images[np.arange(n)[:, None, None], rows, columns] += 0.7 * np.where(Y[:, None, None] == 1, PLUS, CROSS)
    X, Y = images.reshape(n, -1).T, Y[None, :].astype(np.float64)
    return X[:, :n_train], Y[:, :n_train], X[:, n_train:], Y[:, n_train:]


def load_digits(n_val: int = 397, seed: int = 0, canvas: int | None = None) -> Split:
    """scikit-learn's 8 x 8 digits (pixels scaled to [0, 1]) shuffled by `seed`, the last n_val for validation.

    With `canvas`, each digit is pasted at a random place (drawn from `seed`) on a
    canvas x canvas black image: the same digits, no longer centred.
    """
    try:
        from sklearn.datasets import load_digits as bundled
    except ImportError as error:
        raise ImportError("the digits come with scikit-learn: pip install scikit-learn") from error
    digits = bundled()
    order = np.random.default_rng(seed).permutation(len(digits.target))
    images = digits.images[order] / 16.0
    if canvas is not None:
        images = paste_at_random(images, canvas, np.random.default_rng(seed))
    X = images.reshape(len(order), -1).T
    Y = digits.target[order][None, :].astype(np.float64)
    split = X.shape[1] - n_val
    return X[:, :split], Y[:, :split], X[:, split:], Y[:, split:]


def paste_at_random(images: np.ndarray, canvas: int, rng: np.random.Generator) -> np.ndarray:
    """Each of the n x h x w images pasted at a random place on an n x canvas x canvas zero background."""
    n, h, w = images.shape
    if canvas < max(h, w):
        raise ValueError(f"a canvas of {canvas} cannot hold images of {h} x {w}")
    top, left = rng.integers(0, canvas - h + 1, n), rng.integers(0, canvas - w + 1, n)
    rows = top[:, None, None] + np.arange(h)[None, :, None]
    columns = left[:, None, None] + np.arange(w)[None, None, :]
    out = np.zeros((n, canvas, canvas))
    out[np.arange(n)[:, None, None], rows, columns] = images
    return out
