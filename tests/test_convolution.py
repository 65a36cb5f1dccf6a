"""Convolution, pooling and the image layout: definitions, gradients against finite differences, errors.

Images are C x H x W x n (examples last). Each gradient property draws shapes,
strides, paddings and channel counts with tinygraph.testing's strategies and hands
them to tinygraph.gradcheck, which checks every input entry.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygraph as tg
from tinygraph import testing
from tinygraph.viz.labels import local_gradient_label


def conv2d_by_definition(X, W, b, stride, padding):
    """Z[o, i, j, n] = b[o] + sum over c, u, v of W[o, c, u, v] Xp[c, s i + u, s j + v, n], pixel by pixel."""
    Xp = np.pad(X, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    out, _, kh, kw = W.shape
    Ho, Wo = (Xp.shape[1] - kh) // stride + 1, (Xp.shape[2] - kw) // stride + 1
    Z = np.empty((out, Ho, Wo, X.shape[3]))
    for i in range(Ho):
        for j in range(Wo):
            window = Xp[:, stride * i : stride * i + kh, stride * j : stride * j + kw, :]
            Z[:, i, j, :] = np.einsum("ocuv,cuvn->on", W, window) + b[:, None]
    return Z


@given(testing.conv2d_problems())
def test_conv2d_computes_the_cross_correlation_of_its_definition(problem):
    X, W, b, stride, padding = problem
    Z = tg.conv2d(X, W, b, stride=stride, padding=padding)
    np.testing.assert_allclose(Z.numpy(), conv2d_by_definition(X, W, b, stride, padding), rtol=1e-12, atol=1e-12)


@given(problem=testing.conv2d_problems(), data=st.data())
def test_conv2d_gradient_matches_finite_differences(problem, data):
    X, W, b, stride, padding = problem
    # Any of X, W, b may be a constant (as the first layer's images are); the others are still checked.
    flags = data.draw(st.lists(st.booleans(), min_size=3, max_size=3).filter(any), label="requires_grad")
    inputs = [tg.Tensor(a, requires_grad=r) for a, r in zip((X, W, b), flags)]
    assert tg.gradcheck(lambda X, W, b: tg.conv2d(X, W, b, stride=stride, padding=padding), inputs)


@given(testing.conv2d_problems())
def test_conv2d_without_bias_gradient_matches_finite_differences(problem):
    X, W, _, stride, padding = problem
    assert tg.gradcheck(lambda X, W: tg.conv2d(X, W, stride=stride, padding=padding), [X, W])


@given(testing.pool2d_problems())
def test_max_pool_gradient_matches_finite_differences_with_overlapping_windows(problem):
    A, size, stride = problem
    assert tg.gradcheck(lambda A: tg.max_pool2d(A, size, stride), [A])


@given(testing.pool2d_problems())
def test_avg_pool_gradient_matches_finite_differences_with_overlapping_windows(problem):
    A, size, stride = problem
    assert tg.gradcheck(lambda A: tg.avg_pool2d(A, size, stride), [A])


def test_max_pool_shares_the_gradient_equally_among_tied_maxima():
    A = np.array([[1.0, 1.0], [0.0, 1.0]]).reshape(1, 2, 2, 1)
    t = tg.Tensor(A, requires_grad=True)
    tg.max_pool2d(t, 2).sum().backward()
    np.testing.assert_array_equal(t.grad[0, :, :, 0], [[1 / 3, 1 / 3], [0.0, 1 / 3]])


@given(testing.pool2d_problems())
def test_max_pool_gradient_at_pairs_of_tied_maxima_matches_central_differences(problem):
    # Windows side by side, each with its largest entry copied onto its second largest:
    # nudging one of the pair up raises the maximum, nudging it down leaves it to the
    # other, so central differences measure 1/2 each: the even share.
    A, size, _ = problem
    C, H, W, n = A.shape
    A = A[:, : H // size * size, : W // size * size, :]
    Ho, Wo = A.shape[1] // size, A.shape[2] // size
    windows = A.reshape(C, Ho, size, Wo, size, n).transpose(0, 1, 3, 5, 2, 4).reshape(C, Ho, Wo, n, size * size)
    if size > 1:
        order = np.argsort(windows, axis=-1)
        top = np.take_along_axis(windows, order[..., -1:], axis=-1)
        np.put_along_axis(windows, order[..., -2:-1], top, axis=-1)
    A = windows.reshape(C, Ho, Wo, n, size, size).transpose(0, 1, 4, 2, 5, 3).reshape(A.shape)
    assert tg.gradcheck(lambda A: tg.max_pool2d(A, size), [A])


@given(
    A=testing.arrays(st.tuples(st.integers(1, 2), st.integers(2, 5), st.integers(2, 5), st.integers(1, 2)),
                     min_value=-2.0, max_value=2.0).map(np.round),
    stride=st.integers(1, 2),
)
def test_max_pool_gradient_at_any_ties_matches_central_differences_along_the_input(A, stride):
    # Whole-number values tie often, in one window and across overlapping ones. Scaling A
    # keeps every tie, and max(t A) = t max(A) for t > 0, so the derivative of the loss
    # along A itself exists and is sum(dL/dA * A) whatever the share given to each tie.
    R = np.random.default_rng(0).standard_normal(tg.max_pool2d(A, 2, stride).shape)

    def loss(scale):
        return float((tg.max_pool2d(A * scale, 2, stride).numpy() * R).sum())

    t = tg.Tensor(A, requires_grad=True)
    (tg.max_pool2d(t, 2, stride) * R).sum().backward()
    eps = 1e-6
    central = (loss(1 + eps) - loss(1 - eps)) / (2 * eps)
    assert np.isclose(float((t.grad * A).sum()), central, rtol=1e-6, atol=1e-8)


def test_pooling_drops_the_last_partial_window_and_gives_its_pixels_no_gradient():
    t = tg.Tensor(np.arange(25.0).reshape(1, 5, 5, 1), requires_grad=True)
    Z = tg.max_pool2d(t, 2)
    Z.sum().backward()
    assert Z.shape == (1, 2, 2, 1)
    assert not t.grad[0, 4, :, 0].any() and not t.grad[0, :, 4, 0].any()


@given(A=testing.arrays(testing.shapes(min_dims=1, max_dims=4)), data=st.data())
def test_permute_gradient_matches_finite_differences(A, data):
    axes = tuple(data.draw(st.permutations(range(A.ndim)), label="axes"))
    assert tg.gradcheck(lambda A: tg.permute(A, axes), [A])


def test_images_from_columns_reads_each_column_as_an_h_w_c_image():
    images = np.random.default_rng(0).random((5, 4, 3, 2))  # n x h x w x c, as image files hold them
    columns = images.reshape(5, -1).T  # the notebook's X: one flattened image per column
    X = tg.images_from_columns(columns, (4, 3, 2))
    np.testing.assert_array_equal(X.numpy(), images.transpose(3, 1, 2, 0))


def test_conv2d_docstring_gives_the_picture_its_local_gradients():
    X = tg.Tensor(np.ones((1, 3, 3, 1)), name="X")
    W1 = tg.Tensor(np.ones((2, 1, 2, 2)), requires_grad=True, name="W1")
    b1 = tg.Tensor(np.zeros(2), requires_grad=True, name="b1")
    Z1 = tg.conv2d(X, W1, b1)
    Z1.name = "Z1"
    assert local_gradient_label(Z1, 1) == "dL/dW1 = dL/dZ1 cols(X)^T"
    assert local_gradient_label(Z1, 2) == "dL/db1 = dL/dZ1 summed over i, j, n"


ERRORS = [
    pytest.param(lambda: tg.conv2d(np.ones((3, 4, 4, 1)), np.ones((2, 1, 3, 3))), "read 1 channels", id="channels"),
    pytest.param(lambda: tg.conv2d(np.ones((1, 2, 2, 1)), np.ones((2, 1, 3, 3))), "window of 3", id="kernel-too-big"),
    pytest.param(lambda: tg.conv2d(np.ones((1, 4, 4, 1)), np.ones((2, 1, 3, 3)), np.ones(3)), "one entry per filter",
                 id="bias"),
    pytest.param(lambda: tg.conv2d(np.ones((16, 1)), np.ones((2, 1, 3, 3))), "C x H x W x n", id="not-images"),
    pytest.param(lambda: tg.conv2d(np.ones((1, 4, 4, 1)), np.ones((2, 1, 3, 3)), stride=0), "stride", id="stride"),
    pytest.param(lambda: tg.max_pool2d(np.ones((4, 4)), 2), "C x H x W x n", id="pool-not-images"),
    pytest.param(lambda: tg.avg_pool2d(np.ones((1, 4, 4, 1)), 0), "at least 1", id="pool-size"),
    pytest.param(lambda: tg.permute(np.ones((2, 3)), (0, 0)), "do not reorder", id="permute-axes"),
    pytest.param(lambda: tg.images_from_columns(np.ones((10, 2)), (2, 2, 3)), "10 rows", id="columns"),
]


@pytest.mark.parametrize("make, words", ERRORS)
def test_shapes_that_do_not_fit_raise_a_shape_error_that_says_why(make, words):
    with pytest.raises(tg.ShapeError, match=words):
        make()
