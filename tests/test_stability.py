"""Saturated inputs give exact, finite results and no floating-point warnings.

`quiet` turns numpy's overflow, division-by-zero and invalid-operation warnings
into errors. Underflow stays allowed, as in numpy's defaults: sigmoid(-1000) is
5e-435, which no float can hold, so rounding it to 0 is the exact answer.
"""

import warnings
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygraph as tg
from tinygraph import testing


@contextmanager
def quiet():
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_of_plus_and_minus_1000_is_exactly_1_and_0(dtype):
    Z = tg.Tensor(np.array([1000.0, -1000.0], dtype=dtype), requires_grad=True)
    with quiet():
        Yhat = tg.sigmoid(Z)
        Yhat.sum().backward()
    np.testing.assert_array_equal(Yhat.data, [1.0, 0.0])
    np.testing.assert_array_equal(Z.grad, [0.0, 0.0])


@given(data=st.data())
def test_sigmoid_keeps_full_relative_precision_on_both_sides(data):
    Z = data.draw(testing.arrays(data.draw(testing.shapes(min_dims=1)), min_value=-700, max_value=700), label="Z")
    with quiet():
        Yhat = tg.sigmoid(Z).data
    exact = 1 / (1 + np.exp(-Z.astype(np.longdouble)))  # extended precision where the platform has it
    np.testing.assert_allclose(Yhat, exact.astype(np.float64), rtol=4 * np.finfo(np.float64).eps, atol=0)


def test_bce_with_logits_of_a_confident_correct_logit_keeps_its_tiny_loss():
    # log(1 + exp(9)) - 9 would cancel to a few correct digits; log(1 + exp(-9)) keeps all of them.
    L = tg.binary_cross_entropy_with_logits(np.array([9.0]), np.array([1.0]))
    assert L.item() == pytest.approx(np.log1p(np.exp(-9.0)), rel=1e-15)


def test_bce_of_probabilities_exactly_0_and_1_is_finite():
    Yhat = tg.Tensor([0.0, 1.0, 0.0, 1.0], requires_grad=True)
    Y = tg.Tensor([0.0, 1.0, 1.0, 0.0], requires_grad=True)
    with quiet():
        L = tg.binary_cross_entropy(Yhat, Y)
        L.backward()
    assert np.isfinite(L.item())
    assert np.all(np.isfinite(Yhat.grad)) and np.all(np.isfinite(Y.grad))


def test_bce_clips_probabilities_to_machine_epsilon():
    # The documented clipping: a confident wrong answer costs -log(eps), not infinity.
    eps = np.finfo(np.float64).eps
    L = tg.binary_cross_entropy(tg.Tensor([0.0, 1.0]), np.array([1.0, 0.0]))
    assert L.item() == pytest.approx(-np.log(eps), rel=1e-12)


def closed_form_bce_with_logits(Z, Y):
    """max(Z, 0) - Y Z + log(1 + exp(-|Z|)): the loss per entry, without overflow."""
    return np.maximum(Z, 0) - Y * Z + np.log1p(np.exp(-np.abs(Z)))


@given(data=st.data())
def test_bce_with_logits_matches_the_closed_form_for_logits_up_to_1e4(data):
    shape = data.draw(testing.shapes(min_dims=1), label="shape")
    Z = data.draw(testing.arrays(shape, min_value=-1e4, max_value=1e4), label="Z")
    Y = data.draw(testing.binary_labels(shape), label="Y")
    logits = tg.Tensor(Z, requires_grad=True)
    with quiet():
        L = tg.binary_cross_entropy_with_logits(logits, Y)
        L.backward()
    assert L.item() == pytest.approx(closed_form_bce_with_logits(Z, Y).mean(), rel=1e-12, abs=1e-300)
    with np.errstate(over="ignore"):  # the textbook sigmoid: exp(1e4) is inf, and 1 / inf the exact 0
        sigmoid = 1 / (1 + np.exp(-Z))
    np.testing.assert_allclose(logits.grad, (sigmoid - Y) / Z.size, rtol=1e-12, atol=1e-300)


def test_bce_with_logits_at_plus_and_minus_1e4_is_exact():
    Z = tg.Tensor([1e4, -1e4, 1e4, -1e4], requires_grad=True)
    with quiet():
        L = tg.binary_cross_entropy_with_logits(Z, np.array([1.0, 0.0, 0.0, 1.0]))
        L.backward()
    assert L.item() == (0 + 0 + 1e4 + 1e4) / 4
    np.testing.assert_array_equal(Z.grad, np.array([0.0, 0.0, 1.0, -1.0]) / 4)


def test_softmax_cross_entropy_with_logits_of_1e4_is_exact():
    # Column 0: the label has the largest logit by 1e4, so its probability is 1.
    # Column 1: the label's logit is 2e4 below the largest, so its loss is 2e4.
    Z = tg.Tensor([[1e4, 1e4], [0.0, 0.0], [-1e4, -1e4]], requires_grad=True)
    with quiet():
        L = tg.softmax_cross_entropy(Z, np.array([0, 2]))
        L.backward()
    assert L.item() == (0.0 + 2e4) / 2
    np.testing.assert_array_equal(Z.grad, np.array([[0.0, 1.0], [0.0, 0.0], [0.0, -1.0]]) / 2)
