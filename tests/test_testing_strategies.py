"""The public hypothesis strategies of tinygraph.testing draw what they promise."""

import numpy as np
from hypothesis import find, given
from hypothesis import strategies as st

from tinygraph import testing


@given(st.integers(1, 4).flatmap(lambda count: st.tuples(st.just(count), testing.broadcastable_arrays(count))))
def test_broadcastable_arrays_broadcast_together(count_and_arrays):
    count, arrays = count_and_arrays
    assert len(arrays) == count
    np.broadcast_shapes(*(a.shape for a in arrays))  # raises if they do not
    assert all(a.dtype == np.float64 for a in arrays)


# broadcastable_arrays draws its shapes from broadcastable_shapes; each of these finds one kind of pair.


def test_broadcastable_shapes_include_stretched_size_1_dimensions():
    a, b = find(testing.broadcastable_shapes(2), lambda ab: len(ab[0]) == len(ab[1]) and ab[0] != ab[1])
    assert 1 in a + b


def test_broadcastable_shapes_include_a_scalar_against_an_array():
    find(testing.broadcastable_shapes(2), lambda ab: ab[0] == () and ab[1] != ())


def test_broadcastable_shapes_include_arrays_of_fewer_dimensions():
    find(testing.broadcastable_shapes(2), lambda ab: 0 < len(ab[0]) < len(ab[1]))


@given(testing.broadcastable_arrays(2, min_side=0))
def test_broadcastable_arrays_may_be_empty_when_asked(arrays):
    np.broadcast_shapes(*(a.shape for a in arrays))


@given(testing.arrays(testing.shapes(), min_value=-0.5, max_value=2.0))
def test_arrays_stay_within_min_and_max(A):
    assert np.all((-0.5 <= A) & (A <= 2.0))


@given(testing.arrays(testing.shapes(), avoid=[0.0, 1.0], margin=0.1))
def test_arrays_stay_a_margin_away_from_the_points_to_avoid(A):
    assert np.all(np.abs(A) >= 0.1) and np.all(np.abs(A - 1.0) >= 0.1)


@given(testing.shapes(min_dims=1, max_dims=2, min_side=2, max_side=3))
def test_shapes_respect_their_bounds(shape):
    assert 1 <= len(shape) <= 2 and all(2 <= side <= 3 for side in shape)


@given(testing.matrices(st.integers(1, 3), 4))
def test_matrices_have_the_rows_and_columns_asked_for(M):
    assert M.ndim == 2 and 1 <= M.shape[0] <= 3 and M.shape[1] == 4


@given(testing.probabilities((2, 3), margin=0.05))
def test_probabilities_stay_a_margin_inside_0_and_1(P):
    assert P.shape == (2, 3) and np.all((0.05 <= P) & (P <= 0.95))


@given(testing.binary_labels((1, 5)))
def test_binary_labels_are_0_or_1(Y):
    assert Y.shape == (1, 5) and set(np.unique(Y)) <= {0.0, 1.0}


@given(testing.shapes().flatmap(lambda shape: st.tuples(st.just(shape), testing.reduction_axes(len(shape)))))
def test_reduction_axes_are_valid_for_numpy(shape_and_axis):
    shape, axis = shape_and_axis
    np.sum(np.ones(shape), axis=axis)  # raises for an axis out of range or named twice
