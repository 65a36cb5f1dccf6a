"""Node: the base class of every operation in the graph."""

from __future__ import annotations

from typing import Any

from tinygraph.numerics import unwatch, watch
from tinygraph.backend import astype, reduce_sum
from tinygraph.errors import AnomalyError, GradientShapeError, GraphReleasedError, ShapeError, TinygraphError
from tinygraph.modes import anomaly_detection_enabled, grad_enabled
from tinygraph.tensor import Tensor


class Node:
    """One operation in the computational graph.

    A subclass writes two methods, side by side:

    forward(*arrays) -> array
        The operation on plain arrays. It keeps what the backward pass will need
        with save_for_backward(...), and nothing else.
    local_grads(grad) -> tuple
        The vector-Jacobian product: given dL/d(output), return dL/d(input) for
        each input, in order. An input whose `needs_grad` entry is False may get
        None, so no work is spent on data such as the notebook's X.

    Everything the operations share lives here, so that each one reads like the
    notebook: wrapping numbers and arrays into constants, error messages that name
    the node and the shapes, recording the graph only when a gradient is wanted,
    summing a gradient back over the axes that broadcasting stretched, and
    releasing the saved arrays after backward().

    tinygraph.testing.check_node checks a subclass's local_grads against finite
    differences; class attributes say where the node is defined, keyed by forward's
    parameter names (docs/check.md): `domain = {"A": (0.05, 5.0)}`, `avoid = {"Z": [0.0]}`
    for kinks, `shapes = {"W": "m k", "A": "k n"}`, `labels = {"Y": [0.0, 1.0]}` and
    `constant_inputs = ("X",)` for inputs that get no gradient, `distinct = ("A",)` against ties,
    and `check_with = ({"slope": 0.1},)` for the constructor's arguments.
    """

    # What a fresh node holds; apply() sets them on the node when it runs and records it.
    # (Class attributes, so that making a node costs no __init__ of its own.)
    inputs: tuple[Tensor, ...] = ()
    needs_grad: tuple[bool, ...] = ()
    saved: tuple[Any, ...] | None = ()
    xp: Any = None
    numpy_said: tuple[str, ...] = ()  # numpy's complaints about this node's work, kept under detect_anomaly()

    @property
    def name(self) -> str:
        return type(self).__name__

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Tensor:
        """Run the operation on `inputs` and return its output, recording the graph if needed."""
        node = cls(**params)
        tensors = None
        token = watch()  # numpy's warnings in here name this node (see tinygraph.numerics)
        try:
            tensors = as_tensors(inputs)
            xp = node.xp = tensors[0].xp
            out = node.forward(*[t.data for t in tensors])
        except TinygraphError:  # the node's own, precise complaint
            raise
        except ValueError as error:  # numpy's own complaint about shapes
            if tensors is None:  # not about shapes: as_tensors could not make constants of the inputs
                raise
            shapes = [t.shape for t in tensors]
            raise ShapeError(f"{node.name}: {node.shape_error(*shapes)}") from error
        finally:
            unwatch(token)
        if anomaly_detection_enabled():
            node.check_finite(out, "forward produced", tensors)
        if grad_enabled():
            needs_grad = tuple([t.requires_grad for t in tensors])
            if any(needs_grad):
                node.inputs, node.needs_grad = tensors, needs_grad
                return Tensor.from_node(out, node, xp)
        return Tensor.from_node(out, None, xp)

    def forward(self, *arrays: Any) -> Any:
        raise NotImplementedError

    def local_grads(self, grad: Any) -> tuple[Any, ...]:
        raise NotImplementedError

    def constants(self) -> dict[str, float]:
        """The numbers behind the docstring's symbols (Pow's p, a loss's n), for pictures to show."""
        return {}

    def save_for_backward(self, *arrays: Any) -> None:
        self.saved = arrays

    def shape_error(self, *shapes: tuple[int, ...]) -> str:
        """Says why `shapes` do not fit this operation; subclasses say it more precisely."""
        return "inputs of shapes " + ", ".join(map(str, shapes)) + " do not fit together"

    def input_grads(self, grad: Any) -> tuple[Any, ...]:
        """dL/d(input) for each input, each with its input's own shape (the engine calls this)."""
        if self.saved is None:
            raise GraphReleasedError(
                f"{self.name}: this graph was already backpropagated and its saved arrays "
                "were released; call backward(retain_graph=True) the first time to go through it again"
            )
        grads = self.local_grads(grad)
        if anomaly_detection_enabled():
            for g in grads:
                if g is not None:
                    self.check_finite(g, "backward produced", self.inputs)
        return tuple([
            g if g is None else fit_to_input(g, t.data, self.xp, self.name, i)
            for i, (g, t) in enumerate(zip(grads, self.inputs))
        ])  # fmt: skip

    def release(self) -> None:
        """Drop the arrays kept for backward; the graph's structure stays, for pictures."""
        self.saved = None

    def check_finite(self, array: Any, what: str, inputs: tuple[Tensor, ...]) -> None:
        """AnomalyError naming this node and its inputs if `array` holds NaN or infinity (and numpy's word for it)."""
        xp = self.xp
        if not bool(xp.all(xp.isfinite(array))):
            kind = "NaN" if bool(xp.any(xp.isnan(array))) else "infinity"
            cause = f" ({' and '.join(dict.fromkeys(self.numpy_said))})" if self.numpy_said else ""
            names = ", ".join(f"{t.name or 'unnamed'} {t.shape}" for t in inputs)
            raise AnomalyError(f"{self.name}: {what} {kind}{cause} (inputs: {names})")

    def __repr__(self) -> str:
        return f"{self.name}(inputs={[t.name or t.shape for t in self.inputs]})"


