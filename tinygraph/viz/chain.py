"""The chain rule, explored: one path's product of local gradients, one entry's sum, one tensor's expansion.

    path_view(L, W1)          the graph with the path L -> Yhat -> Z2 -> ... -> W1 highlighted and,
                              as its title, dL/dW1 = dL/dYhat · dYhat/dZ2 · ... · dW1X/dW1
    entry(L, W1, (0, 1))      dL/dW1[0, 1] = sum_j dL/dW1X[0, j] · X[1, j], term by term, with numbers
    expansion(L, A1)          dL/dA1 as the sum over the operations A1 feeds, each term the local
                              gradient applied to its output's gradient, down to L, with numbers

All three read the engine's own backward pass (replayed on a copy of the graph),
so the numbers are the ones backward() computes, and the graph is left untouched.
"""

from __future__ import annotations

import copy
import html
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygraph.backend import to_numpy
from tinygraph.errors import OptionError
from tinygraph.matrix import MatMul
from tinygraph.tensor import Tensor
from tinygraph.viz.convention import Convention, convention_for
from tinygraph.viz.draw import carries_gradient, forward_scene
from tinygraph.viz.labels import grid_html, number, shape_text, summary
from tinygraph.viz.replay import Replay, recompute, replay_backward
from tinygraph.viz.scene import Clusters, Line, build
from tinygraph.viz.walk import MAX_NODES, Edge, Walk, walk

if TYPE_CHECKING:
    import graphviz

PATH_COLOR = "#7c3aed"  # the highlighted path
FADED = "#cbd5e1"
# More paths than this from one tensor to the loss are not listed one by one.
MAX_PATHS = 64
# An entry's sum is written out term by term up to this many output entries.
MAX_ENTRY_TERMS = 4096


def find(graph: Walk, tensor: Tensor | str) -> Tensor:
    """`tensor` itself, or the drawn tensor of that name."""
    if isinstance(tensor, Tensor):
        if tensor not in graph:
            what = f"{tensor.name or 'the tensor'} {tensor.shape}"
            raise OptionError(f"{what} is not in the graph of {graph.name(graph.root)}")
        return tensor
    named = [t for t in graph.tensors if graph.name(t) == tensor]
    if len(named) != 1:
        found = "no tensor" if not named else f"{len(named)} tensors"
        raise OptionError(f"{found} called {tensor!r} in the graph of {graph.name(graph.root)}")
    return named[0]


def paths(graph: Walk, start: Tensor) -> list[list[Edge]]:
    """Every path along which the backward pass sends a gradient from the root down to `start`.

    Each path is its edges from `start` upwards (start -> ... -> root); found by an
    explicit stack, at most MAX_PATHS of them.
    """
    found: list[list[Edge]] = []
    stack: list[tuple[Tensor, list[Edge]]] = [(start, [])]
    while stack and len(found) < MAX_PATHS:
        tensor, so_far = stack.pop()
        if tensor is graph.root:
            found.append(so_far)
            continue
        for edge in reversed([e for e in graph.consumers(tensor) if carries_gradient(e)]):
            stack.append((edge.target, [*so_far, edge]))
    return found


def jacobian_name(edge: Edge, graph: Walk) -> str:
    return f"d{graph.name(edge.target)}/d{graph.name(edge.source)}"


