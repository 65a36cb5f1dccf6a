"""Hypothesis strategies for testing nodes against finite differences.

A new node is tested in a few lines:

    from hypothesis import given
    import tinygraph as tg
    from tinygraph.testing import broadcastable_arrays

    @given(broadcastable_arrays(2))
    def test_my_node_gradient(arrays):
        assert tg.gradcheck(lambda a, b: MyNode.apply(a, b), arrays)

Or a whole node class at once, over inputs these strategies draw (docs/check.md):

    from tinygraph.testing import check_node

    def test_my_node():
        report = check_node(MyNode)
        assert report.passed, str(report)

Values are kept `margin` away from the points listed in `avoid` (kinks such as
relu's 0, where a finite difference straddles two slopes) and inside
[min_value, max_value] (positive only, for log or a divisor).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygraph.checking import check_node  # noqa: F401  (the whole check of a node class, on these strategies)


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4) -> st.SearchStrategy:
    """Array shapes, from scalars () to small 3-D ones."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(
    count: int, min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> st.SearchStrategy:
    """Tuples of `count` shapes that broadcast together, e.g. ((4, 3), (4, 1)) or ((3,), (2, 3))."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=count, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    ).map(lambda result: result.input_shapes)


def floats(
    min_value: float = -3.0, max_value: float = 3.0, avoid: Sequence[float] = (), margin: float = 1e-2
) -> st.SearchStrategy:
    """Finite float64 values in [min_value, max_value], at least `margin` from each point in `avoid`."""
    values = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False)
    if avoid:
        values = values.filter(lambda v: all(abs(v - point) >= margin for point in avoid))
    return values


def arrays(
    shape: tuple[int, ...] | st.SearchStrategy,
    min_value: float = -3.0,
    max_value: float = 3.0,
    avoid: Sequence[float] = (),
    margin: float = 1e-2,
    dtype: type = np.float64,
    every_entry_drawn: bool = False,
) -> st.SearchStrategy:
    """Arrays of `shape` (a shape or a strategy of shapes) with values drawn by floats().

    hypothesis fills most of a larger array with one value; `every_entry_drawn`
    draws each entry on its own instead, so that the arrays are rarely symmetric
    (a gradient missing a transpose is right on a symmetric matrix).
    """
    fill = st.nothing() if every_entry_drawn else None
    return hnp.arrays(dtype, shape, elements=floats(min_value, max_value, avoid, margin), fill=fill)


def broadcastable_arrays(
    count: int, min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4, **values
) -> st.SearchStrategy:
    """Tuples of `count` float64 arrays whose shapes broadcast together; `values` as for arrays()."""
    return broadcastable_shapes(count, min_dims, max_dims, min_side, max_side).flatmap(
        lambda shape_tuple: st.tuples(*(arrays(shape, **values) for shape in shape_tuple))
    )


def reduction_axes(ndim: int) -> st.SearchStrategy:
    """An `axis` for reducing an array of `ndim` dimensions: None, one axis, or a tuple of distinct
    axes (negative ones too, and the empty tuple, which reduces nothing)."""
    one_axis = st.integers(-ndim, ndim - 1) if ndim else st.nothing()
    return st.one_of(st.none(), one_axis, hnp.valid_tuple_axes(ndim))


def matrices(rows: int | st.SearchStrategy, columns: int | st.SearchStrategy, **values) -> st.SearchStrategy:
    """2-D float64 arrays; rows and columns may be numbers or strategies of numbers."""
    as_strategy = lambda n: n if isinstance(n, st.SearchStrategy) else st.just(n)  # noqa: E731
    return st.tuples(as_strategy(rows), as_strategy(columns)).flatmap(lambda shape: arrays(shape, **values))


def binary_labels(shape: tuple[int, ...]) -> st.SearchStrategy:
    """Arrays of 0.0 and 1.0, as the notebook's Y."""
    return hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0]))


def probabilities(shape: tuple[int, ...], margin: float = 1e-2) -> st.SearchStrategy:
    """Arrays of values in [margin, 1 - margin], as a sigmoid's Yhat."""
    return arrays(shape, min_value=margin, max_value=1 - margin)


@st.composite
def conv2d_problems(draw, max_side: int = 5, max_channels: int = 3, max_examples: int = 2) -> tuple:
    """(X, W, b, stride, padding) for conv2d: C x H x W x n images, out x C x kh x kw filters that fit
    the padded images (so windows may overlap, or skip pixels when the stride exceeds the kernel), a bias."""
    channels, out = draw(st.integers(1, max_channels)), draw(st.integers(1, max_channels))
    n = draw(st.integers(1, max_examples))
    height, width, padding = draw(st.integers(1, max_side)), draw(st.integers(1, max_side)), draw(st.integers(0, 2))
    kh, kw = draw(st.integers(1, min(height + 2 * padding, 4))), draw(st.integers(1, min(width + 2 * padding, 4)))
    X = draw(arrays((channels, height, width, n)))
    return X, draw(arrays((out, channels, kh, kw))), draw(arrays((out,))), draw(st.integers(1, 3)), padding


@st.composite
def pool2d_problems(draw, max_side: int = 6, max_channels: int = 2, max_examples: int = 2) -> tuple:
    """(A, size, stride) for pooling: C x H x W x n images whose values are all at least 0.1 apart
    (no ties, so max is differentiable everywhere) and a window that fits, overlapping when stride < size."""
    shape = (
        draw(st.integers(1, max_channels)),
        draw(st.integers(1, max_side)),
        draw(st.integers(1, max_side)),
        draw(st.integers(1, max_examples)),
    )
    order = draw(st.permutations(range(int(np.prod(shape)))))
    A = (np.array(order, dtype=np.float64).reshape(shape) - len(order) / 2) * 0.1
    size = draw(st.integers(1, min(shape[1], shape[2], 3)))
    return A, size, draw(st.integers(1, 3))
