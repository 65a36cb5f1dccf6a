"""Initialisers: their bounds and spread, their seeding, and the notebook's exact numbers."""

import numpy as np
import pytest

from tinygraph.models.initializers import INITIALIZERS, get_initializer, he_normal, initialize, notebook_uniform, xavier_uniform

FAN_OUT, FAN_IN = 300, 400  # large enough for sample statistics within a few percent


def draw(initializer, seed=0, shape=(FAN_OUT, FAN_IN)):
    return initializer(shape, np.random.RandomState(seed))


def test_notebook_uniform_stays_within_plus_minus_one_hundredth():
    W = draw(notebook_uniform)
    assert W.min() >= -0.01 and W.max() < 0.01
    assert W.max() - W.min() > 0.019  # and fills the range


def test_initialize_with_notebook_uniform_reproduces_the_notebooks_parameters():
    nx, nh, ny = 5, 4, 1
    saved = np.random.get_state()
    try:  # the notebook's initialize_parameters, verbatim
        np.random.seed(1)
        W1 = np.random.uniform(size=(nh, nx), low=-0.01, high=0.01)
        W2 = np.random.uniform(size=(ny, nh), low=-0.01, high=0.01)
    finally:
        np.random.set_state(saved)
    params = initialize([nx, nh, ny], "uniform", seed=1)
    np.testing.assert_array_equal(params["W1"], W1)
    np.testing.assert_array_equal(params["W2"], W2)
    np.testing.assert_array_equal(params["b1"], np.zeros((nh, 1)))
    np.testing.assert_array_equal(params["b2"], np.zeros((ny, 1)))


def test_xavier_uniform_stays_within_its_limit_and_has_variance_two_over_fan_in_plus_fan_out():
    W = draw(xavier_uniform)
    limit = np.sqrt(6 / (FAN_IN + FAN_OUT))
    assert np.abs(W).max() <= limit
    assert W.var() == pytest.approx(2 / (FAN_IN + FAN_OUT), rel=0.03)


def test_he_normal_has_mean_zero_and_variance_two_over_fan_in():
    W = draw(he_normal)
    assert abs(W.mean()) < 3 * np.sqrt(2 / FAN_IN / W.size)  # three standard errors
    assert W.var() == pytest.approx(2 / FAN_IN, rel=0.03)


@pytest.mark.parametrize("name", INITIALIZERS)
def test_the_same_seed_gives_the_same_weights(name):
    np.testing.assert_array_equal(draw(INITIALIZERS[name], seed=7), draw(INITIALIZERS[name], seed=7))


@pytest.mark.parametrize("name", INITIALIZERS)
def test_different_seeds_give_different_weights(name):
    assert not np.array_equal(draw(INITIALIZERS[name], seed=7), draw(INITIALIZERS[name], seed=8))


def test_initialize_gives_each_layer_n_out_by_n_in_weights_and_zero_biases_in_layer_order():
    params = initialize([3, 5, 4, 2], "he", seed=0)
    assert list(params) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert [params[f"W{layer}"].shape for layer in (1, 2, 3)] == [(5, 3), (4, 5), (2, 4)]
    assert all(not params[f"b{layer}"].any() for layer in (1, 2, 3))
    assert [params[f"b{layer}"].shape for layer in (1, 2, 3)] == [(5, 1), (4, 1), (2, 1)]


def test_an_unknown_initializer_is_refused_with_the_known_names():
    with pytest.raises(ValueError, match="glorot.*uniform, xavier, he"):
        get_initializer("glorot")
