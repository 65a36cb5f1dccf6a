"""The notebook's convention for gradients, as a way of showing them.

tinygraph computes the true gradients of the mean loss, L = 1/n sum_j loss_j: the
1/n is inside dL/dYhat, and every gradient after it carries it. The lecture's
notebook writes its backward pass without it, dZ2 = Yhat - Y, and puts the 1/n
where the parameters' gradients are made, dW2 = 1/n dZ2 A1^T. So

    notebook's dX = n dL/dX     for every tensor between the loss and the parameters,
    notebook's dW = dL/dW       for the parameters (the 1/n is in their formula).

Pictures and the step-through show either: convention="true" (the default, what
backward() computes) or convention="notebook" (marked as such, with NOTE saying the
above in one sentence).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from tinygraph.errors import OptionError
from tinygraph.tensor import Tensor
from tinygraph.viz.labels import local_gradient_label
from tinygraph.viz.replay import Replay, Step
from tinygraph.viz.walk import Edge, Walk

CONVENTIONS = ("true", "notebook")


@dataclass(frozen=True)
class Convention:
    """How gradients are named, scaled and labelled in a picture."""

    name: str
    root: Tensor
    n: int = 1

    @property
    def notebook(self) -> bool:
        return self.name == "notebook"

    def scale(self, tensor: Tensor) -> int:
        """n for the tensors between the loss and the leaves under the notebook's convention, else 1."""
        return self.n if self.notebook and tensor.node is not None and tensor is not self.root else 1

    def grad_name(self, name: str) -> str:
        """`dL/dZ1` (the true gradient) or the notebook's `dZ1`."""
        return f"d{name}" if self.notebook else f"dL/d{name}"

    def shown(self, tensor: Tensor, grad: Any) -> Any:
        """The gradient of `tensor` as this convention shows it."""
        scale = self.scale(tensor)
        return grad if scale == 1 else grad * scale

    def note(self) -> str | None:
        """The one sentence that says how the shown gradients relate to dL/d(.)."""
        if not self.notebook:
            return None
        n = self.n
        return (
            f"Notebook's convention (n = {n}): dX = {n} · dL/dX for each tensor between the loss and the "
            f"parameters (so dZ2 = Yhat - Y); the parameters' dW = dL/dW, their formulas carrying the 1/{n}."
        )

    def edge_label(self, edge: Edge, graph: Walk) -> str:
        """The gradient sent along `edge`, written in this convention."""
        label = local_gradient_label(edge.target, edge.position, graph.name)
        if not self.notebook:
            return label
        source = graph.name(edge.source)
        if edge.target is self.root and edge.source.node is not None:  # the notebook's dYhat: without the 1/n
            return f"d{source} = {self.n} · dL/d{source}"
        formula = re.sub(r"dL/d", "d", label.split(" = ", 1)[1])
        if edge.source.node is None and edge.target is not self.root:  # into a parameter: the notebook's 1/n
            formula = f"(1/{self.n}) {formula}"
        return f"d{source} = {formula}"

    def replay(self, replay: Replay) -> Replay:
        """`replay` with every gradient scaled as this convention shows it."""
        if not self.notebook:
            return replay
        steps = [
            Step(
                step.tensor,
                self.shown(step.tensor, step.grad),
                tuple(g if g is None else self.shown(t, g) for t, g in zip(step.tensor.node.inputs, step.input_grads)),
            )
            for step in replay.steps
        ]
        grads = dict(replay.grads)
        grads.update((id(step.tensor), step.grad) for step in steps)
        return replace(replay, steps=steps, grads=grads)


def convention_for(root: Tensor, name: str) -> Convention:
    """The Convention called `name` for pictures of the graph that produced `root`."""
    if name not in CONVENTIONS:
        raise OptionError(f"convention must be one of {', '.join(map(repr, CONVENTIONS))}, not {name!r}")
    if name == "true":
        return Convention(name, root)
    n = root.node.constants().get("n") if root.node is not None else None
    if n is None:
        made_by = root.node.name if root.node is not None else "nothing (a leaf)"
        raise OptionError(
            f"convention='notebook' needs a loss at the root (binary_cross_entropy, ...), whose mean over n "
            f"examples holds the notebook's 1/n; this root is made by {made_by}"
        )
    return Convention(name, root, int(n))
