"""draw(): one box per tensor and per operation, the lecture's views, and drawing changes nothing."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter

import numpy as np
import pytest
from test_viz_support import (
    SVG,
    Undocumented,
    assert_same,
    boxes,
    edge_texts,
    notebook_graph,
    numbers,
    parse_svg,
    snapshot,
    text_of,
)

import tinygraph as tg
from tinygraph.viz import draw
from tinygraph.viz.render import image
from tinygraph.viz.walk import walk

pytest.importorskip("graphviz")


def svg(root: tg.Tensor, **options) -> object:
    return parse_svg(image(draw(root, **options), "svg"))


def names_in(svg_root, kind: str) -> list[str]:
    return [text_of(g)[0] for g in boxes(svg_root, kind)]


def box_text(svg_root, name: str) -> list[str]:
    (box,) = [g for g in boxes(svg_root, "tensor") if text_of(g)[0] == name]
    return text_of(box)


def test_one_box_per_tensor_named_as_in_the_notebook():
    picture = svg(notebook_graph()["L"])
    assert sorted(names_in(picture, "tensor")) == sorted(
        ["X", "Y", "W1", "b1", "W2", "b2", "Z1", "A1", "Z2", "Yhat", "L", "t1", "t2"]
    )


def test_one_box_per_operation_labelled_with_its_op():
    picture = svg(notebook_graph()["L"])
    assert Counter(names_in(picture, "op")) == Counter(
        {"MatMul": 2, "Add": 2, "ReLU": 1, "Sigmoid": 1, "BCE": 1}
    )


def test_unnamed_tensors_are_numbered_inputs_first():
    t = notebook_graph()
    picture = svg(t["L"])
    assert "t1" in box_text(picture, "t1") and "3 × 8" in box_text(picture, "t1")  # W1 X
    assert "1 × 8" in box_text(picture, "t2")  # W2 A1


def test_a_one_number_constant_is_called_by_its_value():
    x = tg.Tensor(np.ones(3), requires_grad=True, name="x")
    y = 2.5 * x
    y.name = "y"
    picture = svg(y, local_grads=True)
    assert box_text(picture, "2.5") == ["2.5", "scalar"]
    assert "dL/dx = dL/dy * 2.5" in edge_texts(picture)


def test_a_one_number_constant_of_another_array_library_is_called_by_its_value():
    torch = pytest.importorskip("torch")
    x = tg.Tensor(torch.ones(3, dtype=torch.float64), requires_grad=True, name="x")
    graph = walk(2.5 * x)
    assert [graph.name(t) for t in graph.tensors if t is not x and t.node is None] == ["2.5"]


def test_tensor_boxes_show_the_shape():
    picture = svg(notebook_graph()["L"])
    assert box_text(picture, "W1") == ["W1", "3 × 4"]
    assert box_text(picture, "L") == ["L", "scalar"]


OUTLINES = {f"{SVG}{shape}" for shape in ("path", "polygon", "ellipse")}


def test_parameters_data_and_intermediates_are_styled_apart():
    picture = svg(notebook_graph()["L"])
    assert sorted(names_in(picture, "parameter")) == ["W1", "W2", "b1", "b2"]
    assert sorted(names_in(picture, "data")) == ["X", "Y"]
    assert sorted(names_in(picture, "intermediate")) == ["A1", "L", "Yhat", "Z1", "Z2", "t1", "t2"]
    fills = {kind: {shape.get("fill") for g in boxes(picture, kind) for shape in g if shape.tag in OUTLINES}
             for kind in ("parameter", "data", "intermediate", "op")}
    assert all(len(f) == 1 for f in fills.values()), fills
    assert len(set().union(*fills.values())) == 4


def test_values_shows_small_tensors_as_grids_and_large_ones_summarised():
    t = notebook_graph()
    picture = svg(t["L"], values=True)
    assert numbers(box_text(picture, "b2")[2]) == pytest.approx([t["b2"].item()], abs=5e-3)
    rows = box_text(picture, "W1")[2:]
    np.testing.assert_allclose([numbers(row) for row in rows], t["W1"].data, rtol=5e-3)
    Z1 = t["Z1"].data
    assert numbers(box_text(picture, "Z1")[2]) == pytest.approx([Z1.min(), Z1.mean(), Z1.max()], rel=5e-3)


def test_grads_shows_the_gradients_that_backward_kept():
    t = notebook_graph()
    t["A1"].retain_grad()
    t["L"].backward()
    picture = svg(t["L"], grads=True)
    assert box_text(picture, "W1")[2] == "dL/dW1:"
    shown = [numbers(row) for row in box_text(picture, "W1")[3:]]
    np.testing.assert_allclose(shown, t["W1"].grad, rtol=5e-3)
    assert box_text(picture, "A1")[2] == "dL/dA1:"
    assert len(box_text(picture, "Z1")) == 2  # no .grad kept: nothing to show


def test_local_grads_labels_edges_in_the_notebooks_notation():
    labels = edge_texts(svg(notebook_graph()["L"], local_grads=True))
    for expected in [
        "dL/dZ2 = dL/dYhat * dsigmoid(Z2) = dL/dYhat * Yhat (1 - Yhat)",
        "dL/dZ1 = dL/dA1 * drelu(Z1)",
        "dL/dW1 = dL/dt1 X^T",
        "dL/dW2 = dL/dt2 A1^T",
        "dL/dA1 = W2^T dL/dt2",
        "dL/db1 = (dL/dZ1) summed over its 8 columns",
        "dL/dYhat = (Yhat - Y) / (8 Yhat (1 - Yhat))",
    ]:
        assert expected in labels


def test_edges_into_constants_carry_no_local_gradient():
    t = notebook_graph()
    picture = svg(t["L"], local_grads=True)
    dashed = [g for g in boxes(picture, "edge") if any(p.get("stroke-dasharray") for p in g)]
    assert len(dashed) == 2  # X into MatMul, Y into BCE: the engine computes nothing along them
    assert all(text_of(g) == [] for g in dashed)


class Hypot(tg.Node):
    """Z = sqrt(A^2 + B^2);  dL/dA = dL/dZ * A / Z,  dL/dB = dL/dZ * B / Z"""

    def forward(self, A, B):
        Z = (A * A + B * B) ** 0.5
        self.save_for_backward(A, B, Z)
        return Z

    def local_grads(self, dZ):
        A, B, Z = self.saved
        return dZ * A / Z, dZ * B / Z


def test_a_users_node_gets_labels_from_its_docstring():
    a = tg.Tensor([3.0], requires_grad=True, name="a")
    b = tg.Tensor([4.0], requires_grad=True, name="b")
    h = Hypot.apply(a, b)
    h.name = "h"
    assert {"dL/da = dL/dh * a / h", "dL/db = dL/dh * b / h"} <= set(edge_texts(svg(h, local_grads=True)))


def test_a_node_without_formulas_gets_the_bare_derivative():
    a = tg.Tensor([3.0], requires_grad=True, name="a")
    out = Undocumented.apply(a)
    out.name = "out"
    assert "dL/da = dL/dout · dout/da" in edge_texts(svg(out, local_grads=True))


def test_backward_view_labels_each_arrow_with_the_gradient_it_carries():
    labels = edge_texts(svg(notebook_graph()["L"], backward=True))
    for expected in ["dL/dW1: 3 × 4", "dL/db1: 3 × 1", "dL/dZ1: 3 × 8", "dL/dYhat: 1 × 8", "dL/dt1: 3 × 8"]:
        assert expected in labels


def test_backward_view_arrows_point_against_the_forward_edges():
    source = draw(notebook_graph()["L"], backward=True).source
    edges = [line for line in source.splitlines() if "->" in line]
    assert edges and all("dir=back" in line for line in edges)


def test_backward_view_with_values_shows_the_gradient_values():
    t = notebook_graph()
    labels = edge_texts(svg(t["L"], backward=True, values=True))
    t["L"].backward()
    dW1 = t["W1"].grad
    (label,) = [text for text in labels if text.startswith("dL/dW1:")]
    np.testing.assert_allclose([numbers(row) for row in label.split("\n")[1:]], dW1, rtol=5e-3)


def test_fan_out_shows_the_gradient_as_the_sum_of_contributions():
    x = tg.Tensor(2.0, requires_grad=True, name="x")
    y = x * x + 3 * x
    y.name = "y"
    picture = svg(y, backward=True, values=True)
    assert "dL/dx = a + b + c" in box_text(picture, "x")
    parts = {text.split(":")[0]: numbers(text.split(":")[-1])[0] for text in edge_texts(picture) if "dL/dx" in text}
    assert set(parts) == {"a", "b", "c"}
    assert sorted(parts.values()) == [2.0, 2.0, 3.0]  # x * x sends x twice, 3 x sends 3: dy/dx = 2x + 3


def cluster_boxes(picture) -> dict[str, tuple[float, float, float, float]]:
    """Each cluster's label and bounding box."""
    result = {}
    for g in boxes(picture, "cluster"):
        outline = g.find(f"{SVG}path").get("d")[1:].replace("C", " ")  # "Mx,y Cx,y x,y ..."
        points = [tuple(map(float, p.split(","))) for p in outline.split()]
        xs, ys = zip(*points)
        result[text_of(g)[0]] = (min(xs), max(xs), min(ys), max(ys))
    return result


