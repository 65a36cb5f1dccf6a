"""float64 by default; float32 stays float32 end to end, in values and in gradients."""

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.node import Node

# Every node, built from two 2 x 2 inputs with entries in (0, 1), where each one is defined.
EVERY_NODE = {
    "Add": lambda A, B: A + B,
    "Sub": lambda A, B: A - B,
    "Mul": lambda A, B: A * B,
    "Div": lambda A, B: A / B,
    "Neg": lambda A, B: -A,
    "Pow": lambda A, B: A**1.5,
    "Exp": lambda A, B: tg.exp(A),
    "Log": lambda A, B: tg.log(A),
    "ReLU": lambda A, B: tg.relu(A - 0.5),
    "LeakyReLU": lambda A, B: tg.leaky_relu(A - 0.5),
    "Sigmoid": lambda A, B: tg.sigmoid(A),
    "Tanh": lambda A, B: tg.tanh(A),
    "Sum": lambda A, B: A.sum(axis=0),
    "Mean": lambda A, B: A.mean(),
    "Transpose": lambda A, B: A.T,
    "Reshape": lambda A, B: A.reshape(4),
    "Index": lambda A, B: A[:, :1],
    "MatMul": lambda A, B: A @ B,
    "BCE": lambda A, B: tg.binary_cross_entropy(A, B),
    "BCEWithLogits": lambda A, B: tg.binary_cross_entropy_with_logits(A, B),
    "SoftmaxCrossEntropy": lambda A, B: tg.softmax_cross_entropy(A, np.array([1, 0])),
    "Permute": lambda A, B: tg.permute(A, (1, 0)),
    # Images are C x H x W x n: one channel, 2 x 2 pixels, one example.
    "Conv2D": lambda A, B: tg.conv2d(A.reshape(1, 2, 2, 1), B.reshape(1, 1, 2, 2), padding=1),
    "MaxPool2D": lambda A, B: tg.max_pool2d(A.reshape(1, 2, 2, 1)),
    "AvgPool2D": lambda A, B: tg.avg_pool2d(A.reshape(1, 2, 2, 1)),
}


def concrete_nodes(cls=Node):
    """Every class in tinygraph below `cls` that implements a forward."""
    for sub in cls.__subclasses__():
        if sub.__module__.startswith("tinygraph.") and "forward" in vars(sub):
            yield sub.__name__
        yield from concrete_nodes(sub)


def test_the_dtype_table_covers_every_node_in_tinygraph():
    assert set(concrete_nodes()) == set(EVERY_NODE)


@pytest.mark.parametrize("name", EVERY_NODE)
def test_float32_inputs_give_a_float32_output_and_float32_gradients(name):
    rng = np.random.default_rng(0)
    A, B = (tg.Tensor(rng.uniform(0.1, 0.9, (2, 2)).astype(np.float32), requires_grad=True) for _ in range(2))
    out = EVERY_NODE[name](A, B)
    assert type(out.node).__name__ == name
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert A.grad.dtype == np.float32
    assert B.grad is None or B.grad.dtype == np.float32


@pytest.mark.parametrize("data", [[1.0, 2.0], 3.0, np.array([0.5])], ids=["list", "number", "array"])
def test_float64_is_the_default(data):
    assert tg.Tensor(data).dtype == np.float64


@pytest.mark.parametrize(
    "data", [np.arange(3), np.array([True, False]), [1, 2], 7], ids=["int array", "bools", "int list", "int"]
)
def test_integers_and_bools_become_float64(data):
    assert tg.Tensor(data).dtype == np.float64


def test_float32_data_stays_float32():
    assert tg.Tensor(np.ones(3, dtype=np.float32)).dtype == np.float32


MIXED_INTO_FLOAT32 = [
    pytest.param(lambda x: x + 1.5, id="x + float"),
    pytest.param(lambda x: 1.5 - x, id="float - x"),
    pytest.param(lambda x: 3 * x, id="int * x"),
    pytest.param(lambda x: 4 / x, id="int / x"),
    pytest.param(lambda x: x**2, id="x ** int"),
    pytest.param(lambda x: x ** np.float64(0.5), id="x ** np.float64"),
    pytest.param(lambda x: tg.leaky_relu(x, slope=np.float64(0.1)), id="np.float64 slope"),
    pytest.param(lambda x: x * np.ones(3), id="x * float64 array"),
    pytest.param(lambda x: np.ones((1, 3)) @ x.reshape((3, 1)), id="float64 array @ x"),
]


@pytest.mark.parametrize("expression", MIXED_INTO_FLOAT32)
def test_numbers_and_arrays_mixed_in_take_the_tensors_dtype(expression):
    x = tg.Tensor(np.full(3, 0.5, dtype=np.float32), requires_grad=True)
    out = expression(x)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert x.grad.dtype == np.float32


def test_a_float32_tensor_mixed_with_a_float64_tensor_keeps_a_float32_gradient():
    # The result is float64, as in numpy; the gradient is cast back so a float32 parameter stays float32.
    w = tg.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    x = tg.Tensor(np.full(3, 0.1), requires_grad=True)
    out = (w * x).sum()
    assert out.dtype == np.float64
    out.backward()
    assert w.grad.dtype == np.float32 and x.grad.dtype == np.float64
    np.testing.assert_allclose(w.grad, np.full(3, 0.1, dtype=np.float32))
