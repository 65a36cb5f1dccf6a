"""`tinygraph graph` and the graph.svg of `tinygraph train`: what they draw, and how they do without Graphviz."""

from __future__ import annotations

import sys

import pytest
from test_viz_support import boxes, parse_svg, text_of

from models.cli import main

pytest.importorskip("graphviz")


def tensor_box(svg_path, name: str) -> list[str]:
    (box,) = [text_of(g) for g in boxes(parse_svg(svg_path.read_bytes()), "tensor") if text_of(g)[0] == name]
    return box


def test_graph_draws_the_four_views(tmp_path, capsys):
    assert main(["graph", "--out", str(tmp_path)]) == 0
    assert "forward.svg, local_grads.svg, backward.svg, step-through/step-through.html" in capsys.readouterr().out
    for view in ("forward", "local_grads", "backward"):
        assert tensor_box(tmp_path / f"{view}.svg", "Yhat")[1] == "1 × 4"
    page = (tmp_path / "step-through" / "step-through.html").read_text()
    assert page.count('<section class="tg-frame"') == 7


def test_graph_without_dot_says_how_to_render_in_one_line(tmp_path, capsys, no_dot):
    out = tmp_path / "pictures"
    assert main(["graph", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("tinygraph: error: ") and error.count("\n") == 1
    assert f"dot -Tsvg {out / 'forward.dot'}" in error and "apt install graphviz" in error
    assert (out / "forward.dot").is_file()


def test_graph_without_the_graphviz_package_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    assert main(["graph", "--out", str(tmp_path)]) == 2
    assert "pip install graphviz" in capsys.readouterr().err


def test_train_writes_the_trained_models_graph(tmp_path):
    assert main(["train", "--iterations", "3", "--hidden", "5", "--out", str(tmp_path)]) == 0
    W1 = tensor_box(tmp_path / "graph.svg", "W1")
    assert W1[:2] == ["W1", "5 × 2"] and len(W1) == 7 and all(row.startswith("[") for row in W1[2:])  # a 5 x 2 grid


def test_train_without_dot_keeps_the_run_and_says_why_there_is_no_graph(tmp_path, capsys, no_dot):
    out = tmp_path / "run"
    out.mkdir()
    (out / "graph.svg").write_text("an earlier run's graph")
    assert main(["train", "--iterations", "3", "--hidden", "5", "--out", str(out), "--overwrite"]) == 0
    assert "graph.svg not written: Graphviz's dot program was not found" in capsys.readouterr().err
    assert not (out / "graph.svg").exists()  # no stale picture of another model
    assert (out / "params.npz").is_file()
