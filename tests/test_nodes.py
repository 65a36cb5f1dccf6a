"""Every node's gradient equals central finite differences.

Each property draws shapes (scalars, size-1 dimensions, broadcasting pairs) and
float64 values with the public strategies of tinygraph.testing, and hands them to
tinygraph.gradcheck, which reduces a non-scalar output with random weights, so
every output entry is checked against every input entry.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygraph as tg
from tinygraph import testing

# Values for each unary node: away from kinks (relu's 0) and inside its domain (log's).
UNARY_NODES = [
    pytest.param(lambda A: -A, {}, id="Neg"),
    pytest.param(tg.exp, {}, id="Exp"),
    pytest.param(tg.log, dict(min_value=0.05, max_value=5.0), id="Log"),
    pytest.param(tg.relu, dict(avoid=[0.0]), id="ReLU"),
    pytest.param(lambda Z: tg.leaky_relu(Z, slope=0.1), dict(avoid=[0.0]), id="LeakyReLU"),
    pytest.param(tg.sigmoid, dict(min_value=-8.0, max_value=8.0), id="Sigmoid"),
    pytest.param(tg.tanh, {}, id="Tanh"),
]


@pytest.mark.parametrize("node, values", UNARY_NODES)
@given(data=st.data())
def test_unary_node_gradient_matches_finite_differences(node, values, data):
    A = data.draw(testing.arrays(testing.shapes(), **values), label="A")
    assert tg.gradcheck(node, [A])


def some_constant(data, *arrays):
    """`arrays` as tensors, any of which (but not all) may be a constant, as the notebook's X is.

    gradcheck checks only the inputs that require a gradient; the node must skip the others.
    """
    flags = st.lists(st.booleans(), min_size=len(arrays), max_size=len(arrays)).filter(any)
    requires_grad = data.draw(flags, label="requires_grad")
    return [tg.Tensor(x, requires_grad=r) for x, r in zip(arrays, requires_grad)]


BINARY_NODES = [
    pytest.param(lambda A, B: A + B, {}, id="Add"),
    pytest.param(lambda A, B: A - B, {}, id="Sub"),
    pytest.param(lambda A, B: A * B, {}, id="Mul"),
    # Denominators of either sign, kept away from 0 where A / B blows up.
    pytest.param(lambda A, B: A / B, dict(avoid=[0.0], margin=0.25), id="Div"),
]


@pytest.mark.parametrize("node, values", BINARY_NODES)
@given(data=st.data())
def test_binary_node_gradient_matches_finite_differences_when_broadcasting(node, values, data):
    A, B = data.draw(testing.broadcastable_arrays(2, **values), label="A, B")
    assert tg.gradcheck(node, some_constant(data, A, B))


@given(
    A=testing.arrays(testing.shapes(), min_value=0.2, max_value=3.0),
    exponent=st.floats(-3.0, 3.0, allow_nan=False),
)
def test_pow_gradient_for_a_real_exponent_of_positive_bases(A, exponent):
    assert tg.gradcheck(lambda A: A**exponent, [A])


@given(
    A=testing.arrays(testing.shapes(), avoid=[0.0], margin=0.2),
    exponent=st.integers(-3, 4),
)
def test_pow_gradient_for_a_whole_exponent_of_bases_of_either_sign(A, exponent):
    assert tg.gradcheck(lambda A: A**exponent, [A])


@pytest.mark.parametrize("reduce", [tg.sum, tg.mean], ids=["Sum", "Mean"])
@given(data=st.data(), keepdims=st.booleans())
def test_reduction_gradient_matches_finite_differences_for_any_axis(reduce, data, keepdims):
    A = data.draw(testing.arrays(testing.shapes()), label="A")
    axis = data.draw(testing.reduction_axes(A.ndim), label="axis")
    assert tg.gradcheck(lambda A: reduce(A, axis=axis, keepdims=keepdims), [A])


@given(A=testing.arrays(testing.shapes(max_dims=2)))
def test_transpose_gradient_matches_finite_differences(A):
    assert tg.gradcheck(lambda A: A.T, [A])


@given(data=st.data())
def test_reshape_gradient_matches_finite_differences(data):
    A = data.draw(testing.arrays(testing.shapes()), label="A")
    # Any arrangement of A's sides, with some 1s, and perhaps one side left to numpy as -1.
    sides = data.draw(st.permutations(list(A.shape) + [1] * data.draw(st.integers(0, 2))), label="shape")
    if sides and data.draw(st.booleans(), label="use -1"):
        sides[data.draw(st.integers(0, len(sides) - 1))] = -1
    assert tg.gradcheck(lambda A: A.reshape(tuple(sides)), [A])


matrix_sides = st.integers(1, 4)


@given(W=testing.matrices(matrix_sides, 3), A=testing.matrices(3, matrix_sides), data=st.data())
def test_matmul_gradient_matches_finite_differences(W, A, data):
    assert tg.gradcheck(tg.matmul, some_constant(data, W, A))


def labels(shape):
    """The notebook's 0/1 labels, or soft labels anywhere in [0, 1]."""
    return st.one_of(testing.binary_labels(shape), testing.arrays(shape, min_value=0.0, max_value=1.0))


@given(data=st.data())
def test_bce_gradient_toward_probabilities_and_labels(data):
    shape = data.draw(testing.shapes(), label="shape")
    Yhat = data.draw(testing.probabilities(shape), label="Yhat")
    Y = data.draw(labels(shape), label="Y")
    assert tg.gradcheck(tg.binary_cross_entropy, [Yhat, Y])


@given(data=st.data())
def test_bce_with_logits_gradient_toward_logits_and_labels(data):
    shape = data.draw(testing.shapes(), label="shape")
    Z = data.draw(testing.arrays(shape, min_value=-10.0, max_value=10.0), label="Z")
    Y = data.draw(labels(shape), label="Y")
    assert tg.gradcheck(tg.binary_cross_entropy_with_logits, [Z, Y])


@given(Z=testing.matrices(st.integers(1, 5), matrix_sides, min_value=-10.0, max_value=10.0), data=st.data())
def test_softmax_cross_entropy_gradient_toward_logits(Z, data):
    K, n = Z.shape
    labels = data.draw(st.lists(st.integers(0, K - 1), min_size=n, max_size=n), label="labels")
    as_row = data.draw(st.booleans(), label="labels as 1 x n")
    labels = np.array(labels).reshape((1, n) if as_row else (n,))
    assert tg.gradcheck(lambda Z: tg.softmax_cross_entropy(Z, labels), [Z])


@given(data=st.data())
def test_indexing_gradient_scatters_into_zeros_for_ints_slices_and_none(data):
    A = data.draw(testing.arrays(testing.shapes()), label="A")
    key = data.draw(hnp.basic_indices(A.shape, allow_newaxis=True), label="key")
    assert tg.gradcheck(lambda A: A[key], [A])


@given(data=st.data())
def test_indexing_gradient_adds_the_contributions_of_entries_picked_twice(data):
    A = data.draw(testing.arrays(testing.shapes(min_dims=1)), label="A")
    key = data.draw(hnp.integer_array_indices(A.shape, result_shape=testing.shapes(min_dims=1)), label="key")
    assert tg.gradcheck(lambda A: A[key], [A])