def path_view(
    root: Tensor,
    tensor: Tensor | str,
    *,
    which: int = 0,
    convention: str = "true",
    clusters: Clusters | None = None,
    rankdir: str = "LR",
    font_scale: float = 1.0,
) -> graphviz.Digraph:
    """The graph with one path from `root` down to `tensor` highlighted, and the chain rule along it.

    The title is the product of the local gradients on the path, from the loss
    down (`dL/dW1 = dL/dYhat · dYhat/dZ2 · ... · dW1X/dW1`); each highlighted edge
    is labelled with the step the backward pass takes there (`dL/dZ2 = dL/dYhat *
    Yhat (1 - Yhat)`). Where several paths lead to `tensor`, `which` picks one
    (0, 1, ...) and the title says that the gradient is the sum over all of them.
    `convention`, `clusters`, `rankdir` and `font_scale` are draw()'s.
    """
    graph = walk(root, MAX_NODES)
    target = find(graph, tensor)
    found = paths(graph, target)
    if not found:
        raise OptionError(f"no gradient flows from {graph.name(root)} to {graph.name(target)}")
    if not 0 <= which < len(found):
        raise OptionError(f"path_view: which={which}, but there are {len(found)} paths (0 to {len(found) - 1})")
    chosen = found[which]
    shown = convention_for(root, convention)
    scene = forward_scene(graph)
    on_path = {id(target)} | {id(edge.target) for edge in chosen}
    for edge in graph.edges:
        key = scene.input_edge_id(edge)
        if edge in chosen:
            scene.add_line(key, Line(shown.edge_label(edge, graph), color=PATH_COLOR, bold=True))
            scene.style(key, color=PATH_COLOR, fontcolor=PATH_COLOR, penwidth="3")
        else:
            scene.style(key, color=FADED)
    for t in graph.tensors:
        if id(t) in on_path:
            scene.style(scene.tensor_id(t), color=PATH_COLOR, penwidth="3")
            if t.node is not None:
                scene.style(scene.output_edge_id(t), color=PATH_COLOR, penwidth="3")
                scene.style(scene.op_id(t), color=PATH_COLOR, penwidth="2")
    factors = " · ".join(jacobian_name(edge, graph) for edge in reversed(chosen))
    name = graph.name(target)
    scene.title = f"dL/d{name} = {factors}"  # the chain rule itself, whichever convention labels the edges
    if len(found) > 1:
        scene.title += f"   (path {which + 1} of {len(found)}: dL/d{name} is the sum over all of them)"
    note = shown.note()
    if note:
        scene.title += "\n" + note
    return build(scene, rankdir, clusters, font_scale)


@dataclass(frozen=True)
class Term:
    """One term of an entry's sum: dL/d(output)[at] times the local derivative d(output)[at]/d(input)[index]."""

    output: str
    at: tuple[int, ...]
    upstream: float
    factor: float
    factor_name: str | None  # `X[1, 2]` where the factor is an entry of another tensor; None for a plain 1


@dataclass(frozen=True)
class Entry:
    """dL/d(tensor)[index] written out as the sum the chain rule makes it."""

    name: str
    index: tuple[int, ...]
    terms: list[Term]
    value: float
    formula: str  # e.g. sum_j dL/dW1X[0, j] · X[1, j]

    def __str__(self) -> str:
        products = " + ".join(
            f"({number(t.upstream)})" + ("" if t.factor_name is None else f"({number(t.factor)})")
            for t in self.terms
        )
        head = f"dL/d{self.name}{list(self.index)}"
        pad = " " * len(head)
        return f"{head} = {self.formula}\n{pad} = {products or '0'}\n{pad} = {number(self.value)}"

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(str(self))}</pre>"


def entry(root: Tensor, tensor: Tensor | str, index: tuple[int, ...] | int) -> Entry:
    """dL/d(tensor)[index] as the chain rule's sum over the entries of the outputs it feeds.

    For W1 in W1X = W1 X: dL/dW1[i, k] = sum_j dL/dW1X[i, j] · X[k, j]; for b1 in
    Z1 = W1X + b1: dL/db1[i, 0] = sum_j dL/dZ1[i, j]. Each term's local derivative
    is found by the node's own local gradient applied to a one-hot upstream
    gradient, so the sum holds for any node. Terms whose local derivative is 0
    are left out.
    """
    graph = walk(root, MAX_NODES)
    target = find(graph, tensor)
    index = (index,) if isinstance(index, int) else tuple(index)
    if len(index) != target.ndim or not all(0 <= i < side for i, side in zip(index, target.shape)):
        raise OptionError(f"entry: index {index} is not an entry of {graph.name(target)}, of shape {target.shape}")
    replay = replay_backward(root)
    terms: list[Term] = []
    formulas: list[str] = []
    for edge in graph.consumers(target):
        if not carries_gradient(edge) or id(edge.target) not in replay.grads:
            continue
        upstream = to_numpy(replay.grads[id(edge.target)])
        column = local_derivatives(edge, index)
        output = graph.name(edge.target)
        nonzero = [tuple(int(i) for i in at) for at in np.argwhere(column != 0)]
        edge_terms = [
            Term(output, at, float(upstream[at]), float(column[at]), factor_name(edge, graph, index, at, column[at]))
            for at in nonzero
        ]
        terms.extend(edge_terms)
        formulas.append(entry_formula(edge, graph, index, edge_terms))
    value = sum(t.upstream * t.factor for t in terms)
    return Entry(graph.name(target), index, terms, value, " + ".join(formulas) or "0")


