"""The forward pass, frame by frame: values appear node by node in the engine's order."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from test_viz_support import SVG, boxes, notebook_graph, parse_svg, text_of

from tinygraph.engine import topological_order
from tinygraph.viz.forward import forward_order, forward_steps
from tinygraph.viz.render import image
from tinygraph.viz.scene import build
from tinygraph.viz.walk import walk

pytest.importorskip("graphviz")


def visible_values(svg: ET.Element) -> set[str]:
    """The tensors whose values (the lines after name and shape) are drawn in a visible colour."""
    shown = set()
    for g in boxes(svg, "tensor"):
        texts = list(g.iter(f"{SVG}text"))
        fill = next(p.get("fill") for p in g if p.tag in (f"{SVG}path", f"{SVG}polygon"))
        if len(texts) > 2 and all(t.get("fill", "#000000") != fill for t in texts[2:]):
            shown.add(texts[0].text)
    return shown


@pytest.fixture(scope="module")
def frames():
    t = notebook_graph()
    steps = forward_steps(walk(t["L"]))
    return t, steps, [parse_svg(image(build(step.scene), "svg")) for step in steps]


def test_the_forward_frames_follow_the_engines_order(frames):
    t, steps, _ = frames
    assert [step.tensor for step in steps] == [x for x in topological_order(t["L"]) if x.node is not None]
    assert forward_order(walk(t["L"]))[-1] is t["L"]


def test_each_frame_shows_the_leaves_and_the_values_computed_so_far(frames):
    t, steps, svgs = frames
    leaves = {"X", "Y", "W1", "b1", "W2", "b2"}
    drawn = walk(t["L"])
    for k, svg in enumerate(svgs):
        expected = leaves | {drawn.name(step.tensor) for step in steps[: k + 1]}
        assert visible_values(svg) == expected, f"frame {k + 1}"


def test_a_frame_title_and_caption_name_what_the_operation_computes(frames):
    t, steps, svgs = frames
    titles = [next(svg.iter(f"{SVG}text")).text for svg in svgs]
    assert "Forward pass, step 2 of 7: Add -> Z1" in titles
    add = next(step for step in steps if step.tensor is t["Z1"])
    assert "<code>Z1 = t1 + b1</code>" in add.caption
    caption = ET.fromstring(f"<div>{add.caption}</div>")
    (result,) = [p for p in caption.iter("p") if any(s.get("data-value") == "Z1" for s in p)]
    Z1 = t["Z1"].data
    assert "".join(result.itertext()) == f"Z1 (3 × 8: min {Z1.min():.3g}  mean {Z1.mean():.3g}  max {Z1.max():.3g})"
