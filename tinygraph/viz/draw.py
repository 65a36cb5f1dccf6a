"""draw(): a picture of everything that produced a tensor, in the lecture's views."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from tinygraph.tensor import Tensor
from tinygraph.viz.convention import Convention, convention_for
from tinygraph.viz.labels import kind, shape_text, value_lines
from tinygraph.viz.replay import Replay, replay_backward
from tinygraph.viz.scene import DETAIL, Clusters, Line, Scene, build
from tinygraph.viz.walk import MAX_NODES, Edge, Walk, walk

if TYPE_CHECKING:
    import graphviz

# Fill and border of each kind of box; an operation's box is amber.
PALETTE = {
    "parameter": ("#dbeafe", "#1d4ed8"),
    "data": ("#f1f5f9", "#64748b"),
    "intermediate": ("#ffffff", "#334155"),
}
OP_FILL, OP_BORDER = "#fef3c7", "#b45309"
LOCAL_GRAD = "#7c2d12"  # the formulas on the edges
GRADIENT = "#dc2626"  # gradients flowing backwards
NO_GRADIENT = "#cbd5e1"  # edges into constants: the engine sends nothing along them
AUTOMATIC_NAME = "#64748b"  # t1, t2, ... for tensors without a name
# The step-through's highlights: the node at work, what it receives, what is complete.
APPLYING, RECEIVED, COMPLETED = "#fdba74", "#2563eb", "#15803d"
FUTURE = "#e2e8f0"  # arrows the backward pass has not reached yet


def draw(
    root: Tensor,
    *,
    values: bool = False,
    grads: bool = False,
    local_grads: bool = False,
    backward: bool = False,
    clusters: Clusters | None = None,
    rankdir: str = "LR",
    font_scale: float = 1.0,
    max_nodes: int = MAX_NODES,
    convention: str = "true",
) -> graphviz.Digraph:
    """A graphviz.Digraph of everything that produced `root`; it displays itself in Jupyter.

    One box per tensor (its name and shape) and one per operation (its op, e.g.
    MatMul). Parameters (leaves that require a gradient) are blue, data
    (constants) grey, intermediate tensors white, operations amber.

    values       a line per tensor: its values when few, else min, mean and max
    grads        a line per tensor that holds a `.grad`: leaves after backward(),
                 and intermediates on which retain_grad() was called
    local_grads  each edge labelled with the local gradient the backward pass
                 sends along it, made from the one it received: `dL/dW1 = dL/dZ1 X^T`
    backward     the arrows point backwards and carry each gradient's name and shape
                 (and summary, with values=True), from a replay of the backward pass
                 on a copy of the graph; where a tensor feeds several operations its
                 box shows the sum, `dL/dA1 = a + b`
    clusters     {"layer 1": [W1, b1, Z1, A1], ...}, or a function from a tensor to
                 its cluster's label (or None): each cluster is drawn in a frame
    rankdir      "LR" (left to right, the default), "TB", "RL" or "BT"
    font_scale   every text size multiplied by this (1.5: half as large again);
                 at 1 the smallest text is 11 pt, 14.7 px in a browser at full size
    max_nodes    past this many boxes only the ones nearest `root` are drawn, and
                 a note says how many were left out
    convention   "true" (dL/dZ1, what backward() computes) or "notebook" (the
                 lecture's dZ1 = n dL/dZ1, dZ2 = Yhat - Y, with the 1/n in dW and db;
                 the picture's title says so); see tinygraph.viz.convention

    Drawing changes nothing: not the graph, not a gradient, not a saved array.
    """
    shown = convention_for(root, convention)
    scene = forward_scene(walk(root, max_nodes), values, grads, shown)
    if local_grads:
        add_local_grads(scene, shown)
    if backward:
        add_backward(scene, shown.replay(replay_backward(root)), values, convention=shown)
    scene.title = shown.note()
    return build(scene, rankdir, clusters, font_scale)


def forward_scene(
    graph: Walk, values: bool = False, grads: bool = False, convention: Convention | None = None
) -> Scene:
    """Every tensor and operation with its name and shape, styled by kind."""
    convention = convention or convention_for(graph.root, "true")
    scene = Scene(graph)
    for tensor in graph.tensors:
        key = scene.tensor_id(tensor)
        fill, border = PALETTE[kind(tensor)]
        scene.style(key, shape="box", style="rounded,filled", fillcolor=fill, color=border)
        scene.style(key, **{"class": f"tensor {kind(tensor)}"})
        if tensor is graph.root:
            scene.style(key, penwidth="2")
        scene.add_line(key, Line(graph.name(tensor), bold=True, color=None if tensor.name else AUTOMATIC_NAME))
        scene.add_line(key, Line(shape_text(tensor.shape), size=DETAIL))
        if values:
            for row in value_lines(tensor.data):
                scene.add_line(key, Line(row, size=DETAIL, mono=True))
        if grads and tensor.grad is not None:
            scene.add_line(key, Line(f"{convention.grad_name(graph.name(tensor))}:", size=DETAIL, color=GRADIENT))
            for row in value_lines(convention.shown(tensor, tensor.grad)):
                scene.add_line(key, Line(row, size=DETAIL, color=GRADIENT, mono=True))
        if tensor.node is not None:
            scene.style(scene.op_id(tensor), shape="ellipse", style="filled", fillcolor=OP_FILL, color=OP_BORDER)
            scene.style(scene.op_id(tensor), **{"class": "op"})
    return scene


def carries_gradient(edge: Edge) -> bool:
    """Whether the engine sends a gradient along `edge` (never into a constant)."""
    return edge.target.node.needs_grad[edge.position]


def add_local_grads(scene: Scene, convention: Convention | None = None) -> None:
    """Label each edge with the local gradient applied along it; edges into constants are faint."""
    convention = convention or convention_for(scene.walk.root, "true")
    for edge in scene.walk.edges:
        key = scene.input_edge_id(edge)
        if carries_gradient(edge):
            scene.add_line(key, Line(convention.edge_label(edge, scene.walk), color=LOCAL_GRAD))
        else:
            scene.style(key, style="dashed", color=NO_GRADIENT)


def contribution_letters(graph: Walk, tensor: Tensor) -> dict[Edge, str]:
    """`a`, `b`, ... for each gradient-carrying edge out of a tensor that feeds several operations."""
    edges = [e for e in graph.consumers(tensor) if carries_gradient(e)]
    return {e: chr(ord("a") + i) for i, e in enumerate(edges)} if len(edges) > 1 else {}


def gradient_lines(name: str, gradient: Any, values: bool) -> list[Line]:
    """`dL/dZ1: 3 × 4`, or with values `dL/dZ1:` and its grid or summary."""
    if not values:
        return [Line(f"{name}: {shape_text(tuple(gradient.shape))}", size=DETAIL, color=GRADIENT)]
    rows = [Line(row, size=DETAIL, color=GRADIENT, mono=True) for row in value_lines(gradient)]
    return [Line(f"{name}:", size=DETAIL, color=GRADIENT), *rows]


def completion_steps(graph: Walk, replay: Replay) -> dict[int, int]:
    """For each tensor the engine reached, the step after which its gradient is complete.

    That is the last step that sent it a contribution (-1 for the root, whose
    gradient is given): from then on, the sum of all contributions is known.
    """
    done = {id(graph.root): -1}
    for index, step in enumerate(replay.steps):
        for tensor, gradient in zip(step.tensor.node.inputs, step.input_grads):
            if gradient is not None:
                done[id(tensor)] = index
    return done


def add_backward(
    scene: Scene,
    replay: Replay,
    values: bool = False,
    current: int | None = None,
    convention: Convention | None = None,
) -> None:
    """Turn the arrows around and label each with the gradient that flows along it.

    With `current`, the scene is frame `current` of the step-through instead: the
    node applying its local gradient at that step is highlighted, with the
    gradient it receives (blue) and those it produces (red, thick); later
    gradients are written in the background colour, so that every frame has the
    same text and hence the same layout. `replay` holds the gradients as
    `convention` shows them (Convention.replay), which also names them.
    """
    graph = scene.walk
    convention = convention or convention_for(graph.root, "true")
    step_of = {id(step.tensor): index for index, step in enumerate(replay.steps)}
    complete = completion_steps(graph, replay)
    now = len(replay.steps) if current is None else current

    def paint(key: str, at: int, lines: list[Line]) -> None:
        """Give arrow `key` its gradient `lines`, known from step `at` on (hidden before)."""
        scene.style(key, dir="back")
        if at > now:
            lines = [replace(line, color="#ffffff") for line in lines]
            scene.style(key, color=FUTURE)
        else:
            scene.style(key, color=GRADIENT, fontcolor=GRADIENT)
        for line in lines:
            scene.add_line(key, line)

    for tensor in graph.tensors:
        name = convention.grad_name(graph.name(tensor))
        letters = contribution_letters(graph, tensor)
        total = " + ".join(letters.values()) if letters else "1" if tensor is graph.root else None
        if total is not None and id(tensor) in complete:
            key, at = scene.tensor_id(tensor), complete[id(tensor)]
            hidden = scene.attrs[key]["fillcolor"]
            scene.add_line(key, Line(f"{name} = {total}", size=DETAIL, color=GRADIENT if at <= now else hidden))
            if at == now:
                scene.style(key, color=COMPLETED, penwidth="3")
        for edge in graph.consumers(tensor):
            key = scene.input_edge_id(edge)
            step = step_of.get(id(edge.target))
            contribution = None if step is None else replay.steps[step].input_grads[edge.position]
            if contribution is None:  # into a constant, or off every path to the root
                scene.style(key, dir="back", style="dashed", color=NO_GRADIENT)
                continue
            prefix = f"{letters[edge]}: " if edge in letters else ""
            paint(key, step, gradient_lines(prefix + name, contribution, values))
            if step == now:
                scene.style(key, penwidth="3")
        if tensor.node is not None and id(tensor) in replay.grads:
            key = scene.output_edge_id(tensor)
            paint(key, complete[id(tensor)], gradient_lines(name, replay.grads[id(tensor)], values))
            if step_of[id(tensor)] == now:
                scene.style(key, color=RECEIVED, fontcolor=RECEIVED, penwidth="3")
                scene.style(scene.op_id(tensor), fillcolor=APPLYING, penwidth="3")
