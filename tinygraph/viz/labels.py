"""The words in a picture: tensor names and kinds, values as grids or summaries, local-gradient formulas.

One notation throughout, the notebook's: a gradient is written dL/dZ1 (the loss L
differentiated by the tensor Z1), and every edge label says which gradient the
backward pass sends along that edge and how it is made from the gradient it
received, `dL/dW1 = dL/dZ1 X^T`. A node's numeric settings appear as values
(`dL/dA = dL/dZ * 2 A^(2-1)`... written `2 A^(2-1)`), and where broadcasting
copied an input, its label says over what the gradient is summed back.

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
from tinygraph.elementwise import Broadcasting
from tinygraph.node import Node
from tinygraph.tensor import Tensor

# Arrays of at most this many rows and columns are shown in full, as grids; larger ones summarised.
GRID_MAX_SIDE = 6


def kind(tensor: Tensor) -> str:
    """'parameter' (a leaf that requires a gradient), 'data' (a constant) or 'intermediate'."""
    if tensor.node is not None:
        return "intermediate"
    return "parameter" if tensor.requires_grad else "data"


def shape_text(shape: tuple[int, ...]) -> str:
    """`3 × 8`, as the notebook writes nh x n; `scalar` for shape ()."""
    return " × ".join(map(str, shape)) if shape else "scalar"


def number(value: float) -> str:
    """`value` to 3 significant digits; 0 for anything that rounds to zero (never `-0`)."""
    text = f"{value:.3g}"
    return "0" if float(text) == 0 else text


def is_grid(shape: tuple[int, ...]) -> bool:
    """Whether an array of `shape` is shown in full: a scalar, or up to GRID_MAX_SIDE rows and columns."""
    return len(shape) <= 2 and all(side <= GRID_MAX_SIDE for side in shape)


def grid(array: Any) -> list[list[str]]:
    """The entries of a small array as text, rows as rows: a vector is one row, a scalar one cell."""
    values = to_numpy(array).astype(float)  # a GPU array is copied to the host first
    rows = values.reshape(1, -1) if values.ndim < 2 else values
    return [[number(v) for v in row] for row in rows]


def value_lines(array: Any) -> list[str]:
    """Lines of text for a picture: a grid's rows, columns aligned (for a fixed-width font), or a summary."""
    if not is_grid(tuple(array.shape)) or array.ndim == 0:
        return [summary(array)]
    cells = grid(array)
    width = max(len(cell) for row in cells for cell in row)
    return ["[" + "  ".join(cell.rjust(width) for cell in row) + "]" for row in cells]


def summary(array: Any) -> str:
    """One line: the values, rows as rows, when few (`[[1, -2.5], [0.125, 3]]`), else min, mean and max."""
    if is_grid(tuple(array.shape)):
        rows = ["[" + ", ".join(row) + "]" for row in grid(array)]
        if array.ndim == 0:
            return grid(array)[0][0]
        return rows[0] if array.ndim == 1 else "[" + ", ".join(rows) + "]"
    values = to_numpy(array).astype(float)
    return f"min {number(values.min())}  mean {number(values.mean())}  max {number(values.max())}"


def grid_html(array: Any) -> str:
    """A small array as an HTML table (rows as rows), a larger one as its summary."""
    if not is_grid(tuple(array.shape)) or array.ndim == 0:
        return html.escape(summary(array))
    rows = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in grid(array))
    return f'<table class="grid">{rows}</table>'


def escape(text: str) -> str:
    """`text` made safe inside a Graphviz HTML-like label (quotes, <, >, & and all)."""
    return html.escape(text, quote=True)


@dataclass(frozen=True)
class Formulas:
    """A node class's local gradients, read from its docstring."""

    output: str  # the output's symbol, e.g. "Z"
    inputs: tuple[str, ...]  # forward's parameter names, e.g. ("W", "A")
    grads: dict[str, str]  # input symbol -> the right-hand side of dL/d(input) = ...
    definition: str = ""  # the right-hand side of the output's own formula, e.g. "W A (matrix product)"


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
    output, _, made = definition.partition("=")
    return Formulas(output.strip(), inputs, grads, made.strip()) if grads else None


