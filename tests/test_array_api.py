"""Every node runs on array-api-strict, the standard's strict reference implementation.

array-api-strict refuses whatever the Python array API standard leaves out (numpy-only
functions and methods, booleans times floats, `.T` of a vector, ints compared with
floats), so a node that runs on it runs on any library that follows the standard.
Its gradients must be exactly the numpy engine's, which tests/test_nodes.py proves
against finite differences: same inputs, same operations, same bits.
"""

import array_api_strict as xs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygraph as tg
from tinygraph import testing
from tinygraph.backend import to_numpy

STRICT_ARRAY = type(xs.asarray(0.0))


def engine_gradients(f, arrays, asarray):
    """dL/d(input) for L = sum(f(inputs) * R), R fixed and random, with every input held by `asarray`'s library."""
    tensors = [tg.Tensor(asarray(a), requires_grad=True) for a in arrays]
    out = f(*tensors)
    weights = asarray(np.random.default_rng(0).standard_normal(out.shape))
    (out * weights).sum().backward()
    return [t.grad for t in tensors]


def unary(f, shapes=testing.shapes(), **values):
    return st.tuples(st.just(f), testing.arrays(shapes, **values).map(lambda A: (A,)))


def binary(f, **values):
    return st.tuples(st.just(f), testing.broadcastable_arrays(2, **values))


def powers():
    exponents = st.one_of(st.integers(-3, 4), st.floats(-3.0, 3.0, allow_nan=False))
    return st.tuples(
        exponents.map(lambda p: lambda A: A**p),
        testing.arrays(testing.shapes(), min_value=0.2, max_value=3.0).map(lambda A: (A,)),
    )


@st.composite
def reductions(draw, reduce):
    A = draw(testing.arrays(testing.shapes()))
    axis, keepdims = draw(testing.reduction_axes(A.ndim)), draw(st.booleans())
    return lambda A: reduce(A, axis=axis, keepdims=keepdims), (A,)


@st.composite
def reshapes(draw):
    A = draw(testing.arrays(testing.shapes()))
    sides = draw(st.permutations(list(A.shape) + [1] * draw(st.integers(0, 2))))
    return lambda A: A.reshape(tuple(sides)), (A,)


@st.composite
def matmuls(draw):
    W = draw(testing.matrices(st.integers(1, 4), st.integers(1, 4)))
    return tg.matmul, (W, draw(testing.matrices(W.shape[1], st.integers(1, 4))))


@st.composite
def binary_losses(draw, loss, predictions):
    shape = draw(testing.shapes())
    return loss, (draw(predictions(shape)), draw(testing.binary_labels(shape)))


@st.composite
def softmax_cross_entropies(draw):
    Z = draw(testing.matrices(st.integers(1, 5), st.integers(1, 4), min_value=-10.0, max_value=10.0))
    K, n = Z.shape
    # numpy labels, a constant that joins the logits' library inside the node
    labels = np.array(draw(st.lists(st.integers(0, K - 1), min_size=n, max_size=n)), dtype=np.float64)
    return lambda Z: tg.softmax_cross_entropy(Z, labels), (Z,)


@st.composite
def convolutions(draw):
    X, W, b, stride, padding = draw(testing.conv2d_problems())
    return lambda X, W, b: tg.conv2d(X, W, b, stride=stride, padding=padding), (X, W, b)


@st.composite
def poolings(draw, pool):
    A, size, stride = draw(testing.pool2d_problems())
    return lambda A: pool(A, size, stride), (A,)


@st.composite
def permutations(draw):
    A = draw(testing.arrays(testing.shapes(min_dims=1, max_dims=4)))
    axes = tuple(draw(st.permutations(range(A.ndim))))
    return lambda A: tg.permute(A, axes), (A,)


NODES = [
    pytest.param(unary(lambda A: -A), id="Neg"),
    pytest.param(unary(tg.exp), id="Exp"),
    pytest.param(unary(tg.log, min_value=0.05, max_value=5.0), id="Log"),
    pytest.param(unary(tg.relu, avoid=[0.0]), id="ReLU"),
    pytest.param(unary(lambda Z: tg.leaky_relu(Z, slope=0.1), avoid=[0.0]), id="LeakyReLU"),
    pytest.param(unary(tg.sigmoid, min_value=-8.0, max_value=8.0), id="Sigmoid"),
    pytest.param(unary(tg.tanh), id="Tanh"),
    pytest.param(unary(tg.transpose, shapes=testing.shapes(max_dims=2)), id="Transpose"),
    pytest.param(binary(lambda A, B: A + B), id="Add"),
    pytest.param(binary(lambda A, B: A - B), id="Sub"),
    pytest.param(binary(lambda A, B: A * B), id="Mul"),
    pytest.param(binary(lambda A, B: A / B, avoid=[0.0], margin=0.25), id="Div"),
    pytest.param(powers(), id="Pow"),
    pytest.param(reductions(tg.sum), id="Sum"),
    pytest.param(reductions(tg.mean), id="Mean"),
    pytest.param(reshapes(), id="Reshape"),
    pytest.param(matmuls(), id="MatMul"),
    pytest.param(binary_losses(tg.binary_cross_entropy, testing.probabilities), id="BCE"),
    pytest.param(
        binary_losses(tg.binary_cross_entropy_with_logits, lambda shape: testing.arrays(shape, -10.0, 10.0)),
        id="BCEWithLogits",
    ),
    pytest.param(softmax_cross_entropies(), id="SoftmaxCrossEntropy"),
    pytest.param(convolutions(), id="Conv2D"),
    pytest.param(poolings(tg.max_pool2d), id="MaxPool2D"),
    pytest.param(poolings(tg.avg_pool2d), id="AvgPool2D"),
    pytest.param(permutations(), id="Permute"),
]


@pytest.mark.parametrize("case", NODES)
@given(data=st.data())
def test_node_gradients_on_array_api_strict_equal_the_numpy_engine(case, data):
    f, arrays = data.draw(case, label="node, inputs")
    expected = engine_gradients(f, arrays, np.asarray)
    grads = engine_gradients(f, arrays, xs.asarray)
    for g, e in zip(grads, expected):
        assert isinstance(g, STRICT_ARRAY)
        np.testing.assert_array_equal(to_numpy(g), e)


@pytest.mark.parametrize("dtype", [xs.float32, xs.float64], ids=str)
def test_tensor_keeps_the_floating_dtype_of_a_strict_array(dtype):
    t = tg.Tensor(xs.ones((2, 3), dtype=dtype))
    assert t.dtype == dtype
    assert t.xp.__name__ == "array_api_strict"


@pytest.mark.parametrize("dtype", [xs.bool, xs.int32, xs.int64], ids=str)
def test_tensor_turns_strict_booleans_and_integers_into_float64(dtype):
    t = tg.Tensor(xs.ones((2,), dtype=dtype))
    assert t.dtype == xs.float64
    assert isinstance(t.data, STRICT_ARRAY)


@pytest.mark.parametrize("constant", [2, 0.5, np.full((1, 3), 0.5), [[1.0], [2.0]]], ids=lambda c: type(c).__name__)
def test_constants_mixed_into_a_float32_strict_tensor_join_its_library_and_dtype(constant):
    W = tg.Tensor(xs.ones((2, 3), dtype=xs.float32), requires_grad=True)
    out = (W * constant + constant).sum()
    out.backward()
    assert isinstance(out.data, STRICT_ARRAY) and out.dtype == xs.float32
    assert isinstance(W.grad, STRICT_ARRAY) and W.grad.dtype == xs.float32