def position(picture, name: str) -> tuple[float, float]:
    (box,) = [g for g in boxes(picture, "tensor") if text_of(g)[0] == name]
    text = box.find(f"{SVG}text")
    return float(text.get("x")), float(text.get("y"))


@pytest.mark.parametrize("by", ["mapping", "function"])
def test_clusters_frame_each_layers_tensors(by):
    t = notebook_graph()
    layers = {"layer 1": [t["W1"], t["b1"], t["Z1"], t["A1"]], "layer 2": [t["W2"], t["b2"], t["Z2"], t["Yhat"]]}
    clusters = layers if by == "mapping" else (lambda x: next((k for k, v in layers.items() if x in v), None))
    picture = svg(t["L"], clusters=clusters)
    frames = cluster_boxes(picture)
    assert set(frames) == {"layer 1", "layer 2"}
    for label, members in layers.items():
        for tensor in members:
            x, y = position(picture, tensor.name)
            left, right, top, bottom = frames[label]
            assert left < x < right and top < y < bottom, (tensor.name, label)
    x, y = position(picture, "L")
    assert not any(left < x < right and top < y < bottom for left, right, top, bottom in frames.values())


def test_a_tensor_in_two_clusters_is_refused():
    t = notebook_graph()
    with pytest.raises(ValueError, match="'W1'.*two clusters"):
        draw(t["L"], clusters={"a": [t["W1"]], "b": [t["W1"]]})


