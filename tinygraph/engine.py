"""The backpropagation engine: a topological order, walked backwards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tinygraph import numerics
from tinygraph.backend import size
from tinygraph.errors import ShapeError, TinygraphError
from tinygraph.tensor import Tensor

# Called once per node, in the order the engine applies local gradients:
# (the tensor the node produced, dL/d(that tensor), the gradients for the node's inputs).
StepObserver = Callable[[Tensor, Any, tuple[Any, ...]], None]


def topological_order(root: Tensor) -> list[Tensor]:
    """Every tensor that `root` depends on and that requires a gradient, inputs before their consumers.

    A depth-first search with an explicit stack instead of recursion, so a chain
    of 100,000 nodes is as easy as a chain of three. The stack holds the path from
    root down to the tensor being explored, each with an iterator over its inputs;
    a tensor is appended once that iterator is spent, so after all of its inputs.
    """
    order: list[Tensor] = []
    visited = {root}  # tensors hash by identity
    stack = [(root, iter(root.node.inputs if root.node is not None else ()))]
    while stack:
        tensor, inputs = stack[-1]
        for t in inputs:
            if t.requires_grad and t not in visited:
                visited.add(t)
                if t.node is None:  # a leaf has no inputs to explore first
                    order.append(t)
                    continue
                stack.append((t, iter(t.node.inputs)))
                break
        else:  # every input is in order already
            stack.pop()
            order.append(tensor)
    return order


def backward(
    root: Tensor, grad: Any = None, retain_graph: bool = False, observer: StepObserver | None = None
) -> None:
    """Fill in dL/d(leaf) for every leaf that `root` depends on and that requires a gradient.

    Walks the topological order from `root` back to the leaves. Each tensor's
    gradient is complete when it is reached, because all of its consumers come
    after it in the order: their contributions have been summed (a tensor that
    feeds several nodes gets the sum of all of them). Its node's local gradients
    are then applied once, and the pending gradient is dropped to free memory.

    `grad` is dL/d(root); it may be left out when root is a scalar (it is then 1).
    Unless `retain_graph` is true, each node releases its saved arrays once used.
    """
    seed = initial_gradient(root, grad)
    pending = {root: seed}  # dL/d(tensor) summed so far, keyed on the tensor itself (it hashes by identity)
    token = numerics.watch()  # numpy's warnings in here name the node at work (see tinygraph.numerics)
    try:
        for tensor in reversed(topological_order(root)):
            grad = pending.pop(tensor, None)
            if grad is None:  # no path from here to root carries a gradient
                continue
            node = tensor.node
            if node is None or tensor.retains_grad:
                tensor.grad = grad if tensor.grad is None else tensor.grad + grad
            if node is None:
                continue
            input_grads = node.input_grads(grad)
            if observer is not None:
                observer(tensor, grad, input_grads)
            for inp, g in zip(node.inputs, input_grads):
                if g is not None:
                    pending[inp] = g if inp not in pending else pending[inp] + g
            if not retain_graph:
                node.release()
    finally:
        numerics.unwatch(token)


def initial_gradient(root: Tensor, grad: Any) -> Any:
    """dL/d(root): 1 for a scalar root, else the caller's array, checked against root's shape."""
    if not root.requires_grad:
        raise TinygraphError(
            f"backward(): {root!r} does not require a gradient; no leaf it depends on has "
            "requires_grad=True, or it was computed under no_grad()"
        )
    xp = root.xp
    if grad is None:
        if size(root.data) != 1:
            raise ShapeError(
                f"backward(): the root has shape {root.shape}; pass grad=dL/d(root) of that shape, "
                "or reduce it to a scalar first (for example with .mean())"
            )
        return xp.ones_like(root.data)
    grad = grad.data if isinstance(grad, Tensor) else grad
    grad = xp.asarray(grad, dtype=root.dtype)
    if tuple(grad.shape) != root.shape:
        raise ShapeError(f"backward(): grad has shape {tuple(grad.shape)} but the root has shape {root.shape}")
    return grad
