"""step_through(): one frame per step of the engine, in its order, on a page that needs no network."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from test_viz_support import SVG, Undocumented, assert_same, boxes, notebook_graph, parse_svg, snapshot, text_of

import tinygraph as tg
from tinygraph.engine import backward, topological_order
from tinygraph.viz import step_through
from tinygraph.viz.draw import APPLYING, COMPLETED
from tinygraph.viz.replay import replay_backward
from tinygraph.viz.walk import walk

pytest.importorskip("graphviz")
XHTML = "{http://www.w3.org/1999/xhtml}"


def page(path) -> ET.Element:
    """The page parsed as XML: it is well-formed, inline SVGs and script included."""
    return ET.fromstring(path.read_text().removeprefix("<!DOCTYPE html>\n"))


def frames(path) -> list[ET.Element]:
    return [s for s in page(path).iter("section") if s.get("class") == "tg-frame"]


def engine_order(root: tg.Tensor) -> list[tg.Tensor]:
    """The tensors whose local gradients the engine applies, in the order it applies them."""
    return [t for t in reversed(topological_order(root)) if t.node is not None]


@pytest.fixture(scope="module")
def notebook_run(tmp_path_factory):
    t = notebook_graph()
    out = tmp_path_factory.mktemp("steps")
    return t, out, step_through(t["L"], out).page


def test_there_is_one_frame_per_step_in_the_engines_order(notebook_run):
    t, _, html = notebook_run
    named = walk(t["L"]).name  # t1, t2, ... for the unnamed W1 X and W2 A1
    expected = [(named(tensor), tensor.node.name) for tensor in engine_order(t["L"])]
    assert [(f.get("data-tensor"), f.get("data-op")) for f in frames(html)] == expected
    assert expected[0] == ("L", "BCE") and expected[-1][1] == "MatMul"


def test_one_svg_file_per_step_each_valid(notebook_run):
    t, out, html = notebook_run
    svgs = sorted(out.glob("step-*.svg"))
    assert len(svgs) == len(engine_order(t["L"])) == 7
    for path in svgs:
        assert len(boxes(parse_svg(path.read_bytes()), "op")) == 7


def test_the_page_holds_every_frame_inline(notebook_run):
    _, _, html = notebook_run
    for frame in frames(html):
        (svg,) = frame.iter(f"{SVG}svg")
        assert len(boxes(svg, "tensor")) == 13


def test_only_the_first_frame_is_shown_at_first(notebook_run):
    _, _, html = notebook_run
    assert [f.get("hidden") for f in frames(html)] == [None] + ["hidden"] * 6


def test_the_page_needs_no_network(notebook_run):
    _, _, html = notebook_run
    text = html.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert not re.search(r"@import|url\(\s*['\"]?https?:", text)
    assert "<link" not in text and "<script src" not in text


def test_the_page_has_previous_and_next_buttons_and_no_ids(notebook_run):
    _, _, html = notebook_run
    buttons = {b.get("data-action") for b in page(html).iter("button")}
    assert buttons == {"previous", "next"}
    assert not [e.tag for e in page(html).iter() if e.get("id") is not None]  # several fit on one page


def applying(svg: ET.Element) -> list[str]:
    """The operations highlighted as applying their local gradient."""
    return [text_of(g)[0] for g in boxes(svg, "op") if any(s.get("fill") == APPLYING for s in g)]


def test_each_frame_highlights_the_node_applying_its_local_gradient(notebook_run):
    t, _, html = notebook_run
    for frame, tensor in zip(frames(html), engine_order(t["L"]), strict=True):
        (svg,) = frame.iter(f"{SVG}svg")
        assert applying(svg) == [tensor.node.name]


def visible_gradients(svg: ET.Element) -> set[str]:
    """The gradient labels drawn in a visible colour (later ones are drawn in white)."""
    return {
        text.text for g in boxes(svg, "edge") for text in g.iter(f"{SVG}text")
        if text.text.startswith("dL/d") and ":" in text.text and text.get("fill") != "#ffffff"
    }


def test_gradients_appear_only_once_the_engine_has_computed_them(notebook_run):
    _, _, html = notebook_run
    shown = [visible_gradients(next(f.iter(f"{SVG}svg"))) for f in frames(html)]
    assert "dL/dYhat: " in " ".join(shown[0]) and not any("dL/dW1" in g for g in shown[0])
    assert any("dL/dW1" in g for g in shown[-1])
    assert all(earlier <= later for earlier, later in zip(shown, shown[1:]))


def test_the_caption_gives_each_steps_local_gradient_and_the_gradient_received(notebook_run):
    _, _, html = notebook_run
    captions = ["".join(f.find("div").itertext()) for f in frames(html)]
    sigmoid = next(c for c in captions if c.startswith("Sigmoid"))
    assert "receives dL/dYhat (1 × 8: min" in sigmoid
    assert "dL/dZ2 (1 × 8: min" in sigmoid and "via dL/dZ2 = dL/dYhat * dsigmoid(Z2) = dL/dYhat * Yhat (1 - Yhat)" in sigmoid


def test_every_frame_has_the_same_layout(notebook_run):
    _, out, _ = notebook_run

    def layout(path):
        svg = parse_svg(path.read_bytes())
        return [(t.get("x"), t.get("y")) for g in boxes(svg, "node") for t in g.iter(f"{SVG}text")]

    layouts = [layout(path) for path in sorted(out.glob("step-*.svg"))]
    assert all(each == layouts[0] for each in layouts)


def test_a_fan_out_is_summed_in_the_frame_that_completes_it(tmp_path):
    x = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True, name="x")
    h = tg.tanh(x)
    h.name = "h"
    y = (h * 2.0 + h * h).sum()
    y.name = "y"
    html = step_through(y, tmp_path).page
    order = engine_order(y)
    last_consumer = max(i for i, t in enumerate(order) if any(inp is h for inp in t.node.inputs))
    for k, frame in enumerate(frames(html)):
        (svg,) = frame.iter(f"{SVG}svg")
        (box,) = [g for g in boxes(svg, "tensor") if text_of(g)[0] == "h"]
        outline = {s.get("stroke") for s in box if s.tag == f"{SVG}path"}
        summed = [t for t in box.iter(f"{SVG}text") if t.text == "dL/dh = a + b + c"]
        assert len(summed) == 1  # always there, so the layout never moves; visible once complete
        assert (COMPLETED in outline) == (k == last_consumer)
        assert (summed[0].get("fill") == "#dc2626") == (k >= last_consumer)
    caption = "".join(frames(html)[last_consumer].find("div").itertext())
    assert "dL/dh is now complete: the sum of the 3 contributions" in caption


def test_the_replay_takes_the_engines_own_steps_with_its_gradients():
    replayed, real = notebook_graph(), notebook_graph()
    steps = replay_backward(replayed["L"]).steps
    seen = []
    backward(real["L"], retain_graph=True, observer=lambda t, g, gs: seen.append((t.name, g, gs)))
    assert [s.tensor.name for s in steps] == [name for name, _, _ in seen]
    for step, (_, grad, input_grads) in zip(steps, seen):
        np.testing.assert_array_equal(step.grad, grad)
        for mine, theirs in zip(step.input_grads, input_grads, strict=True):
            assert (mine is None) == (theirs is None)
            if mine is not None:
                np.testing.assert_array_equal(mine, theirs)


@pytest.mark.parametrize("released", [False, True])
def test_stepping_through_changes_neither_the_graph_nor_its_gradients(tmp_path, released):
    t = notebook_graph()
    t["A1"].retain_grad()
    t["L"].backward(retain_graph=not released)
    before = snapshot(t)
    step_through(t["L"], tmp_path)
    assert_same(before, snapshot(t))


def test_a_released_node_whose_forward_is_not_repeatable_is_refused():
    class Noisy(Undocumented):
        def forward(self, A):
            return A + np.random.default_rng().random(A.shape)

    x = tg.Tensor(np.ones(3), requires_grad=True, name="x")
    y = Noisy.apply(x).sum()
    y.backward()
    with pytest.raises(tg.TinygraphError, match="Noisy: its forward gave a different output"):
        replay_backward(y)


def test_too_many_steps_are_refused(tmp_path):
    x = tg.Tensor(1.0, requires_grad=True, name="x")
    y = x
    for _ in range(11):
        y = y * 2.0
    with pytest.raises(ValueError, match="11 steps, more than max_steps=10"):
        step_through(y, tmp_path, max_steps=10)
    assert list(tmp_path.iterdir()) == []


def test_names_with_quotes_angle_brackets_and_ampersands_keep_the_page_well_formed(tmp_path):
    x = tg.Tensor(np.ones(2), requires_grad=True, name='<x> & "y"')
    L = tg.tanh(x).sum()
    L.name = "it's <L>"
    html = step_through(L, tmp_path).page
    assert [f.get("data-tensor") for f in frames(html)] == ["it's <L>", "t1"]
    assert "dL/d<x> & \"y\" (2: 0.420.42)" in "".join(frames(html)[1].find("div").itertext())  # a grid's cells


def test_frames_of_an_earlier_longer_step_through_are_removed(tmp_path):
    (tmp_path / "step-8.svg").write_text("an earlier frame")
    (tmp_path / "step-9.dot").write_text("an earlier source")
    (tmp_path / "step-notes.txt").write_text("the user's own file")
    step_through(notebook_graph()["L"], tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        *(f"step-{k}.svg" for k in range(1, 8)), "step-notes.txt", "step-through.html"
    ]  # fmt: skip


def test_in_jupyter_a_step_through_is_one_element_without_ids():
    fragment = step_through(notebook_graph()["L"])._repr_html_()
    root = ET.fromstring(fragment)
    assert root.get("class") == "tg-stepthrough" and root.get("tabindex") == "0"
    assert not [e.tag for e in root.iter() if e.get("id") is not None]
    assert "document.addEventListener" not in fragment  # keys only while it has focus


def test_each_tensor_box_carries_its_name(notebook_run):
    _, _, html = notebook_run
    (svg,) = frames(html)[0].iter(f"{SVG}svg")
    named = {g.get("data-tensor") for g in boxes(svg, "tensor")}
    assert {"W1", "b1", "X", "Yhat", "L"} <= named


def test_rankdir_and_font_scale_reach_every_frame(tmp_path):
    steps = step_through(notebook_graph()["L"], rankdir="TB", font_scale=2)
    for each in steps.frames:
        svg = parse_svg(each.svg)
        width, height = map(float, svg.get("viewBox").split()[2:])
        assert height > width
        assert min(float(t.get("font-size")) for t in svg.iter(f"{SVG}text")) == 22


def test_each_slide_shows_the_part_of_the_picture_around_its_step_at_a_readable_size():
    from tinygraph.viz.slides import crop, region

    steps = step_through(notebook_graph()["L"], values=True)  # about 3,000 points wide
    for each in steps.frames:
        whole = [float(v) for v in parse_svg(each.svg).get("viewBox").split()]
        window = [float(v) for v in parse_svg(crop(each.svg, each.active)).get("viewBox").split()]
        left, top, right, bottom = region(parse_svg(each.svg), each.active)
        assert window[2] < whole[2] / 2  # a part, not the whole
        assert window[0] <= left and right <= window[0] + window[2]
        assert window[1] <= top and bottom <= window[1] + window[3]


def test_slides_without_a_rasteriser_say_which_package_is_missing(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "resvg_py", None)
    steps = step_through(notebook_graph()["L"])
    with pytest.raises(tg.viz.GraphvizNotFoundError, match="slides.pdf was not written: .*resvg-py"):
        steps.save_pdf(tmp_path / "slides.pdf")
    assert not (tmp_path / "slides.pdf").exists()