def test_a_cluster_of_something_else_than_tensors_is_refused():
    with pytest.raises(TypeError, match="cluster 'a' lists a str"):
        draw(notebook_graph()["L"], clusters={"a": ["W1"]})


def test_unknown_rankdir_is_refused():
    with pytest.raises(ValueError, match="rankdir"):
        draw(notebook_graph()["L"], rankdir="sideways")


def test_rankdir_lays_the_graph_out_left_to_right_by_default():
    picture = svg(notebook_graph()["L"])
    assert position(picture, "X")[0] < position(picture, "Z1")[0] < position(picture, "L")[0]


@pytest.mark.parametrize("released", [False, True])
def test_drawing_changes_neither_the_graph_nor_its_gradients(released):
    t = notebook_graph()
    t["Z1"].retain_grad()
    t["L"].backward(retain_graph=not released)
    before = snapshot(t)
    for options in [{}, {"values": True, "grads": True}, {"local_grads": True, "backward": True, "values": True}]:
        image(draw(t["L"], **options), "svg")
    assert_same(before, snapshot(t))


def test_after_drawing_the_backward_pass_gives_the_same_gradients():
    drawn, untouched = notebook_graph(), notebook_graph()
    draw(drawn["L"], backward=True, local_grads=True)
    drawn["L"].backward()
    untouched["L"].backward()
    for name in ("W1", "b1", "W2", "b2"):
        np.testing.assert_array_equal(drawn[name].grad, untouched[name].grad)