def produced(tensor: Tensor, name: str) -> str:
    """An operation named by what it makes, `Add -> Z1`: a graph may hold several Adds, but one Z1."""
    return f"{tensor.node.name} -> {name}"


def summed_over(grad_shape: tuple[int, ...], input_shape: tuple[int, ...]) -> str | None:
    """How Node.input_grads sums a gradient back to a broadcast input's shape, in words (None: no sum)."""
    leading = len(grad_shape) - len(input_shape)
    axes = [*range(leading)] + [
        leading + axis for axis, side in enumerate(input_shape) if side == 1 and grad_shape[leading + axis] != 1
    ]
    if not axes:
        return None
    if len(grad_shape) == 2 and len(axes) == 1:
        axis = axes[0]
        return f"summed over its {grad_shape[axis]} {'columns' if axis == 1 else 'rows'}"
    return f"summed over axes {', '.join(map(str, axes))}"


def symbol_names(output: Tensor, found: Formulas, symbol: Callable[[Tensor, str], str]) -> dict[str, str]:
    """The docstring's symbols -> the tensors' names, and the node's settings -> their values."""
    names = {sym: symbol(t, sym) for sym, t in zip(found.inputs, output.node.inputs)}
    names[found.output] = symbol(output, found.output)
    names.update((sym, number(value)) for sym, value in output.node.constants().items())
    return names


def named(formula: str, names: dict[str, str]) -> str:
    """`formula` with every symbol replaced at once, so that W -> A and A -> X cannot chain into W -> X."""
    return re.sub(
        r"dL/d(\w+)|\b\w+\b",
        lambda m: f"dL/d{names.get(m[1], m[1])}" if m[1] else names.get(m[0], m[0]),
        formula,
    )


def definition_label(output: Tensor, name: Callable[[Tensor], str | None] | None = None) -> str:
    """What the forward pass computes at `output`'s node, with the tensors' names: `Z1 = W1X + b1`.

    From the first part of the node's docstring; `Add -> Z1` for a node without one.
    """
    name = name or (lambda tensor: tensor.name)
    found = formulas(type(output.node))
    if found is None or not found.definition:
        return produced(output, name(output) or "Z")
    names = symbol_names(output, found, lambda tensor, fallback: name(tensor) or fallback)
    return f"{names[found.output]} = {named(found.definition, names)}"


def local_gradient_label(output: Tensor, position: int, name: Callable[[Tensor], str | None] | None = None) -> str:
    """The gradient the backward pass sends along the edge from input `position` into `output`'s node.

    Written in the notebook's notation with the tensors' own names: `dL/dW1 = dL/dZ1 X^T`
    into W1 of Z1 = W1 X, `dL/dZ2 = dL/dYhat * Yhat (1 - Yhat)` on a Sigmoid. The
    node's settings appear as numbers (Pow's p, LeakyReLU's slope, a loss's n), and
    an input that broadcasting stretched says over what its gradient is summed:
    `dL/db1 = (dL/dZ1) summed over its 4 columns`. `name` gives a tensor's name
    (default: its .name); a tensor without one is called by the docstring's symbol.
    """
    name = name or (lambda tensor: tensor.name)

    def symbol(tensor: Tensor, fallback: str) -> str:
        return name(tensor) or fallback

    node = output.node
    if node is None:
        raise ValueError(
            f"local_gradient_label: tensor {output.name or output.shape!r} is a leaf; "
            "only an operation's output has local gradients"
        )
    found = formulas(type(node))
    source = node.inputs[position]
    if found is None or position >= len(found.inputs) or found.inputs[position] not in found.grads:
        # No formula to show: the chain rule itself, with the node's local derivative unnamed.
        into = symbol(source, found.inputs[position] if found is not None and position < len(found.inputs) else "A")
        out = symbol(output, found.output if found else "Z")
        return f"dL/d{into} = dL/d{out} · d{out}/d{into}"
    names = symbol_names(output, found, symbol)
    formula = named(found.grads[found.inputs[position]], names)
    # Elementwise nodes give a gradient of the output's shape; Node sums it to the input's.
    summed = summed_over(output.shape, source.shape) if isinstance(node, Broadcasting) else None
    if summed:
        formula = f"({formula}) {summed}"
    return f"dL/d{names[found.inputs[position]]} = {formula}"
