"""The words in the pictures: shapes, value summaries, and local gradients read from the nodes' docstrings."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import tinygraph as tg
from tinygraph import elementwise, losses, matrix, reductions
from tinygraph.viz.labels import formulas, local_gradient_label, shape_text, summary

BUILT_IN = [
    cls
    for module in (elementwise, matrix, reductions, losses)
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
    assert local_gradient_label(Z, 0) == "dW/dA = (.) X^T"
    assert local_gradient_label(Z, 1) == "dW/dX = A^T (.)"


def test_unnamed_tensors_keep_the_docstrings_symbols():
    W = tg.Tensor(np.ones((2, 2)), requires_grad=True, name="W1")
    assert local_gradient_label(W @ np.ones((2, 3)), 0) == "dZ/dW1 = (.) A^T"


def test_a_leaf_has_no_local_gradient():
    with pytest.raises(ValueError, match=r"tensor 'W' is a leaf"):
        local_gradient_label(tg.Tensor(1.0, requires_grad=True, name="W"), 0)


@pytest.mark.parametrize(("shape", "text"), [((), "scalar"), ((5,), "5"), ((3, 8), "3 × 8")])
def test_shapes_are_written_as_the_notebook_does(shape, text):
    assert shape_text(shape) == text


def test_a_few_values_are_shown_in_full():
    assert summary(np.array([[1.0, -2.5], [0.125, 3.0]])) == "[1, -2.5, 0.125, 3]"


def test_more_values_are_summarised_by_min_mean_and_max():
    assert summary(np.arange(10.0)) == "min 0  mean 4.5  max 9"
