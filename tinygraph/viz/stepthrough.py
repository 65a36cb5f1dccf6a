"""step_through(): the backward pass as a slide show, one frame per step the engine takes."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path
from typing import Any

from tinygraph.tensor import Tensor
from tinygraph.viz.draw import add_backward, add_local_grads, completion_steps, contribution_letters, forward_scene
from tinygraph.viz.convention import Convention, convention_for
from tinygraph.viz.labels import grid_html, produced, shape_text
from tinygraph.viz.render import GraphvizNotFoundError, image, write_atomically
from tinygraph.viz.replay import Replay, replay_backward
from tinygraph.viz.scene import Clusters, Scene, build
from tinygraph.viz.walk import MAX_NODES, Edge, Walk, walk

# A slide show of more steps than this is no longer something to show a class.
MAX_STEPS = 200

PAGE = "step-through.html"
FRAME = re.compile(r"step-\d+\.(svg|dot)")


def step_through(
    root: Tensor,
    out_dir: str | os.PathLike[str],
    *,
    values: bool = False,
    clusters: Clusters | None = None,
    rankdir: str = "LR",
    max_steps: int = MAX_STEPS,
    convention: str = "true",
) -> Path:
    """Write the backward pass from `root` as frames, step-1.svg, step-2.svg, ..., and one HTML page.

    The frames follow the engine's own order: engine.backward runs (on a copy of
    the graph, so the user's gradients and saved arrays are untouched) with an
    observer that records each step. Frame k highlights the node whose local
    gradient is applied at step k (orange), the gradient it receives (blue) and
    the gradients it produces (thick red); a tensor that feeds several nodes shows
    the sum of their contributions, `dL/dA1 = a + b`, once it is complete (green).
    Each frame's caption gives the gradients' values; `values=True` also writes
    them in the picture (wider).

    The page, `out_dir/step-through.html`, holds every frame inline with previous
    and next buttons (and the arrow keys), and needs no network. Returns its path.
    `convention="notebook"` shows the gradients as the lecture's notebook defines
    them (dZ2 = Yhat - Y, the 1/n in dW and db), each frame saying so; see draw().
    Without Graphviz's dot program, the frames' DOT sources are written instead
    and GraphvizNotFoundError says how to render them.
    """
    out_dir = Path(out_dir)
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
    pictures = [build(scene, rankdir, clusters) for scene in scenes]
    names = [f"step-{k + 1:0{len(str(len(scenes)))}d}" for k in range(len(scenes))]
    try:
        svgs = [image(picture, "svg").decode() for picture in pictures]
    except GraphvizNotFoundError as error:
        for name, picture in zip(names, pictures):
            write_atomically(out_dir / f"{name}.dot", picture.source.encode())
        raise GraphvizNotFoundError(
            f"{error} The frames' DOT sources are in {out_dir}; render each with: "
            f"dot -Tsvg {out_dir / names[0]}.dot -o {out_dir / names[0]}.svg"
        ) from error.__cause__
    for name, svg in zip(names, svgs):
        write_atomically(out_dir / f"{name}.svg", svg.encode())
    remove_stale_frames(out_dir, {f"{name}.svg" for name in names})
    complete = completion_steps(graph, replay)
    captions = [caption(graph, replay, complete, k, shown) for k in range(len(replay.steps))]
    page = out_dir / PAGE
    write_atomically(page, html_page(graph, replay, captions, svgs).encode())
    return page


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
        scene.title += f" ({convention.name}'s convention)"
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


STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 1rem 2rem; color: #0f172a; }
header { display: flex; gap: 1rem; align-items: center; position: sticky; top: 0; background: white;
         padding: 0.5rem 0; }
button { font-size: 1rem; padding: 0.3rem 0.9rem; }
.hint { color: #64748b; font-size: 0.9rem; }
.caption { font-size: 1.05rem; line-height: 1.5; min-height: 7rem; }
.received { color: #2563eb; font-weight: bold; }
.produced { color: #dc2626; font-weight: bold; }
.completed { color: #15803d; font-weight: bold; }
.picture svg { max-width: 100%; height: auto; }
table.grid { display: inline-table; border-collapse: collapse; vertical-align: middle; font-family: monospace; }
table.grid td { border: 1px solid #cbd5e1; padding: 0 0.4rem; text-align: right; }
.convention { color: #7c2d12; }
"""

# Kept free of < and & so that the page stays well-formed XML as well as HTML.
SCRIPT = """
var frames = document.querySelectorAll("section.frame");
var current = 0;
function show(k) {
  current = Math.max(0, Math.min(frames.length - 1, k));
  frames.forEach(function (frame, i) { frame.hidden = i !== current; });
  document.getElementById("counter").textContent = "Step " + (current + 1) + " of " + frames.length;
}
document.getElementById("previous").onclick = function () { show(current - 1); };
document.getElementById("next").onclick = function () { show(current + 1); };
document.addEventListener("keydown", function (event) {
  var forward = event.key === "ArrowRight" || event.key === "PageDown" || event.key === " ";
  var back = event.key === "ArrowLeft" || event.key === "PageUp";
  if (forward || back) { show(current + (forward ? 1 : -1)); event.preventDefault(); }
  if (event.key === "Home") { show(0); }
  if (event.key === "End") { show(frames.length - 1); }
});
show(0);
"""


def html_page(graph: Walk, replay: Replay, captions: list[str], svgs: list[str]) -> str:
    """One self-contained page: every frame's SVG inline, shown one at a time."""
    sections = []
    for k, (step, text, svg) in enumerate(zip(replay.steps, captions, svgs)):
        hidden = ' hidden="hidden"' if k else ""
        sections.append(
            f'<section class="frame" id="step-{k + 1}" data-step="{k + 1}" '
            f'data-op="{html.escape(step.tensor.node.name)}" '
            f'data-tensor="{html.escape(graph.name(step.tensor))}"{hidden}>\n'
            f'<div class="caption">{text}</div>\n<div class="picture">{svg[svg.index("<svg"):]}</div>\n</section>'
        )
    title = f"Backward pass from {html.escape(graph.name(graph.root))}, step by step"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8"/>\n'
        f"<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n"
        '<header><button id="previous">&#9664; Previous</button> <span id="counter"></span> '
        '<button id="next">Next &#9654;</button> <span class="hint">or the arrow keys</span></header>\n'
        + "\n".join(sections)
        + f"\n<script>//<![CDATA[{SCRIPT}//]]></script>\n</body>\n</html>\n"
    )
