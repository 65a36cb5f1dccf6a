"""`tinygraph graph` and the graph.svg of `tinygraph train`: what they draw, and how they do without Graphviz."""

from __future__ import annotations

import html
import re
import sys

import pytest
from test_viz_support import SVG, boxes, numbers, parse_svg, text_of

from tinygraph.models.cli import main

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


def test_graph_without_any_graphviz_says_how_to_render_in_one_line(tmp_path, capsys, no_graphviz):
    out = tmp_path / "pictures"
    assert main(["graph", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("tinygraph: error: ") and error.count("\n") == 1
    assert f"dot -Tsvg {out / 'forward.dot'}" in error and "apt install graphviz" in error
    sources = ["forward.dot", "local_grads.dot", "backward.dot", "step-through/step-1.dot"]
    assert all((out / source).is_file() for source in sources)  # every picture's, not the first's only


def test_graph_without_the_graphviz_package_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    assert main(["graph", "--out", str(tmp_path)]) == 2
    assert "pip install graphviz" in capsys.readouterr().err


def test_train_writes_the_trained_models_graph(tmp_path):
    assert main(["train", "--iterations", "3", "--hidden", "5", "--out", str(tmp_path)]) == 0
    W1 = tensor_box(tmp_path / "graph.svg", "W1")
    assert W1[:2] == ["W1", "5 × 2"] and len(W1) == 7 and all(row.startswith("[") for row in W1[2:])  # a 5 x 2 grid


def test_train_without_any_graphviz_keeps_the_run_and_says_why_there_is_no_graph(tmp_path, capsys, no_graphviz):
    out = tmp_path / "run"
    out.mkdir()
    (out / "graph.svg").write_text("an earlier run's graph")
    assert main(["train", "--iterations", "3", "--hidden", "5", "--out", str(out), "--overwrite"]) == 0
    assert "graph.svg not written: Graphviz's dot program was not found" in capsys.readouterr().err
    assert not (out / "graph.svg").exists()  # no stale picture of another model
    assert (out / "params.npz").is_file()


def test_graph_options_choose_format_layout_values_and_text_size(tmp_path):
    out = tmp_path / "png"
    options = ["--format", "png", "--rankdir", "TB", "--values", "--font-scale", "1.5"]
    assert main(["graph", "--out", str(out), *options]) == 0
    assert (out / "forward.png").read_bytes().startswith(b"\x89PNG")
    frame = parse_svg((out / "step-through" / "step-1.svg").read_bytes())
    assert min(float(t.get("font-size")) for t in frame.iter(f"{SVG}text")) == 17  # 11 x 1.5, in whole points
    width, height = map(float, frame.get("viewBox").split()[2:])
    assert height > width  # top to bottom: portrait


def test_graph_in_pdf_writes_the_step_through_as_16_to_9_slides_one_per_step(tmp_path):
    assert main(["graph", "--out", str(tmp_path), "--format", "pdf"]) == 0
    assert (tmp_path / "forward.pdf").read_bytes().startswith(b"%PDF-")
    slides = (tmp_path / "step-through" / "step-through.pdf").read_bytes()
    assert slides.startswith(b"%PDF-") and len(re.findall(rb"/Type /Page[^s]", slides)) == 7
    sizes = {tuple(map(float, box.split())) for box in re.findall(rb"/MediaBox \[ ([^]]*) \]", slides)}
    assert [w / h for _, _, w, h in sizes] == [pytest.approx(16 / 9, rel=1e-3)]


def test_graph_trained_shows_the_trained_weights(tmp_path):
    assert main(["graph", "--out", str(tmp_path / "a"), "--values"]) == 0
    assert main(["graph", "--out", str(tmp_path / "b"), "--values", "--trained", "200"]) == 0
    untrained, trained = (numbers(tensor_box(tmp_path / run / "forward.svg", "W1")[2]) for run in "ab")
    assert max(map(abs, untrained)) <= 0.01 < max(map(abs, trained))  # the notebook's start: +-0.01


def test_graph_refuses_training_a_cnn_naming_both_options(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["graph", "--out", str(tmp_path), "--conv", "2", "--trained", "5"])
    assert exit.value.code == 2 and "--trained" in capsys.readouterr().err
    assert not (tmp_path / "forward.svg").exists()


@pytest.mark.parametrize(("option", "value"), [("--font-scale", "0"), ("--trained", "-1"), ("--format", "gif")])
def test_graph_refuses_a_bad_option_with_exit_code_2(tmp_path, option, value):
    with pytest.raises(SystemExit) as exit:
        main(["graph", "--out", str(tmp_path), option, value])
    assert exit.value.code == 2


def test_graph_shows_the_notebooks_convention_and_steps_through_the_forward_pass_first(tmp_path):
    assert main(["graph", "--out", str(tmp_path), "--convention", "notebook", "--forward"]) == 0
    page = (tmp_path / "step-through" / "step-through.html").read_text()
    assert page.count('<section class="tg-frame"') == 7 + 7  # the forward pass's 7 nodes, then the backward's 7
    assert "Notebook's convention (n = 4): dX = 4 · dL/dX" in html.unescape(page)
    assert "Notebook's convention (n = 4)" in html.unescape((tmp_path / "backward.svg").read_text())