def test_names_with_quotes_angle_brackets_and_ampersands_are_shown_as_written():
    tricky = ['say "hi"', "<b>bold</b>", "Tom & Jerry", "&lt;", "back\\slash", "it's"]
    tensors = [tg.Tensor(np.ones((1, 1)), requires_grad=True, name=name) for name in tricky]
    total = tensors[0]
    for tensor in tensors[1:]:
        total = total + tensor
    total.name = '<L> & "loss"'
    picture = svg(total, local_grads=True, backward=True)
    assert set(names_in(picture, "tensor")) >= {*tricky, '<L> & "loss"'}
    assert "dL/dit's = dL/d<L> & \"loss\"\ndL/dit's: 1 × 1" in edge_texts(picture)
    assert "dL/dback\\slash = dL/dt4\ndL/dback\\slash: 1 × 1" in edge_texts(picture)


def test_a_graph_of_ten_thousand_nodes_is_summarised_quickly():
    x = tg.Tensor(np.ones((2, 2)), requires_grad=True, name="x")
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    start = time.perf_counter()
    picture = svg(y, max_nodes=200, backward=True)
    elapsed = time.perf_counter() - start
    assert elapsed < 60, f"took {elapsed:.1f} s"
    drawn_tensors, drawn_ops = len(boxes(picture, "tensor")), len(boxes(picture, "op"))
    assert drawn_tensors + drawn_ops <= 200
    (note,) = [" ".join(text_of(g)) for g in boxes(picture, "hidden")]
    hidden_tensors, hidden_ops, shown, limit = numbers(note.replace(",", ""))
    assert hidden_tensors + drawn_tensors == 20_001  # x, 10,000 products and 10,000 constants
    assert hidden_ops + drawn_ops == 10_000
    assert shown == limit == 200


def test_the_default_limit_keeps_a_long_chain_drawable():
    y = tg.Tensor(1.0, requires_grad=True, name="x")
    for _ in range(10_000):
        y = y + 1.0
    source = draw(y).source
    drawn = source.count('class="tensor ') + source.count("class=op")
    assert tg.viz.MAX_NODES - 2 <= drawn <= tg.viz.MAX_NODES  # full, but not past the limit


def test_a_small_graph_has_no_summary_note():
    assert boxes(svg(notebook_graph()["L"]), "hidden") == []


def test_tensor_draw_returns_a_picture_that_displays_in_jupyter():
    bundle = notebook_graph()["L"].draw(local_grads=True)._repr_mimebundle_()
    picture = parse_svg(bundle["image/svg+xml"])
    assert "MatMul" in names_in(picture, "op")


def test_draw_refuses_something_that_is_not_a_tensor():
    with pytest.raises(TypeError, match="expected a Tensor, not ndarray"):
        draw(np.ones(3))


def test_importing_tinygraph_does_not_import_graphviz():
    code = "import sys, tinygraph, tinygraph.viz; print('graphviz' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_without_the_graphviz_package_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(ImportError, match="pip install graphviz"):
        draw(notebook_graph()["L"])


def test_arrays_of_another_array_library_are_drawn_with_their_values():
    xp = pytest.importorskip("array_api_strict")
    W = tg.Tensor(xp.asarray([[1.0, 2.0], [3.0, 4.0]], dtype=xp.float64), requires_grad=True, name="W")
    L = (W**2).sum()
    L.name = "L"
    picture = svg(L, values=True, backward=True)
    assert [numbers(row) for row in box_text(picture, "W")[2:]] == [[1, 2], [3, 4]]
    (label,) = [text for text in edge_texts(picture) if text.startswith("dL/dW:")]
    assert [numbers(row) for row in label.split("\n")[1:]] == [[2, 4], [6, 8]]


def font_sizes(picture) -> set[float]:
    return {float(t.get("font-size")) for t in picture.iter(f"{SVG}text")}


def test_font_scale_multiplies_every_text_size():
    L = notebook_graph()["L"]
    plain, larger = svg(L, local_grads=True), svg(L, local_grads=True, font_scale=1.5)
    assert min(font_sizes(plain)) == 11  # 14.7 px at a browser's natural size
    assert sorted(font_sizes(larger)) == [int(1.5 * size + 0.5) for size in sorted(font_sizes(plain))]


@pytest.mark.parametrize("scale", [0, -1, float("nan"), float("inf")])
def test_a_font_scale_that_is_not_a_positive_number_is_refused(scale):
    with pytest.raises(ValueError, match="draw: font_scale must be a positive number"):
        draw(notebook_graph()["L"], font_scale=scale)


def test_tg_draw_is_tinygraph_viz_draw():
    assert tg.draw is tg.viz.draw
