"""Matrix operations: the product, the transpose, and reshaping."""

from __future__ import annotations

from typing import Any

from tinygraph.errors import ShapeError
from tinygraph.node import Node
from tinygraph.tensor import Tensor


class MatMul(Node):
    """Z = W A (matrix product);  dL/dW = dL/dZ A^T,  dL/dA = W^T dL/dZ"""

    shapes = {"W": "m k", "A": "k n"}

    def forward(self, W, A):
        if W.ndim != 2 or A.ndim != 2:
            raise ShapeError(f"MatMul: multiplies matrices (2-D), not shapes {W.shape} by {A.shape}")
        self.save_for_backward(W, A)
        return W @ A

    def local_grads(self, dZ):
        W, A = self.saved
        return (dZ @ A.T if self.needs_grad[0] else None, W.T @ dZ if self.needs_grad[1] else None)

    def shape_error(self, W: tuple[int, ...], A: tuple[int, ...]) -> str:
        return f"cannot multiply {W} by {A}"


class Transpose(Node):
    """Z = A^T;  dL/dA = (dL/dZ)^T"""

    shapes = {"A": "m n"}

    def forward(self, A):
        if A.ndim > 2:
            raise ShapeError(f"Transpose: transposes matrices (at most 2-D), not shape {A.shape}")
        return transposed(A)

    def local_grads(self, dZ):
        return (transposed(dZ),)


class Reshape(Node):
    """Z = A with its entries laid out in `shape`;  dL/dA = dL/dZ laid back in A's shape"""

    check_with = ({"shape": (-1,)}, {"shape": (1, -1, 1)})

    def __init__(self, shape: tuple[int, ...]):
        self.shape = tuple(shape)

    def forward(self, A):
        self.input_shape = A.shape
        return self.xp.reshape(A, self.shape)

    def local_grads(self, dZ):
        return (self.xp.reshape(dZ, self.input_shape),)

    def shape_error(self, A: tuple[int, ...]) -> str:
        return f"cannot reshape {A} into {self.shape}"


class Permute(Node):
    """Z = A with its axes reordered, Z's axis i being A's axis axes[i];  dL/dA = dL/dZ with the axes put back"""

    shapes = {"A": "a b c"}
    check_with = ({"axes": (2, 0, 1)}, {"axes": (0, 2, 1)})

    def __init__(self, axes: tuple[int, ...]):
        self.axes = tuple(axes)

    def forward(self, A):
        if sorted(self.axes) != list(range(A.ndim)):
            raise ShapeError(f"Permute: axes {self.axes} do not reorder the {A.ndim} axes of shape {A.shape}")
        return self.xp.permute_dims(A, self.axes)

    def local_grads(self, dZ):
        inverse = sorted(range(len(self.axes)), key=self.axes.__getitem__)
        return (self.xp.permute_dims(dZ, tuple(inverse)),)


def transposed(A: Any) -> Any:
    """A^T; a scalar or a vector is its own transpose (the standard defines `.T` for matrices only)."""
    return A.T if A.ndim == 2 else A


def matmul(W: Any, A: Any) -> Tensor:
    return MatMul.apply(W, A)


def transpose(A: Any) -> Tensor:
    return Transpose.apply(A)


def permute(A: Any, axes: tuple[int, ...]) -> Tensor:
    return Permute.apply(A, axes=axes)


def reshape(A: Any, shape: tuple[int, ...]) -> Tensor:
    return Reshape.apply(A, shape=shape)
