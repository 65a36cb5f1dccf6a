"""In the step-through page, in a real browser: the forward pass before the backward one, and a click on
a tensor showing its gradient's chain-rule expansion."""

from __future__ import annotations

import pytest
from playwright import sync_api
from test_viz_support import notebook_graph

from tinygraph.viz import step_through

pytest.importorskip("graphviz")

CHROMIUM = dict(
    executable_path="/usr/bin/chromium",
    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    t = notebook_graph()
    saved = step_through(t["L"], tmp_path_factory.mktemp("steps"), forward=True).page
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(**CHROMIUM)
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        tab.goto(saved.as_uri())
        yield tab
        browser.close()


def visible_caption(tab) -> str:
    return tab.locator(".tg-frame:not([hidden]) .tg-caption").inner_text()


def test_the_forward_pass_comes_first_and_the_backward_pass_follows(page):
    assert page.locator(".tg-counter").inner_text() == "Step 1 of 14"  # 7 operations, forward then backward
    assert visible_caption(page).startswith("MatMul -> t1 computes t1 = W1 X (matrix product) from")
    page.locator("[data-action=next]").click()
    assert visible_caption(page).startswith("Add -> Z1 computes Z1 = t1 + b1 from")
    page.keyboard.press("End")
    assert visible_caption(page).startswith("MatMul -> t1 receives dL/dt1")


def test_clicking_a_tensor_shows_its_chain_rule_expansion(page):
    panel = page.locator(".tg-explain")
    assert panel.is_hidden()
    page.locator('.tg-frame:not([hidden]) .tg-view [data-tensor="A1"]').click()
    assert panel.is_visible()
    text = page.locator(".tg-explanation:not([hidden])").inner_text()
    assert text.startswith("dL/dA1 = W2^T dL/dt2 (3 × 8: min ")
    assert "dL/dYhat = (Yhat - Y) / (8 Yhat (1 - Yhat))" in text and "dL/dL (scalar: 1)" in text
