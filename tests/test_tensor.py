"""What a student sees of a tensor: its values in repr(), float(), format(), and t[i, j]."""

import numpy as np
import pytest

import tinygraph as tg


def test_repr_of_a_small_tensor_shows_its_values_as_numpy_prints_them():
    W1 = tg.Tensor([[0.5, -1.0], [0.0, 2.0]], requires_grad=True, name="W1")
    assert repr(W1) == "Tensor([[ 0.5, -1. ],\n        [ 0. ,  2. ]], name='W1', requires_grad=True)"


def test_repr_of_a_computed_tensor_names_its_node():
    assert repr(tg.Tensor([1.0, 2.0], requires_grad=True) * 3) == "Tensor([3., 6.], node=Mul)"


def test_repr_of_a_float32_tensor_says_so():
    assert repr(tg.Tensor(np.ones(2, dtype=np.float32))) == "Tensor([1., 1.], dtype=float32)"


def test_repr_of_a_large_tensor_summarises_it():
    X = tg.Tensor(np.arange(12288.0).reshape(12288, 1), name="X")
    assert repr(X) == "Tensor(shape=(12288, 1), min=0, mean=6144, max=1.229e+04, name='X')"


def test_float_of_a_one_element_tensor_is_its_value():
    assert float(tg.Tensor([[0.25]])) == 0.25


def test_float_of_a_larger_tensor_names_its_shape():
    with pytest.raises(tg.ShapeError, match=r"one element, not one of shape \(2,\)"):
        float(tg.Tensor([1.0, 2.0]))


def test_format_spec_formats_the_value():
    assert f"{tg.Tensor(2.0) / 3:.3f}" == "0.667"


def test_indexing_picks_the_entry_numpy_would():
    A = np.arange(12.0).reshape(3, 4)
    t = tg.Tensor(A)
    assert float(t[1, 2]) == A[1, 2]
    np.testing.assert_array_equal(t[:, :2].data, A[:, :2])
    np.testing.assert_array_equal(t[[0, 2]].data, A[[0, 2]])


def test_indexing_gradient_is_the_upstream_gradient_scattered_into_zeros():
    W = tg.Tensor(np.ones((2, 3)), requires_grad=True)
    (W[:, 1:] * tg.Tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    np.testing.assert_array_equal(W.grad, [[0.0, 1.0, 2.0], [0.0, 3.0, 4.0]])


def test_indexing_out_of_range_names_the_shape_and_the_index():
    with pytest.raises(tg.ShapeError, match=r"Index: cannot index shape \(2, 3\) with \(0, 5\)"):
        tg.Tensor(np.ones((2, 3)))[0, 5]
