"""tinygraph.models.graph_views: the notebook's classifier drawn in the lecture's four views."""

from __future__ import annotations

import numpy as np
import pytest
from test_viz_support import boxes, edge_texts, numbers, parse_svg, text_of

import tinygraph as tg
from tinygraph.models.classifier import Classifier
from tinygraph.models.graph_views import tiny_example, trained_graph_svg, write_graph_views

pytest.importorskip("graphviz")
NOTEBOOK_NAMES = {"X", "Y", "W1", "b1", "Z1", "A1", "W2", "b2", "Z2", "Yhat", "L"}
LAYERS = {
    "hidden layer 1 (relu)": {"W1", "b1", "W1X", "Z1", "A1"},
    "output layer (sigmoid)": {"W2", "b2", "W2A1", "Z2", "Yhat"},
}


@pytest.fixture(scope="module")
def views(tmp_path_factory):
    out = tmp_path_factory.mktemp("graph")
    return out, write_graph_views(out)


def svg_of(path):
    return parse_svg(path.read_bytes())


def tensor_names(svg) -> set[str]:
    return {text_of(g)[0] for g in boxes(svg, "tensor")}


def test_the_four_views_are_written(views):
    out, written = views
    assert [p.relative_to(out).as_posix() for p in written] == [
        "forward.svg", "local_grads.svg", "backward.svg", "step-through/step-through.html"
    ]  # fmt: skip
    assert len(list((out / "step-through").glob("step-*.svg"))) == 7


@pytest.mark.parametrize("view", ["forward", "local_grads", "backward"])
def test_every_view_shows_the_notebooks_tensors(views, view):
    out, _ = views
    assert tensor_names(svg_of(out / f"{view}.svg")) == NOTEBOOK_NAMES | {"W1X", "W2A1"}


def test_the_layers_are_framed(views):
    out, _ = views
    assert {text_of(g)[0] for g in boxes(svg_of(out / "forward.svg"), "cluster")} == set(LAYERS)


def test_each_layer_holds_its_named_tensors_and_its_product():
    loss, layer_of = tiny_example()
    members = {layer: set() for layer in LAYERS}
    for tensor in tg.topological_order(loss):
        if layer_of(tensor) is not None:
            members[layer_of(tensor)].add(tensor.name)
    assert members == LAYERS


def test_the_local_gradient_view_has_the_lectures_formulas(views):
    out, _ = views
    labels = edge_texts(svg_of(out / "local_grads.svg"))
    assert "dL/dZ2 = dL/dYhat * dsigmoid(Z2) = dL/dYhat * Yhat (1 - Yhat)" in labels
    assert "dL/dZ1 = dL/dA1 * drelu(Z1)" in labels


def test_the_backward_view_carries_the_parameters_gradients(views):
    out, _ = views
    labels = edge_texts(svg_of(out / "backward.svg"))
    assert {"dL/dW1: 3 × 2", "dL/db1: 3 × 1", "dL/dW2: 1 × 3", "dL/db2: 1 × 1"} <= set(labels)


def test_the_trained_graph_summarises_the_trained_parameters():
    model = Classifier(2, 5, seed=3)
    X, Y = np.random.default_rng(0).normal(size=(2, 30)), np.ones((1, 30))
    svg = parse_svg(trained_graph_svg(model, X, Y))
    (W1,) = [text_of(g) for g in boxes(svg, "tensor") if text_of(g)[0] == "W1"]
    W = model.W1.numpy()
    assert W1[1] == "5 × 2"
    np.testing.assert_allclose([numbers(row) for row in W1[2:]], W, rtol=5e-3)
    (X_box,) = [text_of(g) for g in boxes(svg, "tensor") if text_of(g)[0] == "X"]
    assert X_box[1] == "2 × 4"  # the first few examples only
