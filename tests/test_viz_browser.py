"""The step-through and draw() as people see them: in headless Chromium, alone and inside an executed notebook."""

from __future__ import annotations

import html
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from test_viz_support import notebook_graph

from benchmarks.pictures import MEASURE, SIZES, chromium
from tinygraph.viz import step_through

pytest.importorskip("graphviz")
ROOT = Path(__file__).resolve().parent.parent

NOTEBOOK_CELLS = [
    "import sys; sys.path.insert(0, 'tests')\n"
    "import numpy as np\nimport tinygraph as tg\nfrom test_viz_support import notebook_graph\n"
    "t = notebook_graph()\n"
    "x = tg.Tensor(np.ones(2), requires_grad=True, name='x')\ny = tg.tanh(x).sum(); y.name = 'y'",
    "tg.viz.step_through(t['L'])",  # 7 steps
    "tg.viz.step_through(y)",  # 2 steps
    "tg.draw(t['L'], local_grads=True)",  # wider than the cell at readable size
    "tg.draw(y)",  # narrower than the cell
    "from IPython.display import HTML\nHTML(tg.viz.step_through(y).html())",  # a whole page pasted in
]


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def standalone(tmp_path_factory) -> Path:
    return step_through(notebook_graph()["L"], tmp_path_factory.mktemp("page")).page


@pytest.fixture(scope="module")
def notebook(tmp_path_factory) -> Path:
    """The notebook executed by a real kernel, its HTML outputs laid out as a notebook page shows them."""
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code) for code in NOTEBOOK_CELLS])
    NotebookClient(book, timeout=120, resources={"metadata": {"path": str(ROOT)}}).execute()
    cells = []
    for cell in book.cells:
        outputs = "".join(o["data"]["text/html"] for o in cell.outputs if "text/html" in o.get("data", {}))
        cells.append(f'<div class="cell"><textarea rows="2" cols="80">{html.escape(cell.source)}</textarea>'
                     f'<div class="output">{outputs}</div></div>')  # fmt: skip
    path = tmp_path_factory.mktemp("notebook") / "notebook.html"
    path.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"/><title>notebook</title>'
        "<style>body { margin: 0 auto; max-width: 1100px; font: 16px sans-serif; } "
        ".cell { margin: 16px; } textarea { font-size: 16px; }</style></head><body>"
        + "".join(cells) + "</body></html>"
    )  # fmt: skip
    return path


def open_page(browser, path: Path, size: str):
    """A page at the window size, recording console errors and every request beyond the file itself."""
    width, height = SIZES[size]
    page = browser.new_page(viewport={"width": width, "height": height}, reduced_motion="reduce")
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.on("request", lambda r: page.problems.append(r.url) if r.url != path.as_uri() else None)
    page.goto(path.as_uri())
    return page


def counters(page) -> list[str]:
    return page.locator(".tg-counter").all_inner_texts()


# Whether the shown frame's node and arrows lie inside its picture frame and inside the window.
ACTIVE_IN_VIEW = """root => {
  const frame = [...root.querySelectorAll(".tg-frame")].find(f => !f.hidden);
  const view = frame.querySelector(".tg-view").getBoundingClientRect();
  const left = Math.max(0, view.left), top = Math.max(0, view.top);
  const right = Math.min(innerWidth, view.right), bottom = Math.min(innerHeight, view.bottom);
  return frame.dataset.active.split(" ").every(key => {
    const r = frame.querySelector(`[data-key="${key}"]`).getBoundingClientRect();
    return r.left >= left - 1 && r.right <= right + 1 && r.top >= top - 1 && r.bottom <= bottom + 1;
  });
}"""


def active_in_view(page, root) -> bool:
    return root.evaluate(ACTIVE_IN_VIEW)


@pytest.mark.parametrize("size", list(SIZES))
def test_every_frame_has_text_of_14_px_or_more_no_sideways_scrolling_and_the_active_node_in_view(
    browser, standalone, size
):
    page = open_page(browser, standalone, size)
    root = page.locator(".tg-stepthrough")
    for k in range(7):
        figures = page.evaluate(MEASURE)
        assert figures["smallest"] >= 14, (k, figures)
        assert not figures["scrolls_sideways"]
        assert active_in_view(page, root), k
        page.keyboard.press("ArrowRight")
    assert counters(page) == ["Step 7 of 7"]
    assert page.problems == []


