"""The backward pass, replayed on a copy of the graph so that pictures can show every gradient."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from tinygraph.engine import backward, topological_order
from tinygraph.errors import TinygraphError
from tinygraph.tensor import Tensor


@dataclass(frozen=True)
class Step:
    """One step of the engine: `tensor`'s node turned dL/d(tensor) into dL/d(input) for each input."""

    tensor: Tensor
    grad: Any
    input_grads: tuple[Any, ...]


@dataclass(frozen=True)
class Replay:
    """The engine's steps in the order it took them, and dL/d(tensor) for every tensor it reached."""

    steps: list[Step]
    grads: dict[int, Any]  # id(tensor) -> dL/d(tensor)


def replay_backward(root: Tensor) -> Replay:
    """Run engine.backward from `root` on a copy of its graph and record every step.

    The copy shares the arrays but has its own tensors and nodes, so the user's
    `.grad`s, retained gradients and saved arrays are left exactly as they were,
    and the replay works even after backward() released the graph: a released
    node's forward is then run again on its recorded inputs (and must give the
    same output). A root of more than one entry gets dL/d(root) = 1 everywhere.
    """
    order = topological_order(root)
    original: dict[int, Tensor] = {}
    twin: dict[int, Tensor] = {}
    for tensor in order:
        node = None
        if tensor.node is not None:
            node = copy.copy(tensor.node)
            node.inputs = tuple(twin.get(id(t), t) for t in tensor.node.inputs)  # constants are shared
            if node.saved is None:
                recompute(node, tensor)
        copied = Tensor.from_node(tensor.data, node, tensor.xp)
        copied.requires_grad, copied.name = True, tensor.name
        twin[id(tensor)], original[id(copied)] = copied, tensor

    steps: list[Step] = []
    grads: dict[int, Any] = {}

    def observe(tensor: Tensor, grad: Any, input_grads: tuple[Any, ...]) -> None:
        steps.append(Step(original[id(tensor)], grad, input_grads))
        grads[id(original[id(tensor)])] = grad

    seed = root.xp.ones_like(root.data)
    backward(twin[id(root)], seed, observer=observe)
    for tensor in order:
        if tensor.node is None and twin[id(tensor)].grad is not None:
            grads[id(tensor)] = twin[id(tensor)].grad
    return Replay(steps, grads)


def recompute(node: Any, tensor: Tensor) -> None:
    """Run a released node's forward again, so that it saves what its local gradients need."""
    xp = tensor.xp
    node.saved = ()  # as in a fresh node, for operations that save nothing
    output = node.forward(*[t.data for t in node.inputs])
    if tuple(output.shape) != tensor.shape or not bool(xp.all(output == tensor.data)):
        raise TinygraphError(
            f"{node.name}: its forward gave a different output when run again, so the backward pass "
            "cannot be replayed after backward() released the graph; draw it before backward(), "
            "or call backward(retain_graph=True)"
        )