def local_derivatives(edge: Edge, index: tuple[int, ...]) -> np.ndarray:
    """d(output)[o]/d(input)[index] for every output entry o, from one-hot upstream gradients."""
    output = edge.target
    if math.prod(output.shape) > MAX_ENTRY_TERMS:
        what = output.name or "the output"
        raise OptionError(f"entry: {what} has more than {MAX_ENTRY_TERMS} entries to sum over")
    node = copy.copy(output.node)
    recompute(node, output)  # a copy holding what its local gradients need; the user's node is untouched
    column = np.zeros(output.shape)
    for at in np.ndindex(*output.shape):
        onehot = np.zeros(output.shape, dtype=to_numpy(output.data).dtype)
        onehot[at] = 1
        grads = node.input_grads(output.xp.asarray(onehot) if output.xp is not np else onehot)
        column[at] = float(to_numpy(grads[edge.position])[index])
    return column


def factor_name(edge: Edge, graph: Walk, index: tuple[int, ...], at: tuple[int, ...], factor: float) -> str | None:
    """The local derivative in symbols: an entry of the other matrix of a product, None for a plain 1,
    else d(out)[at]/d(in)[index]."""
    node = edge.target.node
    if isinstance(node, MatMul):  # Z = W A: dZ[i, j]/dW[i, k] = A[k, j], dZ[i, j]/dA[k, j] = W[i, k]
        other = graph.name(node.inputs[1 - edge.position])
        return f"{other}[{index[1]}, {at[1]}]" if edge.position == 0 else f"{other}[{at[0]}, {index[0]}]"
    if factor == 1:
        return None
    return f"d{graph.name(edge.target)}{list(at)}/d{graph.name(edge.source)}{list(index)}"


def entry_formula(edge: Edge, graph: Walk, index: tuple[int, ...], terms: list[Term]) -> str:
    """The sum in symbols: `sum_j dL/dW1X[0, j] · X[1, j]`, `sum_j dL/dZ1[0, j]` (a broadcast bias)."""
    out = graph.name(edge.target)
    if isinstance(edge.target.node, MatMul):
        other = graph.name(edge.target.node.inputs[1 - edge.position])
        if edge.position == 0:
            return f"sum_j dL/d{out}[{index[0]}, j] · {other}[{index[1]}, j]"
        return f"sum_i dL/d{out}[i, {index[1]}] · {other}[i, {index[0]}]"
    if not terms:
        return "0"
    letters = iter("jklmn")
    varying = [len({t.at[axis] for t in terms}) > 1 for axis in range(len(terms[0].at))]
    pattern = [next(letters) if v else str(terms[0].at[axis]) for axis, v in enumerate(varying)]
    summed = f"sum_{''.join(p for p, v in zip(pattern, varying) if v)} " if any(varying) else ""
    at = "[" + ", ".join(pattern) + "]"
    if all(t.factor == 1 for t in terms):
        return f"{summed}dL/d{out}{at}"
    return f"{summed}dL/d{out}{at} · d{out}{at}/d{graph.name(edge.source)}{list(index)}"


