"""render(): the format follows the suffix, files are whole or absent, and a missing `dot` is explained."""

from __future__ import annotations

import os
import stat
import sys

import pytest
from test_viz_support import SVG, boxes, edge_texts, notebook_graph, parse_svg, text_of

from tinygraph.viz import GraphvizNotFoundError, draw, render, step_through

graphviz = pytest.importorskip("graphviz")


@pytest.fixture
def picture():
    return draw(notebook_graph()["L"], local_grads=True)


def test_svg_is_valid_xml_with_the_graphs_boxes(picture, tmp_path):
    path = render(picture, tmp_path / "graph.svg")
    assert len(boxes(parse_svg(path.read_bytes()), "op")) == 7


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG\r\n\x1a\n"), (".pdf", b"%PDF-")])
def test_png_and_pdf_are_chosen_by_the_suffix(picture, tmp_path, suffix, magic):
    assert render(picture, tmp_path / f"graph{suffix}").read_bytes().startswith(magic)


@pytest.mark.parametrize("suffix", [".dot", ".gv"])
def test_dot_source_is_written_as_is(picture, tmp_path, suffix):
    assert render(picture, tmp_path / f"graph{suffix}").read_text() == picture.source


def test_the_suffix_is_case_insensitive(picture, tmp_path):
    assert render(picture, tmp_path / "graph.SVG").read_bytes().startswith(b"<?xml")


def test_an_unknown_suffix_is_refused_naming_the_path(picture, tmp_path):
    with pytest.raises(ValueError, match=r"graph\.jpg.*\.svg"):
        render(picture, tmp_path / "graph.jpg")
    assert list(tmp_path.iterdir()) == []


def test_missing_folders_are_created(picture, tmp_path):
    assert render(picture, tmp_path / "a" / "b" / "graph.svg").is_file()