def test_a_narrowed_window_frames_the_picture_again(browser, standalone):
    page = open_page(browser, standalone, "1920x1080")  # step 1, the loss: at the right end of the picture
    page.set_viewport_size({"width": 1366, "height": 768})
    # Framed again once the width change is observed: waited for, and a failure if it never comes.
    page.wait_for_function(f"({ACTIVE_IN_VIEW})(document.querySelector('.tg-stepthrough'))", timeout=5000)
    figures = page.evaluate(MEASURE)
    assert figures["smallest"] >= 14 and not figures["scrolls_sideways"]


def test_buttons_and_arrow_keys_move_between_frames(browser, standalone):
    page = open_page(browser, standalone, "1920x1080")
    root = page.locator(".tg-stepthrough")
    root.locator("[data-action=next]").click()
    assert counters(page) == ["Step 2 of 7"]
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert counters(page) == ["Step 4 of 7"]
    page.keyboard.press("ArrowLeft")
    root.locator("[data-action=previous]").click()
    assert counters(page) == ["Step 2 of 7"]
    page.keyboard.press("End")
    assert counters(page) == ["Step 7 of 7"]
    assert page.locator(".tg-frame:not([hidden])").get_attribute("data-step") == "7"


@pytest.mark.parametrize("size", list(SIZES))
def test_a_notebook_shows_every_output_with_text_of_14_px_or_more_and_no_sideways_scrolling(browser, notebook, size):
    page = open_page(browser, notebook, size)
    for output in page.locator(".output").all():
        output.scroll_into_view_if_needed()
        figures = page.evaluate(MEASURE)
        assert figures["smallest"] >= 14, figures
        assert not figures["scrolls_sideways"]
    assert page.problems == []


def test_a_draw_picture_fits_the_cell_or_scrolls_in_its_own_frame(browser, notebook):
    page = open_page(browser, notebook, "1366x768")
    wide, narrow = page.locator(".tg-picture").all()
    cell = page.locator(".output").first.evaluate("e => e.clientWidth")
    sizes = wide.evaluate("e => [e.clientWidth, e.scrollWidth]")
    assert sizes[0] == cell and sizes[1] > cell  # at its readable size, scrolling inside its frame
    sizes = narrow.evaluate("e => [e.clientWidth, e.scrollWidth, e.querySelector('svg').getBoundingClientRect().width]")
    assert sizes[0] == sizes[1] and sizes[2] <= cell  # whole, within the cell


def test_step_throughs_in_a_notebook_keep_their_own_state(browser, notebook):
    page = open_page(browser, notebook, "1920x1080")
    first, second, pasted = page.locator(".tg-stepthrough").all()
    assert counters(page) == ["Step 1 of 7", "Step 1 of 2", "Step 1 of 2"]
    second.locator("[data-action=next]").click()
    assert counters(page) == ["Step 1 of 7", "Step 2 of 2", "Step 1 of 2"]
    first.click()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert counters(page) == ["Step 3 of 7", "Step 2 of 2", "Step 1 of 2"]
    assert first.locator(".tg-frame:not([hidden])").get_attribute("data-step") == "3"
    pasted.locator("[data-action=next]").click()
    assert counters(page) == ["Step 3 of 7", "Step 2 of 2", "Step 2 of 2"]


def test_a_whole_page_pasted_into_a_notebook_restyles_nothing_and_takes_no_focus(browser, notebook):
    page = open_page(browser, notebook, "1920x1080")
    assert page.evaluate("document.activeElement === document.body")
    assert page.evaluate("getComputedStyle(document.body).marginTop") == "0px"  # the notebook's own style


def test_keys_typed_into_a_notebook_cell_reach_the_cell_not_the_step_through(browser, notebook):
    page = open_page(browser, notebook, "1920x1080")
    page.locator(".tg-stepthrough").first.click()  # focused once, then the user goes back to a cell
    cell = page.locator("textarea").first
    cell.fill("")
    cell.click()
    page.keyboard.type(" a b")
    page.keyboard.press("ArrowLeft")
    page.keyboard.type("c")
    assert cell.input_value() == " a cb"
    assert counters(page) == ["Step 1 of 7", "Step 1 of 2", "Step 1 of 2"]
    assert page.problems == []
