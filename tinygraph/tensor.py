"""Tensor: an array that remembers the operation that produced it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tinygraph.backend import as_array, namespace_of, size, to_numpy
from tinygraph.errors import ShapeError

if TYPE_CHECKING:
    import graphviz

    from tinygraph.node import Node


# Tensors with up to this many entries show their values in repr() (a 6 x 6 grid, a 100-vector).
REPR_MAX_ENTRIES = 100


class Tensor:
    """An array in the computational graph.

    data           the array itself (numpy by default; float64 unless given float32)
    requires_grad  whether backward() should compute dL/d(this tensor)
    grad           dL/d(this tensor) after backward(), for leaves that require it
    node           the operation that produced this tensor, or None for a leaf
    name           an optional label (`W1`, `Z1`, ...), shown in pictures and errors

    Gradients of leaves **accumulate** across backward() calls, as in PyTorch:
    set them back with zero_grad() (or an optimiser's zero_grad()) between steps.
    """

    __slots__ = ("data", "requires_grad", "grad", "node", "name", "xp", "retains_grad")
    # Makes numpy hand `array + tensor` to Tensor.__radd__ instead of looping over the tensor.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False, name: str | None = None):
        self.name = name
        self.set_data(data)
        self.requires_grad = requires_grad
        self.node = None
        self.retains_grad = False

    @classmethod
    def from_node(cls, data: Any, node: Node | None, xp: Any) -> Tensor:
        """The output of an operation: `node` is None when no graph is recorded."""
        out = cls.__new__(cls)
        out.data, out.xp, out.node = data, xp, node
        out.requires_grad = node is not None
        out.grad = out.name = None
        out.retains_grad = False
        return out

    def constant_like(self, value: Any) -> Tensor:
        """`value` (a number or an array) as a constant of this tensor's dtype, library and device."""
        if self.xp is not np:  # numbers and numpy arrays join this tensor's library, on its GPU if it has one
            from array_api_compat import device

            value = self.xp.asarray(value, device=device(self.data))
        return Tensor.from_node(as_array(value, dtype=self.data.dtype, what="constant"), None, self.xp)

    # ---- what the tensor holds -------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        return self.node is None

    def set_data(self, data: Any) -> None:
        """Hold `data` from now on, an array of any library (as PyTorch's Module.to moves a parameter).

        The tensor stays the same object, so an optimiser or model holding it sees the
        new array; the gradient, which belongs to the old array, is dropped.
        """
        self.data = as_array(data, what=f"Tensor {self.name!r}" if self.name else "Tensor")
        self.xp = namespace_of(self.data)
        self.grad = None

    def numpy(self) -> Any:
        """The data as a numpy array (the array itself when it already is one; copied from a GPU)."""
        return to_numpy(self.data)

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if size(self.data) != 1:
            raise ShapeError(f"item() needs a tensor of one element, not one of shape {self.shape}")
        data = self.data  # a 0-d array, or a numpy scalar as numpy's reductions return
        return float(data if data.ndim == 0 else self.xp.reshape(data, (-1,))[0])

    def __float__(self) -> float:
        return self.item()

    def __format__(self, spec: str) -> str:
        """f"{L:.4f}" formats a one-element tensor's value; an empty spec gives repr()."""
        return format(self.item(), spec) if spec else repr(self)

    def __repr__(self) -> str:
        """The values of a small tensor, as numpy prints them; shape and min/mean/max of a large one."""
        details = [f"name={self.name!r}"] if self.name else []
        if self.dtype != np.float64:
            details.append(f"dtype={self.dtype}")
        if self.requires_grad and self.node is None:
            details.append("requires_grad=True")
        if self.node is not None:
            details.append(f"node={self.node.name}")
        if size(self.data) <= REPR_MAX_ENTRIES:
            values = np.array2string(self.numpy(), separator=", ", prefix="Tensor(")
            return f"Tensor({', '.join([values, *details])})"
        data = self.numpy()
        summary = f"shape={self.shape}, min={data.min():.4g}, mean={data.mean():.4g}, max={data.max():.4g}"
        return f"Tensor({', '.join([summary, *details])})"

    # ---- gradients ---------------------------------------------------------------
    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Compute dL/d(leaf) for every leaf that requires it; see engine.backward."""
        from tinygraph.engine import backward

        backward(self, grad, retain_graph=retain_graph)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient."""
        self.grad = None

    def retain_grad(self) -> Tensor:
        """Keep this intermediate tensor's gradient in .grad after backward()."""
        self.retains_grad = True
        return self

    def draw(self, **options: Any) -> graphviz.Digraph:
        """A graphviz picture of the graph that produced this tensor; see tinygraph.viz.draw."""
        from tinygraph.viz import draw

        return draw(self, **options)

    # ---- operators: each builds one node ------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return elementwise.Add.apply(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return elementwise.Add.apply(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return elementwise.Sub.apply(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return elementwise.Sub.apply(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return elementwise.Mul.apply(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return elementwise.Mul.apply(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return elementwise.Div.apply(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return elementwise.Div.apply(other, self)

    def __pow__(self, exponent: float) -> Tensor:
        return elementwise.Pow.apply(self, exponent=exponent)

    def __neg__(self) -> Tensor:
        return elementwise.Neg.apply(self)

    def __matmul__(self, other: Any) -> Tensor:
        return matrix.MatMul.apply(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return matrix.MatMul.apply(other, self)

    def __getitem__(self, key: Any) -> Tensor:
        """t[i, j], t[:, :5], t[[0, 2]]: a node whose gradient scatters back into zeros of t's shape."""
        return indexing.index(self, key)

    @property
    def T(self) -> Tensor:
        return matrix.Transpose.apply(self)

    def reshape(self, *shape: int | tuple[int, ...]) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return matrix.Reshape.apply(self, shape=shape)

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return reductions.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return reductions.Mean.apply(self, axis=axis, keepdims=keepdims)

    # A tensor in a boolean test is almost always a mistake (`if loss:`), as in numpy.
    def __bool__(self) -> bool:
        raise TypeError("the truth value of a Tensor is ambiguous; compare tensor.data instead")

    __hash__ = object.__hash__


# The node families build on Tensor, so they are imported after it is defined.
from tinygraph import elementwise, indexing, matrix, reductions  # noqa: E402
