"""The words in a picture: tensor names and kinds, value summaries, local-gradient formulas.

The local-gradient formulas have one source: each node class's docstring, which
states them in the notebook's notation,

    \"\"\"Z = W A (matrix product);  dL/dW = dL/dZ A^T,  dL/dA = W^T dL/dZ\"\"\"

that is: the output's symbol, `=`, anything, `;`, then one `dL/d<input> = ...` per
input, separated by a comma and two spaces, where the input symbols are the
parameter names of `forward`. A user's own Node subclass written that way gets
its labels too; any other node gets the bare `dZ/dA` on its edges.
"""

from __future__ import annotations

import functools
import html
import inspect
import re
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any

from tinygraph.backend import to_numpy
from tinygraph.node import Node
from tinygraph.tensor import Tensor

# Arrays with at most this many entries are shown in full, larger ones summarised.
SHOWN_IN_FULL = 4

# The placeholder for the upstream gradient dL/d(output), as in `dZ1/dW1 = (.) X^T`.
UPSTREAM = "(.)"


def kind(tensor: Tensor) -> str:
    """'parameter' (a leaf that requires a gradient), 'data' (a constant) or 'intermediate'."""
    if tensor.node is not None:
        return "intermediate"
    return "parameter" if tensor.requires_grad else "data"


def shape_text(shape: tuple[int, ...]) -> str:
    """`3 × 8`, as the notebook writes nh x n; `scalar` for shape ()."""
    return " × ".join(map(str, shape)) if shape else "scalar"


def summary(array: Any) -> str:
    """The values themselves when there are few, otherwise their min, mean and max."""
    values = to_numpy(array).astype(float)  # a GPU array is copied to the host first
    if values.size <= SHOWN_IN_FULL:
        return "[" + ", ".join(f"{v:.3g}" for v in values.ravel()) + "]"
    return f"min {values.min():.3g}  mean {values.mean():.3g}  max {values.max():.3g}"


def escape(text: str) -> str:
    """`text` made safe inside a Graphviz HTML-like label (quotes, <, >, & and all)."""
    return html.escape(text, quote=True)


@dataclass(frozen=True)
class Formulas:
    """A node class's local gradients, read from its docstring."""

    output: str  # the output's symbol, e.g. "Z"
    inputs: tuple[str, ...]  # forward's parameter names, e.g. ("W", "A")
    grads: dict[str, str]  # input symbol -> the right-hand side of dL/d(input) = ...


_GRADIENT = re.compile(r"dL/d(\w+)\s*=\s*(.+)")


@functools.cache
def formulas(node_class: type[Node]) -> Formulas | None:
    """The formulas in `node_class`'s docstring, or None when it does not follow the convention."""
    first_line = (inspect.getdoc(node_class) or "").split("\n", 1)[0]
    definition, semicolon, gradients = first_line.partition(";")
    parameters = list(inspect.signature(node_class.forward).parameters.values())[1:]
    if not semicolon or "=" not in definition or any(p.kind != p.POSITIONAL_OR_KEYWORD for p in parameters):
        return None
    inputs = tuple(p.name for p in parameters)
    grads = {}
    for part in re.split(r",\s{2,}", gradients.strip()):
        match = _GRADIENT.fullmatch(part.strip())
        if match and match[1] in inputs:
            grads[match[1]] = match[2]
    return Formulas(definition.split("=", 1)[0].strip(), inputs, grads) if grads else None


def local_gradient_label(output: Tensor, position: int, name: Callable[[Tensor], str | None] | None = None) -> str:
    """What the backward pass multiplies along the edge from input `position` to `output`'s node.

    Written in the notebook's notation with the tensors' own names, `(.)` standing
    for the upstream gradient dL/d(output): `dZ1/dW1 = (.) X^T` into W1 of
    Z1 = W1 X, `dYhat/dZ2 = (.) * dsigmoid(Z2) = (.) * Yhat (1 - Yhat)` on a Sigmoid.
    `name` gives a tensor's name (default: its .name); a tensor without one is
    called by the docstring's symbol.
    """
    name = name or (lambda tensor: tensor.name)

    def symbol(tensor: Tensor, fallback: str) -> str:
        return name(tensor) or fallback

    node = output.node
    if node is None:
        raise ValueError(f"local_gradient_label: tensor {output.name or output.shape!r} is a leaf; only an operation's output has local gradients")
    found = formulas(type(node))
    source = node.inputs[position]
    if found is None or position >= len(found.inputs) or found.inputs[position] not in found.grads:
        named = found.inputs[position] if found is not None and position < len(found.inputs) else "A"
        return f"d{symbol(output, found.output if found else 'Z')}/d{symbol(source, named)}"
    names = {sym: symbol(t, sym) for sym, t in zip(found.inputs, node.inputs)}
    names[found.output] = symbol(output, found.output)
    formula = re.sub(rf"dL/d{re.escape(found.output)}\b", UPSTREAM, found.grads[found.inputs[position]])
    # All symbols at once, so that W -> A and A -> X cannot chain into W -> X.
    formula = re.sub(r"\b\w+\b", lambda m: names.get(m[0], m[0]), formula)
    return f"d{names[found.output]}/d{names[found.inputs[position]]} = {formula}"
