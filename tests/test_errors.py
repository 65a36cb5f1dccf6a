"""Bad input is refused when the graph is built, with a typed error naming the node and the shapes."""

import operator
import re

import numpy as np
import pytest

import tinygraph as tg


def zeros(*shape):
    """A zero array of any shape that costs one float: every entry is the same memory."""
    return np.broadcast_to(np.zeros(1), shape)


def param(shape):
    return tg.Tensor(np.ones(shape), requires_grad=True)


# ---- shapes -------------------------------------------------------------------------------


def test_matmul_names_both_shapes_when_the_inner_sides_differ():
    # The notebook's W1 @ X with one feature too few in X.
    W1 = tg.Tensor(zeros(50, 12288), requires_grad=True)
    with pytest.raises(tg.ShapeError, match=re.escape("MatMul: cannot multiply (50, 12288) by (12287, 2000)")):
        W1 @ zeros(12287, 2000)


def test_matmul_refuses_arrays_that_are_not_matrices():
    with pytest.raises(tg.ShapeError, match=re.escape("MatMul: multiplies matrices (2-D), not shapes (3,) by (3, 2)")):
        tg.matmul(param(3), np.ones((3, 2)))


@pytest.mark.parametrize(
    "name, operation",
    [("Add", operator.add), ("Sub", operator.sub), ("Mul", operator.mul), ("Div", operator.truediv)],
)
def test_binary_node_names_the_shapes_that_do_not_broadcast(name, operation):
    with pytest.raises(tg.ShapeError, match=re.escape(f"{name}: cannot broadcast (2, 3) with (3, 2)")):
        operation(param((2, 3)), np.ones((3, 2)))


def test_reshape_names_both_shapes_when_the_sizes_differ():
    with pytest.raises(tg.ShapeError, match=re.escape("Reshape: cannot reshape (2, 3) into (4,)")):
        param((2, 3)).reshape(4)


REDUCTIONS = [("Sum", tg.sum), ("Mean", tg.mean)]


@pytest.mark.parametrize("name, reduce", REDUCTIONS)
def test_reduction_names_an_axis_out_of_range_and_the_shape(name, reduce):
    with pytest.raises(tg.ShapeError, match=re.escape(f"{name}: axis -3 is out of range for shape (2, 3)")):
        reduce(param((2, 3)), axis=-3)


@pytest.mark.parametrize("name, reduce", REDUCTIONS)
def test_reduction_refuses_an_axis_named_twice(name, reduce):
    with pytest.raises(tg.ShapeError, match=re.escape(f"{name}: axis (1, -1) names an axis of shape (2, 3) twice")):
        reduce(param((2, 3)), axis=(1, -1))


def test_transpose_refuses_more_than_two_dimensions():
    message = "Transpose: transposes matrices (at most 2-D), not shape (2, 2, 2)"
    with pytest.raises(tg.ShapeError, match=re.escape(message)):
        param((2, 2, 2)).T


@pytest.mark.parametrize(
    "name, loss", [("BCE", tg.binary_cross_entropy), ("BCEWithLogits", tg.binary_cross_entropy_with_logits)]
)
def test_binary_loss_refuses_labels_of_another_shape(name, loss):
    # A 1 x n prediction against n x 1 labels would silently broadcast to n x n.
    message = f"{name}: predictions of shape (1, 4) but labels of shape (4, 1)"
    with pytest.raises(tg.ShapeError, match=re.escape(message)):
        loss(tg.Tensor(np.full((1, 4), 0.5), requires_grad=True), np.ones((4, 1)))


def test_softmax_cross_entropy_refuses_a_label_count_other_than_the_example_count():
    with pytest.raises(tg.ShapeError, match=re.escape("SoftmaxCrossEntropy: 3 examples of logits (2, 3) but 2 labels")):
        tg.softmax_cross_entropy(param((2, 3)), np.array([0, 1]))


def test_softmax_cross_entropy_refuses_logits_that_are_not_a_matrix():
    with pytest.raises(tg.ShapeError, match=re.escape("SoftmaxCrossEntropy: logits must be K x n")):
        tg.softmax_cross_entropy(param(3), np.array([0, 1, 2]))


@pytest.mark.parametrize("labels", [[0, 3], [-1, 0], [0, 0.5]], ids=["too large", "negative", "not whole"])
def test_softmax_cross_entropy_refuses_labels_that_are_not_class_indices(labels):
    with pytest.raises(tg.LabelError, match=re.escape("SoftmaxCrossEntropy: labels must be whole numbers from 0 to 2")):
        tg.softmax_cross_entropy(param((3, 2)), np.array(labels))


