"""Reductions: sums and means over some axes, or over everything."""

from __future__ import annotations

import math
from typing import Any

from tinygraph.errors import ShapeError
from tinygraph.node import Node
from tinygraph.tensor import Tensor

Axis = int | tuple[int, ...] | None


class Sum(Node):
    """Z = sum of A over `axis`;  dL/dA = dL/dZ copied back to every entry that was summed"""

    shapes = {"A": "m n"}
    check_with = ({}, {"axis": 0}, {"axis": 1, "keepdims": True})

    def __init__(self, axis: Axis = None, keepdims: bool = False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, A):
        self.axes = normalize_axes(self.axis, tuple(A.shape), self.name)
        self.input_shape = A.shape
        return self.xp.sum(A, axis=self.axes, keepdims=self.keepdims)

    def local_grads(self, dZ):
        return (spread(dZ, self.axes, self.keepdims, self.input_shape, self.xp),)


class Mean(Sum):
    """Z = mean of A over `axis` (m entries each) = sum / m;  dL/dA = dL/dZ / m, copied back to each of them"""

    def forward(self, A):
        total = super().forward(A)
        self.count = math.prod(A.shape[axis] for axis in self.axes)
        return total / self.count

    def local_grads(self, dZ):
        return super().local_grads(dZ / self.count)

    def constants(self) -> dict[str, float]:
        return {"m": self.count}


def normalize_axes(axis: Axis, shape: tuple[int, ...], node: str) -> tuple[int, ...]:
    """`axis` as a tuple of distinct non-negative axes, checked against `shape`."""
    ndim = len(shape)
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for a in axes:
        if not -ndim <= a < ndim:
            raise ShapeError(f"{node}: axis {a} is out of range for shape {shape} ({ndim} dimensions)")
    normalized = tuple(a % ndim for a in axes)
    if len(set(normalized)) != len(normalized):
        raise ShapeError(f"{node}: axis {axis} names an axis of shape {shape} twice")
    return normalized


def spread(grad: Any, axes: tuple[int, ...], keepdims: bool, shape: tuple[int, ...], xp: Any) -> Any:
    """Broadcast the gradient of a reduction back over the axes it reduced."""
    if not keepdims:
        kept = [1 if axis in axes else size for axis, size in enumerate(shape)]
        grad = xp.reshape(grad, tuple(kept))
    return xp.broadcast_to(grad, shape)


def sum(A: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001 (as numpy names it)
    return Sum.apply(A, axis=axis, keepdims=keepdims)


def mean(A: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    return Mean.apply(A, axis=axis, keepdims=keepdims)
