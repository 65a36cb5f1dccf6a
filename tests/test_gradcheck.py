"""gradcheck passes correct gradients, catches wrong ones, and says exactly where."""

import re

import numpy as np
import pytest

import tinygraph as tg


class Square(tg.Node):
    """Z = A^2;  dL/dA = dL/dZ * 2A"""

    def forward(self, A):
        self.save_for_backward(A)
        return A * A

    def local_grads(self, dZ):
        (A,) = self.saved
        return (dZ * 2 * A,)


class HalfSquare(Square):
    """Z = A^2 with a wrong gradient: dL/dZ * A, half the right one."""

    def local_grads(self, dZ):
        (A,) = self.saved
        return (dZ * A,)


class Scale(tg.Node):
    """Z = A * B with the gradient toward B wrong: it forgets A."""

    def forward(self, A, B):
        self.save_for_backward(B)
        return A * B

    def local_grads(self, dZ):
        (B,) = self.saved
        return dZ * B, dZ


class SwapBackward(tg.Node):
    """Z = A with the gradient entries swapped: right for the sum of Z, wrong for each entry."""

    def forward(self, A):
        return A.copy()

    def local_grads(self, dZ):
        return (dZ[::-1],)


def reported_values(error):
    """The analytic and numeric gradients quoted in a GradcheckError."""
    found = re.search(r"analytic gradient (\S+) but finite differences give (\S+) ", str(error))
    return float(found[1]), float(found[2])


def test_passes_a_correct_node():
    assert tg.gradcheck(lambda A: Square.apply(A), [np.array([[-1.0, 0.5], [2.0, 3.0]])])


def test_names_the_input_the_entry_and_both_values_of_a_wrong_gradient():
    # Where A is 0, the half gradient is still right: entry 2 is the first wrong one.
    A = tg.Tensor([0.0, 0.0, 3.0], requires_grad=True, name="A")
    with pytest.raises(tg.GradcheckError, match=r"input 0 \('A'\) of shape \(3,\), entry \(2,\)") as caught:
        tg.gradcheck(lambda A: HalfSquare.apply(A), [A])
    analytic, numeric = reported_values(caught.value)
    assert analytic == pytest.approx(numeric / 2, rel=1e-6)


def test_names_the_second_input_when_its_gradient_is_wrong():
    with pytest.raises(tg.GradcheckError, match=r"input 1 of shape \(2, 1\), entry \(0, 0\)") as caught:
        tg.gradcheck(lambda A, B: Scale.apply(A, B), [np.array([[2.0], [3.0]]), np.array([[1.0], [1.0]])])
    analytic, numeric = reported_values(caught.value)
    assert numeric == pytest.approx(2 * analytic, rel=1e-6)  # the missing factor is A[0, 0] = 2


def test_the_error_holds_the_input_the_entry_and_both_values():
    with pytest.raises(tg.GradcheckError) as caught:
        tg.gradcheck(lambda A: HalfSquare.apply(A), [np.array([0.0, 0.0, 3.0])])
    error = caught.value
    assert (error.position, error.entry, error.kink) == (0, (2,), False)
    assert (error.analytic, error.numeric) == pytest.approx(reported_values(error), rel=1e-9)


def test_a_disagreement_at_a_kink_says_the_slopes_on_either_side_differ():
    # relu's gradient at 0 is taken as 0; finite differences straddle the kink and give half the slope.
    kink = r"the slopes on either side differ \(0 left, [0-9.]+ right\): a kink"
    with pytest.raises(tg.GradcheckError, match=kink) as caught:
        tg.gradcheck(tg.relu, [np.array(0.0)])
    assert caught.value.kink


def test_checks_every_output_entry_not_only_their_sum():
    with pytest.raises(tg.GradcheckError):
        tg.gradcheck(lambda A: SwapBackward.apply(A), [np.array([1.0, 2.0])])


def test_tolerances_are_adjustable():
    # HalfSquare is off by half the numeric value: inside rtol=0.6, outside the default 1e-3.
    assert tg.gradcheck(lambda A: HalfSquare.apply(A), [np.array([1.0, 2.0])], rtol=0.6)


def test_checks_only_the_inputs_that_require_a_gradient():
    # Scale's gradient toward B is wrong, but B is a constant here, so it is not asked for.
    B = tg.Tensor([[1.0], [1.0]], requires_grad=False)
    assert tg.gradcheck(lambda A, B: Scale.apply(A, B), [np.array([[2.0], [3.0]]), B])


@pytest.mark.parametrize(
    "x",
    [np.ones(3, dtype=np.float32), tg.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)],
    ids=["array", "Tensor"],
)
def test_refuses_float32_inputs(x):
    with pytest.raises(tg.DTypeError, match="input 0 is float32; finite differences need float64"):
        tg.gradcheck(lambda A: Square.apply(A), [x])


def test_leaves_the_callers_arrays_and_tensors_untouched():
    A = np.array([[1.0, -2.0], [0.5, 3.0]])
    B = tg.Tensor([[2.0, 1.0]], requires_grad=True)
    A_before, B_before = A.copy(), B.data.copy()
    A.flags.writeable = B.data.flags.writeable = False  # not even a write undone later
    tg.gradcheck(lambda A, B: A * B, [A, B])
    np.testing.assert_array_equal(A, A_before)
    np.testing.assert_array_equal(B.data, B_before)
    assert B.grad is None


def test_numerical_grad_returns_the_finite_difference_gradient_of_each_input():
    A, B = np.array([[1.0, -2.0]]), np.array([[3.0], [0.5]])
    dA, dB = tg.numerical_grad(lambda A, B: (A @ B).sum() ** 2, [A, B])
    s = (A @ B).item()
    np.testing.assert_allclose(dA, 2 * s * B.T, rtol=1e-7)
    np.testing.assert_allclose(dB, 2 * s * A.T, rtol=1e-7)


def test_numerical_grad_gives_none_for_constants():
    B = tg.Tensor([2.0], requires_grad=False)
    dA, dB = tg.numerical_grad(lambda A, B: (A * B).sum(), [np.array([1.0]), B])
    np.testing.assert_allclose(dA, [2.0])
    assert dB is None


def test_numerical_grad_refuses_a_loss_that_is_not_a_scalar():
    with pytest.raises(tg.ShapeError, match=r"f must return a scalar loss, not a tensor of shape \(2,\)"):
        tg.numerical_grad(lambda A: A * 2, [np.array([1.0, 2.0])])


def test_numerical_grad_leaves_the_callers_array_untouched():
    A = np.array([1.0, 2.0])
    A.flags.writeable = False
    tg.numerical_grad(lambda A: (A * A).sum(), [A])
    np.testing.assert_array_equal(A, [1.0, 2.0])
