"""Deep networks' gradients against finite differences, for hypothesis-drawn sizes, activations and data."""

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

import tinygraph as tg
from tinygraph.models.mlp import ACTIVATIONS, MLP
from tinygraph.testing import matrices

KINKED = {"relu", "leaky_relu"}  # their slope jumps at Z = 0


@st.composite
def networks(draw, min_hidden_layers, outputs, dropout=0.0):
    """(model, X, n): an MLP with random nonzero biases, and inputs X (nx x n)."""
    hidden = draw(st.lists(st.integers(1, 3), min_size=min_hidden_layers, max_size=min_hidden_layers + 1))
    nx, n = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    activations = draw(st.lists(st.sampled_from(sorted(ACTIVATIONS)), min_size=len(hidden), max_size=len(hidden)))
    seed = draw(st.integers(0, 2**16))
    model = MLP([nx, *hidden, outputs], activations, init="he", seed=seed, dropout=dropout)
    rng = np.random.default_rng(seed)
    for layer in range(1, model.depth + 1):  # nonzero biases, so zero inputs do not sit on relu's kink
        model.params[f"b{layer}"].data = rng.uniform(-1, 1, model.params[f"b{layer}"].shape)
    return model, draw(matrices(nx, n)), n


def away_from_kinks(model, X, training=False, margin=1e-3):
    """True when no relu or leaky relu input is within `margin` of 0, where the slope is undefined."""
    steps = model.forward_steps(X, training)
    return all(
        np.abs(steps[f"Z{layer}"].numpy()).min() > margin
        for layer, activation in enumerate(model.activations, start=1)
        if activation in KINKED
    )


def loss_of_parameters(model, X, Y, training=False, mask_seed=0):
    """The loss as a function of the parameter tensors, for gradcheck.

    In training mode each call draws the same dropout masks, so the function is a
    fixed one, whose gradient finite differences can check.
    """
    names = list(model.params)

    def loss(*parameters):
        model.params.update(zip(names, parameters))
        model.dropout_rng = np.random.default_rng(mask_seed)
        return model.loss(X, Y, training)

    return loss


@given(networks(min_hidden_layers=5, outputs=1), st.data())
def test_five_hidden_layers_with_binary_cross_entropy_match_finite_differences(network, data):
    model, X, n = network
    Y = np.reshape(data.draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=n, max_size=n)), (1, n))
    assume(away_from_kinks(model, X))
    assert tg.gradcheck(loss_of_parameters(model, X, Y), model.parameters())


@given(networks(min_hidden_layers=2, outputs=3), st.data())
def test_softmax_cross_entropy_through_the_network_matches_finite_differences(network, data):
    model, X, n = network
    labels = np.array([data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))])
    assume(away_from_kinks(model, X))
    assert tg.gradcheck(loss_of_parameters(model, X, labels), model.parameters())


@given(networks(min_hidden_layers=2, outputs=1, dropout=0.5), st.data())
def test_gradients_through_fixed_dropout_masks_match_finite_differences(network, data):
    model, X, n = network
    Y = np.reshape(data.draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=n, max_size=n)), (1, n))
    model.dropout_rng = np.random.default_rng(0)
    assume(away_from_kinks(model, X, training=True))
    assert tg.gradcheck(loss_of_parameters(model, X, Y, training=True), model.parameters())
