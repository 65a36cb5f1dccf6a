"""The tutorial notebook, docs/tutorial.ipynb, runs from top to bottom as students will run it.

It is executed once (nbclient, a real Jupyter kernel, from the repository root) and
its outputs are read back. The .ipynb is committed without outputs and stays the
same notebook as its jupytext twin docs/tutorial.py.
"""

from __future__ import annotations

import time
from pathlib import Path

import jupytext
import nbclient
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK, TWIN = ROOT / "docs" / "tutorial.ipynb", ROOT / "docs" / "tutorial.py"
BUDGET_SECONDS = 120


@pytest.fixture(scope="module")
def executed():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=BUDGET_SECONDS, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    return notebook, time.perf_counter() - start


def outputs(notebook, kind: str) -> list:
    return [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs if kind in o.get("data", {})]


def printed(notebook) -> str:
    return "".join(o.text for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs
                   if o.output_type == "stream")  # fmt: skip


def test_the_committed_notebook_has_no_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.outputs == [] and cell.execution_count is None for cell in code)


def test_the_notebook_and_its_jupytext_twin_hold_the_same_cells():
    def cells(notebook):
        return [(cell.cell_type, cell.source) for cell in notebook.cells]

    assert cells(nbformat.read(NOTEBOOK, as_version=4)) == cells(jupytext.read(TWIN))


def test_the_notebook_runs_in_under_two_minutes(executed):
    _, seconds = executed
    assert seconds < BUDGET_SECONDS


def test_the_notebook_shows_the_graph_pictures_and_the_training_figures(executed):
    notebook, _ = executed
    shown = [o["data"]["text/html"] for o in outputs(notebook, "text/html")]
    # values, local gradients, backward, the notebook's convention, a path, LeakyReLU's: each fitted to the cell
    assert sum(html.startswith('<div class="tg-picture"') for html in shown) == 6
    assert sum(html.startswith('<div class="tg-stepthrough"') for html in shown) == 1  # the step-through, inline
    assert len(outputs(notebook, "image/png")) == 2  # the learning curve and the image grid


def test_the_deliberately_wrong_gradient_is_caught_at_its_entry(executed):
    notebook, _ = executed
    assert "gradcheck: input 0 of shape (1, 3), entry (0, 0): analytic gradient" in printed(notebook)


def test_the_one_entry_view_writes_dW1_as_a_sum_over_the_examples(executed):
    notebook, _ = executed
    assert "dL/dW1[0, 1] = sum_j dL/dW1X[0, j] · X[1, j]" in printed(notebook)