@dataclass
class Expansion:
    """dL/d(tensor) as the chain rule builds it: the sum over the operations the tensor feeds.

    Each term is the local gradient of one consumer (its edge label) applied to
    that consumer's output gradient, which is expanded in turn, down to the loss.
    A tensor met a second time is not expanded again (`repeated`).
    """

    name: str
    gradient: Any
    terms: list[tuple[str, Any, Expansion]] = field(default_factory=list)  # (edge label, contribution, upstream)
    repeated: bool = False

    def formula(self) -> str:
        """The sum over consumers in symbols: each term is its edge label's right-hand side."""
        parts = [label.split(" = ", 1)[1] for label, _, _ in self.terms]
        return " + ".join(f"({p})" if len(parts) > 1 else p for p in parts)

    def lines(self, depth: int = 0) -> list[str]:
        pad = "    " * depth
        if self.repeated:
            return [f"{pad}{self.name} = {summary(self.gradient)}   (expanded above)"]
        formula = f" = {self.formula()}" if self.terms else ""
        out = [f"{pad}{self.name}{formula} = {summary(self.gradient)}"]
        for label, contribution, upstream in self.terms:
            if len(self.terms) > 1:
                out.append(f"{pad}  term {label.split(' = ', 1)[1]} = {summary(contribution)}")
            out.extend(upstream.lines(depth + 1))
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def html(self) -> str:
        """Nested lists: the gradient's formula and grid, each term's numbers, each upstream gradient expanded."""
        values = f"{html.escape(shape_text(tuple(self.gradient.shape)))}: {grid_html(self.gradient)}"
        if self.repeated:
            return f"<b>{html.escape(self.name)}</b> ({values}) <i>(expanded above)</i>"
        formula = f" = <code>{html.escape(self.formula())}</code>" if self.terms else ""
        items = []
        for label, contribution, upstream in self.terms:
            term = ""
            if len(self.terms) > 1:
                term = f"term <code>{html.escape(label.split(' = ', 1)[1])}</code> = {grid_html(contribution)}"
            nested = f"<ul><li>{upstream.html()}</li></ul>" if term else upstream.html()
            items.append(f"<li>{term}{nested}</li>")
        listed = f"<ul>{''.join(items)}</ul>" if items else ""
        return f"<b>{html.escape(self.name)}</b>{formula} ({values}){listed}"

    def _repr_html_(self) -> str:
        return f'<div class="tg-expansion">{self.html()}</div>'


def expansion(root: Tensor, tensor: Tensor | str, *, convention: str = "true") -> Expansion:
    """dL/d(tensor) expanded by the chain rule, with the numbers of the engine's backward pass."""
    graph = walk(root, MAX_NODES)
    shown = convention_for(root, convention)
    return expansions(graph, shown, shown.replay(replay_backward(root)), [find(graph, tensor)])[0]


def expansions(graph: Walk, shown: Convention, replay: Replay, tensors: list[Tensor]) -> list[Expansion]:
    """The expansion of each of `tensors`, sharing one replay (for a page that shows them all)."""
    step_of = {id(step.tensor): step for step in replay.steps}

    def expand(tensor: Tensor, seen: set[int]) -> Expansion:
        name = shown.grad_name(graph.name(tensor))
        if id(tensor) in seen:
            return Expansion(name, replay.grads[id(tensor)], repeated=True)
        seen.add(id(tensor))
        result = Expansion(name, replay.grads[id(tensor)])
        for edge in graph.consumers(tensor):
            step = step_of.get(id(edge.target))
            if step is None or step.input_grads[edge.position] is None:
                continue
            label = shown.edge_label(edge, graph)
            result.terms.append((label, step.input_grads[edge.position], expand(edge.target, seen)))
        return result

    missing = [graph.name(t) for t in tensors if id(t) not in replay.grads]
    if missing:
        raise OptionError(f"no gradient reaches {', '.join(missing)} from {graph.name(graph.root)}")
    return [expand(t, set()) for t in tensors]
