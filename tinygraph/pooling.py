"""Pooling: each k x k window of an image (C x H x W x n) summarised by its maximum or its mean.

Windows may overlap (a stride below the size); a last partial window is dropped,
as in PyTorch, so an entry it alone would read gets no gradient.
"""

from __future__ import annotations

from typing import Any

from tinygraph.backend import astype
from tinygraph.errors import ShapeError
from tinygraph.node import Node
from tinygraph.tensor import Tensor
from tinygraph.windows import col2im, im2col


class Pool2D(Node):
    """A k x k window slid over each image at a stride (by default k: windows side by side)."""

    shapes = {"A": "c 4 5 n"}
    check_with = ({}, {"size": 3, "stride": 1}, {"size": 2, "stride": 3})

    def __init__(self, size: int = 2, stride: int | None = None):
        stride = size if stride is None else stride
        if size < 1 or stride < 1:
            raise ShapeError(f"{self.name}: size and stride must be at least 1, not {size} and {stride}")
        self.size, self.stride = int(size), int(stride)

    def windows(self, A: Any) -> Any:
        if A.ndim != 4:
            raise ShapeError(f"{self.name}: needs images C x H x W x n, not shape {A.shape}")
        self.input_shape = A.shape
        return im2col(A, (self.size, self.size), self.stride, self.xp, self.name)


class MaxPool2D(Pool2D):
    """Z = max of A over each window;  dL/dA = dL/dZ shared equally among each window's maxima

    Where a window's maximum is unique, the whole of dL/dZ goes to that entry. At a
    tie (two entries exactly equal, as the zeros after a ReLU often are) max is not
    differentiable; each of the m tied entries then gets dL/dZ / m: symmetric, it
    conserves dL/dZ, and for a pair of ties it is what central differences measure.
    An entry that is the maximum of several overlapping windows collects from each.
    """

    distinct = ("A",)  # a tie is a kink

    def forward(self, A):
        windows = self.windows(A)
        Z = self.xp.max(windows, axis=(1, 2))
        self.save_for_backward(windows, Z)
        return Z

    def local_grads(self, dZ):
        windows, Z = self.saved
        xp = self.xp
        is_max = astype(windows == Z[:, None, None, ...], Z.dtype, xp)
        share = dZ / xp.sum(is_max, axis=(1, 2))
        return (col2im(is_max * share[:, None, None, ...], self.input_shape, self.stride, xp),)


class AvgPool2D(Pool2D):
    """Z = mean of A over each window (k^2 entries);  dL/dA = dL/dZ / k^2 for each window an entry is in"""

    def forward(self, A):
        return self.xp.mean(self.windows(A), axis=(1, 2))

    def local_grads(self, dZ):
        xp = self.xp
        C, Ho, Wo, n = dZ.shape
        k = self.size
        spread = xp.broadcast_to(dZ[:, None, None, ...] / (k * k), (C, k, k, Ho, Wo, n))
        return (col2im(spread, self.input_shape, self.stride, xp),)


def max_pool2d(A: Any, size: int = 2, stride: int | None = None) -> Tensor:
    return MaxPool2D.apply(A, size=size, stride=stride)


def avg_pool2d(A: Any, size: int = 2, stride: int | None = None) -> Tensor:
    return AvgPool2D.apply(A, size=size, stride=stride)
