"""Convolution: a bank of filters slid over images, as one matrix product.

Images are C x H x W x n (examples last, see tinygraph.windows); filters are
out channels x C x kh x kw, as PyTorch stores them. The notebook's images come
as 12288 x n columns, each a 64 x 64 x 3 image flattened in (h, w, c) order:
images_from_columns turns them into 3 x 64 x 64 x n, the one conversion.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygraph.errors import ShapeError
from tinygraph.matrix import permute, reshape
from tinygraph.node import Node
from tinygraph.tensor import Tensor
from tinygraph.windows import col2im, crop, im2col, pad


class Conv2D(Node):
    """Z = conv(X, W) + b;  dL/dX = col2im(W^T dL/dZ),  dL/dW = dL/dZ cols(X)^T,  dL/db = dL/dZ summed over i, j, n

    The cross-correlation of deep-learning libraries (the filter is not flipped),
    at a stride s, over the images padded with p zeros on each side (Xp):

        Z[o, i, j, n] = b[o] + sum over c, u, v of W[o, c, u, v] Xp[c, s i + u, s j + v, n]

    Written as matrices, cols(X) = im2col(Xp) is (C kh kw) x (Ho Wo n) and W is
    seen as o x (C kh kw), so Z = W cols(X) + b is the notebook's Z1 = W1 X + b1
    with cols(X) in X's place, and its gradients are the notebook's too:
    dL/dW = dL/dZ cols(X)^T, and dL/dcols = W^T dL/dZ, which col2im adds back onto
    the pixels each column was read from (cropping the padding off).
    """

    shapes = {"X": "c 3 4 n", "W": "o c 2 2", "b": "o"}
    check_with = ({}, {"stride": 2}, {"padding": 1}, {"stride": 3, "padding": 1})

    def __init__(self, stride: int = 1, padding: int = 0):
        if stride < 1 or padding < 0:
            raise ShapeError(f"Conv2D: stride must be at least 1 and padding at least 0, not {stride} and {padding}")
        self.stride, self.padding = int(stride), int(padding)

    def forward(self, X, W, b=None):
        self.check_shapes(X, W, b)
        xp = self.xp
        out_channels, channels, kh, kw = W.shape
        windows = im2col(pad(X, self.padding, xp), (kh, kw), self.stride, xp, self.name)
        _, _, _, Ho, Wo, n = windows.shape
        cols = xp.reshape(windows, (channels * kh * kw, Ho * Wo * n))  # the im2col copy
        if xp is np:  # numpy's reshape keeps a view where it can; BLAS wants (and the standard's stack made) rows
            cols = np.ascontiguousarray(cols)
        W2 = xp.reshape(W, (out_channels, channels * kh * kw))
        Z = W2 @ cols
        if b is not None:
            Z = Z + b[:, None]
        self.save_for_backward(cols, W2)
        self.input_shape = X.shape
        return xp.reshape(Z, (out_channels, Ho, Wo, n))

    def local_grads(self, dZ):
        cols, W2 = self.saved
        xp = self.xp
        out_channels, channels, kh, kw = self.filter_shape
        dZ2 = xp.reshape(dZ, (out_channels, -1))
        dX = dW = db = None
        if self.needs_grad[0]:
            C, H, W, n = self.input_shape
            p = self.padding
            dwindows = xp.reshape(W2.T @ dZ2, (channels, kh, kw, *dZ.shape[1:]))
            dX = crop(col2im(dwindows, (C, H + 2 * p, W + 2 * p, n), self.stride, xp), p)
        if self.needs_grad[1]:
            dW = xp.reshape(dZ2 @ cols.T, self.filter_shape)
        if len(self.needs_grad) == 3 and self.needs_grad[2]:
            db = xp.sum(dZ2, axis=1)
        return (dX, dW, db)[: len(self.needs_grad)]

    def check_shapes(self, X: Any, W: Any, b: Any) -> None:
        if X.ndim != 4 or W.ndim != 4:
            raise ShapeError(
                f"{self.name}: needs images C x H x W x n and filters out x C x kh x kw, "
                f"not shapes {X.shape} and {W.shape}"
            )
        if W.shape[1] != X.shape[0]:
            raise ShapeError(
                f"{self.name}: filters {W.shape} read {W.shape[1]} channels but the images {X.shape} have {X.shape[0]}"
            )
        if b is not None and tuple(b.shape) != (W.shape[0],):
            raise ShapeError(
                f"{self.name}: the bias must have one entry per filter, shape ({W.shape[0]},), not {b.shape}"
            )
        self.filter_shape = tuple(W.shape)


def conv2d(X: Any, W: Any, b: Any = None, stride: int = 1, padding: int = 0) -> Tensor:
    """Filters W (out x C x kh x kw) and bias b (out,) applied to images X (C x H x W x n)."""
    inputs = (X, W) if b is None else (X, W, b)
    return Conv2D.apply(*inputs, stride=stride, padding=padding)


def images_from_columns(X: Any, image_shape: tuple[int, int, int]) -> Tensor:
    """The notebook's columns X, (h w c) x n, as C x H x W x n images.

    Each column is an image flattened in numpy's order, as image[h, w, c] = column.reshape(h, w, c).
    """
    height, width, channels = image_shape
    if X.shape[0] != height * width * channels:
        raise ShapeError(f"images_from_columns: {X.shape[0]} rows are not images of {height} x {width} x {channels}")
    return permute(reshape(X, (height, width, channels, X.shape[1])), (2, 0, 1, 3))
