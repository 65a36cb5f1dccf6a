"""Sliding windows over images: im2col, its adjoint col2im, and zero padding.

Images are C x H x W x n: channels, height, width, and the examples last, as
the notebook's examples are columns. A convolution then is one matrix product
W (out channels x C kh kw) times the windows laid out as a C kh kw x Ho Wo n
matrix, whose product is already the next layer's C x H x W x n image; and
flattening a batch for a dense layer, (C H W) x n, is a reshape, not a copy.

im2col(A)[c, u, v, i, j, k] = A[c, s i + u, s j + v, k]: the entry at offset
(u, v) of the window whose output pixel is (i, j), for a stride s.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tinygraph.errors import ShapeError


def output_size(size: int, kernel: int, stride: int, node: str) -> int:
    """How many windows of `kernel` fit along a side of `size` at `stride` (the last partial one is dropped)."""
    if kernel > size:
        raise ShapeError(f"{node}: a window of {kernel} does not fit in an image side of {size}")
    return (size - kernel) // stride + 1


def pad(A: Any, padding: int, xp: Any) -> Any:
    """A with `padding` rows and columns of zeros around each image (the standard has no pad())."""
    if padding == 0:
        return A
    C, H, W, n = A.shape
    padded = xp.zeros((C, H + 2 * padding, W + 2 * padding, n), dtype=A.dtype)
    padded[:, padding : padding + H, padding : padding + W, :] = A
    return padded


def crop(A: Any, padding: int) -> Any:
    """The inverse of pad: A without its border of `padding`."""
    if padding == 0:
        return A
    return A[:, padding : A.shape[1] - padding, padding : A.shape[2] - padding, :]


def im2col(A: Any, kernel: tuple[int, int], stride: int, xp: Any, node: str) -> Any:
    """The windows of A (C x H x W x n) as a C x kh x kw x Ho x Wo x n array.

    For numpy a view (sliding_window_view: no copy until the caller reshapes it);
    the array API standard has no strided views, so other libraries stack the
    kh kw shifted slices, a copy of the same size as the view's.
    """
    C, H, W, n = A.shape
    kh, kw = kernel
    Ho, Wo = output_size(H, kh, stride, node), output_size(W, kw, stride, node)
    if xp is np:
        view = sliding_window_view(A, kernel, axis=(1, 2))[:, ::stride, ::stride]  # C x Ho x Wo x n x kh x kw
        return view.transpose(0, 4, 5, 1, 2, 3)
    shifted = [A[:, _along(u, Ho, stride), _along(v, Wo, stride), :] for u in range(kh) for v in range(kw)]
    return xp.reshape(xp.stack(shifted, axis=1), (C, kh, kw, Ho, Wo, n))


def col2im(G: Any, shape: tuple[int, ...], stride: int, xp: Any) -> Any:
    """The adjoint of im2col: each window entry of G (C x kh x kw x Ho x Wo x n) added back where it was read from.

    An image entry read by several windows (overlapping ones) gets the sum of their
    entries. One loop step per kernel offset (u, v), each adding a whole strided
    slice over every channel, pixel and example: on the benchmark's shapes this is
    3 to 7 times faster than one scatter over flat indices (np.bincount, np.add.at).
    """
    _, kh, kw, Ho, Wo, _ = G.shape
    out = xp.zeros(shape, dtype=G.dtype)
    for u in range(kh):
        for v in range(kw):
            rows, columns = _along(u, Ho, stride), _along(v, Wo, stride)
            out[:, rows, columns, :] = out[:, rows, columns, :] + G[:, u, v, ...]
    return out


def _along(offset: int, count: int, stride: int) -> slice:
    """The `count` positions offset, offset + stride, ... (a stop within bounds, as the standard asks)."""
    return slice(offset, offset + stride * (count - 1) + 1, stride)
