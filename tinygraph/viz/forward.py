"""The forward pass, frame by frame: values appear node by node, in the engine's order.

Before the backward pass is stepped through, the forward one can be: frame k
shows the values of the leaves (parameters and data) and of the first k
operations' outputs, highlights operation k, and says what it computes
(`Z1 = W1X + b1`) from which values. The values not yet computed are written in
their box's own colour, so every frame has the same text and the same layout.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, replace

from tinygraph.engine import topological_order
from tinygraph.tensor import Tensor
from tinygraph.viz.draw import APPLYING, COMPLETED, RECEIVED, forward_scene
from tinygraph.viz.labels import definition_label, grid_html, produced, shape_text
from tinygraph.viz.scene import Scene
from tinygraph.viz.walk import Walk


@dataclass(frozen=True)
class ForwardStep:
    """Frame `index` of the forward pass: its picture, its caption (HTML) and the tensor it computes."""

    scene: Scene
    caption: str
    tensor: Tensor


def forward_order(graph: Walk) -> list[Tensor]:
    """The operations' outputs in the order the forward pass computed them (the engine's topological order)."""
    return [t for t in topological_order(graph.root) if t.node is not None and t in graph]


def forward_steps(graph: Walk) -> list[ForwardStep]:
    """One frame per operation, in forward_order."""
    order = forward_order(graph)
    return [ForwardStep(forward_frame(graph, order, k), forward_caption(graph, t), t) for k, t in enumerate(order)]


def forward_frame(graph: Walk, order: list[Tensor], current: int) -> Scene:
    """The graph with values known after operation `current`; that operation and its inputs highlighted."""
    scene = forward_scene(graph, values=True)
    known = {id(t) for t in order[: current + 1]}
    tensor = order[current]
    for t in graph.tensors:
        key = scene.tensor_id(t)
        if t.node is not None and id(t) not in known:
            hidden = scene.attrs[key]["fillcolor"]
            scene.lines[key] = scene.lines[key][:2] + [replace(line, color=hidden) for line in scene.lines[key][2:]]
    scene.style(scene.op_id(tensor), fillcolor=APPLYING, penwidth="3")
    scene.style(scene.tensor_id(tensor), color=COMPLETED, penwidth="3")
    scene.style(scene.output_edge_id(tensor), color=COMPLETED, penwidth="3")
    for edge in graph.edges:
        if edge.target is tensor:
            scene.style(scene.input_edge_id(edge), color=RECEIVED, penwidth="3")
    name = graph.name(tensor)
    scene.title = f"Forward pass, step {current + 1} of {len(order)}: {produced(tensor, name)}"
    return scene


def forward_caption(graph: Walk, tensor: Tensor) -> str:
    """What the operation computes, with its inputs' values and its result (HTML)."""
    inputs = "".join(
        f"<li><span data-value='{html.escape(graph.name(t))}'>{html.escape(graph.name(t))}</span> "
        f"({html.escape(shape_text(t.shape))}: {grid_html(t.data)})</li>"
        for t in tensor.node.inputs
    )
    name = graph.name(tensor)
    return (
        f"<p><b>{html.escape(produced(tensor, name))}</b> computes "
        f"<code>{html.escape(definition_label(tensor, graph.name))}</code> from</p><ul>{inputs}</ul>"
        f"<p><span class='completed' data-value='{html.escape(name)}'>{html.escape(name)}</span> "
        f"({html.escape(shape_text(tensor.shape))}: {grid_html(tensor.data)})</p>"
    )