def as_tensors(inputs: tuple[Any, ...]) -> tuple[Tensor, ...]:
    """The inputs as tensors: numbers and arrays become constants of the first tensor's dtype and library."""
    for x in inputs:
        if not isinstance(x, Tensor):
            break
    else:  # the common case: nothing to wrap
        return inputs
    tensors = [x for x in inputs if isinstance(x, Tensor)]
    like = tensors[0] if tensors else Tensor(inputs[0])  # e.g. tg.relu(array): the array sets the dtype
    return tuple([x if isinstance(x, Tensor) else like.constant_like(x) for x in inputs])


def fit_to_input(grad: Any, data: Any, xp: Any, node: str, position: int) -> Any:
    """`grad` in the shape and dtype of the input `data` it belongs to.

    A float32 input mixed with a float64 one gets a float32 gradient, as in
    PyTorch, so that updating a float32 parameter keeps it float32.
    """
    if grad.shape != data.shape:
        if not stretches_to(tuple(data.shape), tuple(grad.shape)):
            raise GradientShapeError(
                f"{node}: local_grads returned a gradient of shape {tuple(grad.shape)} for input {position} "
                f"of shape {tuple(data.shape)}; it must have the input's shape, or the shape the input "
                "was broadcast to",
                position, tuple(grad.shape), tuple(data.shape),
            )  # fmt: skip
        grad = unbroadcast(grad, data.shape, xp)
    return grad if grad.dtype == data.dtype else astype(grad, data.dtype, xp)


def stretches_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether broadcasting stretches `shape` to `target` (numpy's rules: align at the right, 1 stretches)."""
    leading = len(target) - len(shape)
    return leading >= 0 and all(side in (1, target[leading + axis]) for axis, side in enumerate(shape))


def unbroadcast(grad: Any, shape: tuple[int, ...], xp: Any) -> Any:
    """Sum `grad` over the axes that broadcasting stretched, so that it has `shape`.

    In the notebook, b1 (nh x 1) is added to W1 X (nh x n): each b1 entry reached n
    columns, so dL/db1 is the sum of dL/dZ1 over those columns.
    """
    leading = grad.ndim - len(shape)
    stretched = [*range(leading)] + [
        leading + axis for axis, size in enumerate(shape) if size == 1 and grad.shape[leading + axis] != 1
    ]
    summed = reduce_sum(grad, tuple(stretched), xp, keepdims=True)
    return summed if leading == 0 else xp.reshape(summed, shape)