def test_new_files_get_the_usual_permissions(picture, tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    mode = stat.S_IMODE(render(picture, tmp_path / "graph.svg").stat().st_mode)
    assert mode == 0o666 & ~umask


def test_a_failed_render_leaves_neither_a_file_nor_a_temporary(picture, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise graphviz.CalledProcessError(1, ["dot"])

    monkeypatch.setattr(type(picture), "pipe", broken)
    with pytest.raises(graphviz.CalledProcessError):
        render(picture, tmp_path / "graph.svg")
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_replaced_whole(picture, tmp_path):
    path = tmp_path / "graph.svg"
    path.write_text("old")
    render(picture, path)
    parse_svg(path.read_bytes())
    assert [p.name for p in tmp_path.iterdir()] == ["graph.svg"]


def test_without_any_graphviz_the_source_is_written_and_the_error_says_how_to_render_it(picture, tmp_path, no_graphviz):
    with pytest.raises(GraphvizNotFoundError) as error:
        render(picture, tmp_path / "graph.svg")
    message = str(error.value)
    assert f"dot -Tsvg {tmp_path / 'graph.dot'} -o {tmp_path / 'graph.svg'}" in message
    assert "apt install graphviz" in message and "pip install 'tinygraph[viz]'" in message
    assert (tmp_path / "graph.dot").read_text() == picture.source
    assert not (tmp_path / "graph.svg").exists()


def test_in_jupyter_a_picture_shows_itself_as_svg_and_as_html_fitted_to_the_cell(picture):
    assert set(picture._repr_mimebundle_()) == {"image/svg+xml", "text/html"}


def test_in_jupyter_without_any_graphviz_a_picture_says_how_to_install_it(picture, no_graphviz):
    message = picture._repr_mimebundle_()["text/plain"]
    assert "dot program was not found" in message and "apt install graphviz" in message


def test_without_any_graphviz_the_dot_source_still_renders(picture, tmp_path, no_graphviz):
    assert render(picture, tmp_path / "graph.dot").read_text() == picture.source


def test_without_any_graphviz_the_step_through_writes_its_frames_sources(tmp_path, no_graphviz):
    with pytest.raises(GraphvizNotFoundError, match="dot -Tsvg"):
        step_through(notebook_graph()["L"], tmp_path / "steps")
    frames = sorted(p.name for p in (tmp_path / "steps").iterdir())
    assert frames == [f"step-{k}.dot" for k in range(1, 8)]


def test_render_with_font_scale_draws_the_picture_again_with_larger_text(picture, tmp_path):
    normal = parse_svg(render(picture, tmp_path / "normal.svg").read_bytes())
    larger = parse_svg(render(picture, tmp_path / "larger.svg", font_scale=2).read_bytes())
    size = lambda root: min(float(t.get("font-size")) for t in root.iter(f"{SVG}text"))  # noqa: E731
    assert size(larger) == 2 * size(normal)


def test_without_dot_the_pip_packages_draw_svg_png_and_pdf(picture, tmp_path, no_dot):
    svg = parse_svg(render(picture, tmp_path / "graph.svg").read_bytes())
    assert len(boxes(svg, "op")) == 7 and "dL/dZ2 = dL/dYhat * dsigmoid(Z2) = dL/dYhat * Yhat (1 - Yhat)" in edge_texts(svg)
    assert render(picture, tmp_path / "graph.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert render(picture, tmp_path / "graph.pdf").read_bytes().startswith(b"%PDF-")


def test_without_dot_each_line_keeps_its_size_weight_and_colour(tmp_path, no_dot):
    t = notebook_graph()
    svg = parse_svg(render(draw(t["L"], backward=True), tmp_path / "graph.svg").read_bytes())
    (W1,) = [g for g in boxes(svg, "tensor") if text_of(g)[0] == "W1"]
    name, shape = W1.iter(f"{SVG}text")
    assert (name.get("font-weight"), float(name.get("font-size")), float(shape.get("font-size"))) == ("bold", 14, 11)
    assert {t.get("fill") for g in boxes(svg, "edge") for t in g.iter(f"{SVG}text")} == {"#dc2626"}


def test_without_dot_a_png_needs_resvg_and_the_error_names_it(picture, tmp_path, no_dot, monkeypatch):
    monkeypatch.setitem(sys.modules, "resvg_py", None)
    with pytest.raises(GraphvizNotFoundError, match="PNG needs the resvg-py package"):
        render(picture, tmp_path / "graph.png")
    assert render(picture, tmp_path / "graph.svg").is_file()  # the layout itself needs no rasteriser


@pytest.mark.parametrize("dot", ["present", "hidden"])
def test_in_jupyter_a_picture_takes_the_cells_width_down_to_its_readable_size(picture, dot, request):
    if dot == "hidden":
        request.getfixturevalue("no_dot")
    fitted = picture._repr_mimebundle_()["text/html"]
    (svg_tag,) = [line for line in fitted.split(">") if "<svg" in line]
    assert "width: 100%" in svg_tag and ' width="' not in svg_tag and ' height="' not in svg_tag
    assert "max-width: 100%" in fitted and "min-width: " in fitted and "overflow-x: auto" in fitted


def test_render_with_font_scale_refuses_a_graph_not_made_by_draw(tmp_path):
    with pytest.raises(ValueError, match="render: font_scale and rankdir need a picture made by draw"):
        render(graphviz.Digraph(), tmp_path / "graph.svg", font_scale=2)


def test_render_with_rankdir_lays_the_picture_out_again(picture, tmp_path):
    wide = parse_svg(render(picture, tmp_path / "wide.svg").read_bytes())
    tall = parse_svg(render(picture, tmp_path / "tall.svg", rankdir="TB").read_bytes())
    aspect = lambda root: float(root.get("viewBox").split()[2]) / float(root.get("viewBox").split()[3])  # noqa: E731
    assert aspect(wide) > 1 > aspect(tall)
