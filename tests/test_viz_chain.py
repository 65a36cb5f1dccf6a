"""The chain rule, explored: a path's product of local gradients, an entry's sum, a tensor's expansion."""

from __future__ import annotations

import numpy as np
import pytest
from test_viz_support import SVG, boxes, notebook_graph, parse_svg, text_of

import tinygraph as tg
from tinygraph.viz.chain import PATH_COLOR, entry, expansion, path_view
from tinygraph.viz.render import image

pytest.importorskip("graphviz")


def gradients(t: dict[str, tg.Tensor]) -> dict[str, np.ndarray]:
    """dL/d(every named tensor) from backward(), on a fresh copy of the notebook's graph."""
    for name in ("W1X", "Z1", "A1", "Z2", "Yhat"):
        if name in t:
            t[name].retain_grad()
    t["L"].backward()
    return {name: tensor.grad for name, tensor in t.items() if tensor.grad is not None}


def lecture() -> dict[str, tg.Tensor]:
    t = notebook_graph()
    t["W1X"] = t["Z1"].node.inputs[0]
    t["W1X"].name = "W1X"
    return t


def test_a_path_view_titles_the_product_of_local_gradients_from_the_loss_down():
    t = lecture()
    picture = parse_svg(image(path_view(t["L"], "W1"), "svg"))
    title = next(picture.iter(f"{SVG}text")).text
    assert title == "dL/dW1 = dL/dYhat · dYhat/dZ2 · dZ2/dt1 · dt1/dA1 · dA1/dZ1 · dZ1/dW1X · dW1X/dW1"


def test_a_path_view_highlights_the_paths_edges_with_their_local_gradients():
    picture = parse_svg(image(path_view(lecture()["L"], "W1"), "svg"))
    highlighted = [g for g in boxes(picture, "edge") if any(p.get("stroke") == PATH_COLOR for p in g)]
    labels = {" ".join(text_of(g)) for g in highlighted} - {""}
    assert len(labels) == 7  # L <- Yhat <- Z2 <- t1 <- A1 <- Z1 <- W1X <- W1
    assert "dL/dW1 = dL/dW1X X^T" in labels and "dL/dZ1 = dL/dA1 * drelu(Z1)" in labels


def test_a_path_view_of_a_fan_out_says_which_path_and_that_the_gradient_sums_them():
    x = tg.Tensor(2.0, requires_grad=True, name="x")
    y = x * 3.0 + tg.exp(x)
    y.name = "y"
    titles = [next(parse_svg(image(path_view(y, x, which=k), "svg")).iter(f"{SVG}text")).text for k in (0, 1)]
    assert all("of 2: dL/dx is the sum over all of them" in title for title in titles)
    assert titles[0] != titles[1]


def test_a_path_view_refuses_a_path_number_that_does_not_exist():
    with pytest.raises(tg.TinygraphError, match=r"which=3, but there are 1 paths"):
        path_view(lecture()["L"], "W1", which=3)


def test_an_entry_of_dW1_is_the_sum_over_examples_of_dZ1_times_X():
    t = lecture()
    shown = entry(t["L"], "W1", (2, 1))
    grads = gradients(lecture())
    assert shown.formula == "sum_j dL/dW1X[2, j] · X[1, j]"
    X = t["X"].data
    assert [term.at for term in shown.terms] == [(2, j) for j in range(8)]
    np.testing.assert_allclose([term.upstream for term in shown.terms], grads["W1X"][2])
    np.testing.assert_allclose([term.factor for term in shown.terms], X[1])
    assert shown.value == pytest.approx(grads["W1"][2, 1], rel=1e-12)


def test_an_entry_of_a_broadcast_bias_is_the_row_sum_of_its_gradient():
    shown = entry(lecture()["L"], "b1", (0, 0))
    grads = gradients(lecture())
    assert shown.formula == "sum_j dL/dZ1[0, j]"
    assert shown.value == pytest.approx(grads["Z1"][0].sum(), rel=1e-12)
    assert str(shown).splitlines()[0] == "dL/db1[0, 0] = sum_j dL/dZ1[0, j]"


def test_an_entry_leaves_out_the_terms_the_relu_mask_zeroes():
    t = lecture()
    i, j = map(int, np.argwhere(t["Z1"].data <= 0)[0])
    assert entry(t["L"], "Z1", (i, j)).terms == []


def test_an_entry_outside_the_tensor_is_refused_by_name():
    with pytest.raises(tg.TinygraphError, match=r"index \(3, 0\) is not an entry of W1, of shape \(3, 4\)"):
        entry(lecture()["L"], "W1", (3, 0))


def test_an_expansion_sums_the_terms_of_every_consumer():
    x = tg.Tensor(0.5, requires_grad=True, name="x")
    y = x * x + 3.0 * x
    y.name = "y"
    shown = expansion(y, x)
    assert len(shown.terms) == 3  # x * x sends x twice, 3 x once
    assert sorted(float(c) for _, c, _ in shown.terms) == pytest.approx([0.5, 0.5, 3.0])
    assert float(shown.gradient) == pytest.approx(2 * 0.5 + 3.0)


def test_an_expansion_goes_down_to_the_loss_with_the_engines_numbers():
    grads = gradients(lecture())
    shown = expansion(lecture()["L"], "A1")
    chain = []
    while shown.terms:
        chain.append(shown.name)
        np.testing.assert_allclose(shown.gradient, grads.get(shown.name.removeprefix("dL/d"), shown.gradient))
        (shown,) = [upstream for _, _, upstream in shown.terms]
    assert chain + [shown.name] == ["dL/dA1", "dL/dt1", "dL/dZ2", "dL/dYhat", "dL/dL"]
    np.testing.assert_allclose(expansion(lecture()["L"], "A1").gradient, grads["A1"])


def test_an_expansion_in_the_notebook_convention_uses_the_notebooks_gradients():
    t = lecture()
    shown = expansion(t["L"], "Z2", convention="notebook")
    assert shown.name == "dZ2" and shown.formula() == "dYhat * dsigmoid(Z2) = dYhat * Yhat (1 - Yhat)"
    np.testing.assert_allclose(shown.gradient, t["Yhat"].data - t["Y"].data)


def test_an_expansion_shows_small_gradients_as_grids_and_large_ones_summarised_in_html():
    html = expansion(lecture()["L"], "b1")._repr_html_()
    assert html.startswith('<div class="tg-expansion"><b>dL/db1</b> = <code>(dL/dZ1) summed over its 8 columns</code>')
    assert '(3 × 1: <table class="grid"><tr><td>' in html and "(3 × 8: min " in html


def test_exploring_the_chain_rule_changes_no_gradient():
    t = lecture()
    entry(t["L"], "W1", (0, 0))
    expansion(t["L"], "W1")
    assert all(tensor.grad is None for tensor in t.values())
