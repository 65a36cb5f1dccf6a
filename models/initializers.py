"""Weight initialisers: where gradient descent starts from.

Each initialiser is a pure function of a weight shape (n_out, n_in) and a
np.random.RandomState, returning a float64 array. A network draws its layers in
order, W1 first, from one RandomState(seed), so with the notebook's uniform
initialiser a one-hidden-layer net gets the notebook's W1 and W2 exactly (it
calls np.random.seed(1) and then draws W1 and W2 in turn). Biases start at zero.

Random weights break the symmetry between the units of a layer: units that start
equal compute the same function, receive the same gradient and stay equal.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tinygraph.models.errors import lookup

Initializer = Callable[[tuple[int, int], np.random.RandomState], np.ndarray]


def notebook_uniform(shape: tuple[int, int], rng: np.random.RandomState) -> np.ndarray:
    """W ~ U[-0.01, 0.01): the notebook's initialize_parameters. Fine for one small layer; deep nets fade out."""
    return rng.uniform(-0.01, 0.01, shape)


def xavier_uniform(shape: tuple[int, int], rng: np.random.RandomState) -> np.ndarray:
    """W ~ U[-a, a), a = sqrt(6 / (n_in + n_out)) (Glorot & Bengio, 2010).

    Var(W) = a^2 / 3 = 2 / (n_in + n_out) keeps the variance of activations and
    of gradients roughly constant through tanh or sigmoid layers. Keras's default.
    """
    n_out, n_in = shape
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, shape)


def he_normal(shape: tuple[int, int], rng: np.random.RandomState) -> np.ndarray:
    """W ~ N(0, 2 / n_in) (He et al., 2015): relu zeroes half its inputs, so the variance is doubled.

    As torch.nn.init.kaiming_normal_ with fan_in and relu's gain sqrt(2).
    """
    n_out, n_in = shape
    return rng.normal(0.0, np.sqrt(2.0 / n_in), shape)


INITIALIZERS: dict[str, Initializer] = {
    "uniform": notebook_uniform,
    "xavier": xavier_uniform,
    "he": he_normal,
}


def get_initializer(name: str) -> Initializer:
    """The initialiser called `name`; a ConfigError lists the known names otherwise."""
    return lookup(INITIALIZERS, name, "initialiser")


def initialize(layer_sizes: list[int], init: str = "xavier", seed: int = 1) -> dict[str, np.ndarray]:
    """W1, b1, W2, b2, ... for a net of `layer_sizes` [nx, n1, ..., ny]: Wl is n_l x n_(l-1), bl is n_l x 1.

    The weights are drawn in layer order from np.random.RandomState(seed); biases are zeros.
    """
    draw = get_initializer(init)
    rng = np.random.RandomState(seed)
    arrays = {}
    for layer, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]), start=1):
        arrays[f"W{layer}"] = draw((n_out, n_in), rng)
        arrays[f"b{layer}"] = np.zeros((n_out, 1))
    return arrays
