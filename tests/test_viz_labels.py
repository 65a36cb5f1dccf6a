"""The words in the pictures: shapes, value summaries, and local gradients read from the nodes' docstrings."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import tinygraph as tg
from tinygraph import elementwise, indexing, losses, matrix, reductions
from tinygraph.viz.labels import formulas, grid_html, local_gradient_label, produced, shape_text, summary, value_lines

BUILT_IN = [
    cls
    for module in (elementwise, matrix, reductions, losses, indexing)
    for _, cls in inspect.getmembers(module, inspect.isclass)
    if issubclass(cls, tg.Node) and cls.__module__ == module.__name__ and "forward" in vars(cls)
]
# Inputs whose gradient no lecture asks for: labels. Their edges get the bare dL/dY.
UNDOCUMENTED_INPUTS = {("BCE", "Y"), ("BCEWithLogits", "Y"), ("SoftmaxCrossEntropy", "labels")}


def test_the_built_in_operations_are_all_found():
    assert {"Add", "MatMul", "ReLU", "Sigmoid", "Sum", "BCE"} <= {cls.__name__ for cls in BUILT_IN}


@pytest.mark.parametrize("cls", BUILT_IN, ids=lambda cls: cls.__name__)
def test_every_built_in_operation_states_its_local_gradients_in_its_docstring(cls):
    found = formulas(cls)
    assert found is not None, f"{cls.__name__}: docstring's first line is not 'Z = ...;  dL/dA = ...'"
    missing = {(cls.__name__, name) for name in found.inputs if name not in found.grads}
    assert missing <= UNDOCUMENTED_INPUTS


def test_formulas_are_read_per_input_from_the_docstring():
    found = formulas(matrix.MatMul)
    assert (found.output, found.inputs) == ("Z", ("W", "A"))
    assert found.grads == {"W": "dL/dZ A^T", "A": "W^T dL/dZ"}


def test_a_docstring_without_formulas_gives_none():
    class Plain(tg.Node):
        """Doubles its input."""

        def forward(self, A):
            return 2 * A

    assert formulas(Plain) is None


def test_names_replace_the_docstrings_symbols_all_at_once():
    # W -> A and A -> X must not chain into W -> X.
    W = tg.Tensor(np.ones((2, 2)), requires_grad=True, name="A")
    A = tg.Tensor(np.ones((2, 2)), requires_grad=True, name="X")
    Z = W @ A
    Z.name = "W"
    assert local_gradient_label(Z, 0) == "dL/dA = dL/dW X^T"
    assert local_gradient_label(Z, 1) == "dL/dX = A^T dL/dW"


def test_unnamed_tensors_keep_the_docstrings_symbols():
    W = tg.Tensor(np.ones((2, 2)), requires_grad=True, name="W1")
    assert local_gradient_label(W @ np.ones((2, 3)), 0) == "dL/dW1 = dL/dZ A^T"


def test_a_leaf_has_no_local_gradient():
    with pytest.raises(ValueError, match=r"tensor 'W' is a leaf"):
        local_gradient_label(tg.Tensor(1.0, requires_grad=True, name="W"), 0)


@pytest.mark.parametrize(("shape", "text"), [((), "scalar"), ((5,), "5"), ((3, 8), "3 × 8")])
def test_shapes_are_written_as_the_notebook_does(shape, text):
    assert shape_text(shape) == text


def test_a_small_matrix_is_shown_in_full_rows_as_rows():
    assert summary(np.array([[1.0, -2.5], [0.125, 3.0]])) == "[[1, -2.5], [0.125, 3]]"


def test_a_column_is_shown_as_a_column():
    assert value_lines(np.array([[0.5], [-1.0], [0.0]])) == ["[0.5]", "[ -1]", "[  0]"]


def test_a_grid_aligns_its_columns_and_shows_zeros_and_signs():
    assert value_lines(np.array([[0.0, -1.25], [2.0, 0.0]])) == ["[    0  -1.25]", "[    2      0]"]


def test_negative_zero_is_shown_as_0():
    assert summary(np.array([-0.0, 0.0 * -3.0, 5e-4])) == "[0, 0, 0.0005]"


def test_a_scalar_is_its_number():
    assert summary(np.float64(0.6931)) == "0.693"


def test_up_to_six_by_six_is_a_grid_and_larger_is_summarised():
    assert len(value_lines(np.ones((6, 6)))) == 6
    assert summary(np.arange(10.0)) == "min 0  mean 4.5  max 9"
    assert summary(np.arange(14.0).reshape(2, 7)) == "min 0  mean 6.5  max 13"


def test_grid_html_is_a_table_with_a_row_per_row():
    table = grid_html(np.array([[1.0, 0.0], [-2.0, 3.0]]))
    assert table == '<table class="grid"><tr><td>1</td><td>0</td></tr><tr><td>-2</td><td>3</td></tr></table>'


def test_settings_of_a_node_are_shown_as_numbers():
    A = tg.Tensor(np.ones((2, 2)), requires_grad=True, name="A1")
    assert local_gradient_label(A**2, 0) == "dL/dA1 = dL/dZ * 2 A1^(2-1)"
    assert local_gradient_label(tg.leaky_relu(A, 0.2), 0) == "dL/dA1 = dL/dA * (1 where A1 > 0, else 0.2)"
    assert local_gradient_label(tg.binary_cross_entropy(tg.sigmoid(A), np.ones((2, 2))), 0).endswith(
        "/ (4 Yhat (1 - Yhat))"
    )


def test_a_broadcast_input_says_its_gradient_is_summed_over_the_columns():
    b1 = tg.Tensor(np.zeros((3, 1)), requires_grad=True, name="b1")
    Z1 = tg.Tensor(np.ones((3, 4)), requires_grad=True, name="W1X") + b1
    Z1.name = "Z1"
    assert local_gradient_label(Z1, 1) == "dL/db1 = (dL/dZ1) summed over its 4 columns"
    assert local_gradient_label(Z1, 0) == "dL/dW1X = dL/dZ1"


def test_an_operation_is_named_by_the_tensor_it_produces():
    Z1 = tg.Tensor(np.ones(2), requires_grad=True) + 1.0
    assert produced(Z1, "Z1") == "Add -> Z1"