class BiasSummedDownColumns(tg.Node):
    """Z = A + b, whose gradient toward b is summed over the wrong axis: 1 x n instead of nh x 1."""

    def forward(self, A, b):
        return A + b

    def local_grads(self, dZ):
        return dZ, dZ.sum(axis=0, keepdims=True)


def test_a_local_gradient_that_cannot_be_summed_back_to_its_input_names_the_node_input_and_shapes():
    A, b = param((3, 4)), param((3, 1))
    with pytest.raises(tg.GradientShapeError, match=re.escape(
        "BiasSummedDownColumns: local_grads returned a gradient of shape (1, 4) for input 1 of shape (3, 1)"
    )) as caught:  # fmt: skip
        BiasSummedDownColumns.apply(A, b).sum().backward()
    assert (caught.value.position, caught.value.returned, caught.value.expected) == (1, (1, 4), (3, 1))


# ---- what a tensor may hold ----------------------------------------------------------------


NOT_NUMBERS = [
    pytest.param(np.array(["cat", "dog"]), id="strings"),
    pytest.param(np.array([1.0, None], dtype=object), id="objects"),
    pytest.param(np.array([1 + 2j]), id="complex"),
    pytest.param([[1.0, 2.0], [3.0]], id="ragged list"),
]


@pytest.mark.parametrize("data", NOT_NUMBERS)
def test_tensor_refuses_data_that_is_not_real_numbers(data):
    with pytest.raises(tg.DTypeError, match="Tensor 'X'"):
        tg.Tensor(data, name="X")


@pytest.mark.parametrize("data", NOT_NUMBERS)
def test_an_expression_refuses_a_constant_that_is_not_real_numbers(data):
    with pytest.raises(tg.DTypeError, match="constant"):
        param(2) + data


@pytest.mark.parametrize("exponent", [tg.Tensor(2.0), np.array([2.0]), "2"], ids=["Tensor", "array", "string"])
def test_pow_refuses_an_exponent_that_is_not_a_number(exponent):
    with pytest.raises(tg.DTypeError, match="Pow: the exponent must be a Python number"):
        param(2) ** exponent


# ---- the errors are typed -------------------------------------------------------------------


@pytest.mark.parametrize(
    "error, also",
    [
        (tg.ShapeError, ValueError),
        (tg.GradientShapeError, tg.ShapeError),
        (tg.LabelError, ValueError),
        (tg.DTypeError, TypeError),
        (tg.GraphReleasedError, RuntimeError),
        (tg.AnomalyError, FloatingPointError),
        (tg.GradcheckError, AssertionError),
    ],
)
def test_every_error_is_a_tinygraph_error_and_the_builtin_kind_callers_expect(error, also):
    assert issubclass(error, tg.TinygraphError) and issubclass(error, also)


# ---- anomaly mode ----------------------------------------------------------------------------


def test_anomaly_mode_names_the_first_node_whose_forward_produced_infinity():
    A = tg.Tensor([0.0, 1.0], requires_grad=True, name="A")
    with tg.detect_anomaly(), np.errstate(divide="ignore"):
        with pytest.raises(tg.AnomalyError, match=re.escape("Log: forward produced infinity (inputs: A (2,))")):
            tg.exp(tg.log(A))  # Exp would carry the -inf on; Log is named


def test_anomaly_mode_names_the_first_node_whose_forward_produced_nan():
    A = tg.Tensor([-1.0, 1.0], requires_grad=True, name="A")
    with tg.detect_anomaly(), np.errstate(invalid="ignore"):
        with pytest.raises(tg.AnomalyError, match=re.escape("Pow: forward produced NaN (inputs: A (2,))")):
            A**0.5


def test_anomaly_mode_names_the_first_node_whose_backward_produced_infinity():
    x = tg.Tensor([0.0, 4.0], requires_grad=True, name="x")
    with tg.detect_anomaly(), np.errstate(divide="ignore"):
        L = (x**0.5 * 2).sum()  # the forward is finite: sqrt(0) = 0
        with pytest.raises(tg.AnomalyError, match=re.escape("Pow: backward produced infinity (inputs: x (2,))")):
            L.backward()


def test_without_anomaly_mode_nan_passes_silently():
    A = tg.Tensor([-1.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        assert np.isnan((A**0.5).item())
