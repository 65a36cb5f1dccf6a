"""The step-through as PDF slides: one 16:9 page per step, its caption above the part of the picture at work.

Like the page's camera, each slide shows the picture at a size where its
smallest text stays readable when the slide fills a 1920-pixel projector,
centred on the node applying its local gradients and the arrows it reads and
writes. The pictures are rasterised by resvg-py (part of tinygraph[viz]).
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from tinygraph.viz.engines import SVG_NS, XLINK_NS, png, raster_pdf
from tinygraph.viz.page import MIN_TEXT_PX, Frame

SLIDE = (13.333, 7.5)  # inches: PowerPoint's and Keynote's 16:9
PROJECTOR_PX = 1920  # the slide's width on screen
PICTURE_HEIGHT = 0.7  # of the slide; the caption has the rest
DPI = 144.0  # a 13.3-inch slide shown 1920 pixels wide: one image pixel per screen pixel

Box = tuple[float, float, float, float]  # left, top, right, bottom in the SVG's user units (points)


def slides_pdf(frames: Sequence[Frame]) -> bytes:
    """A PDF of one slide per frame: the step's caption, and the picture around the step's node."""
    crops = [crop(frame.svg, frame.active) for frame in frames]
    images = [png(svg.encode(), DPI) for svg in crops]

    def caption(figure: Any, k: int) -> list[float]:
        words = plain_text(frames[k].caption)
        heading = f"Step {k + 1} of {len(frames)}: {frames[k].op} (which computed {frames[k].tensor})"
        figure.text(0.03, 0.96, heading, fontsize=22, weight="bold", va="top")
        figure.text(0.03, 0.89, words, fontsize=15, va="top", wrap=True)
        return [0.02, 0.02, 0.96, PICTURE_HEIGHT]

    return raster_pdf(images, [SLIDE] * len(frames), DPI, caption)


def plain_text(caption: str) -> str:
    """A caption's HTML as lines of text: one per paragraph or list item."""
    text = re.sub(r"<li>", "\n  • ", caption)
    text = re.sub(r"</p>", "\n", text)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def crop(svg: str, keys: Sequence[str]) -> str:
    """`svg` cut down to a 16:9-ish window around the elements `keys`, at a readable size."""
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    root = ET.fromstring(svg)
    x0, y0, width, height = (float(v) for v in root.get("viewBox", "0 0 100 100").split())
    smallest = min((float(t.get("font-size", 14)) for t in root.iter(f"{{{SVG_NS}}}text")), default=14.0)
    # The widest window whose smallest text is MIN_TEXT_PX when the slide is PROJECTOR_PX wide.
    window_w = min(width, PROJECTOR_PX * 0.96 * smallest / MIN_TEXT_PX)
    window_h = min(height, window_w * (SLIDE[1] * PICTURE_HEIGHT) / (SLIDE[0] * 0.96))
    area = region(root, keys)
    if area is None:
        area = (x0, y0, x0 + width, y0 + height)
    left = clamp((area[0] + area[2] - window_w) / 2, x0, x0 + width - window_w)
    top = clamp((area[1] + area[3] - window_h) / 2, y0, y0 + height - window_h)
    root.set("viewBox", f"{left:.2f} {top:.2f} {window_w:.2f} {window_h:.2f}")
    root.set("width", f"{window_w:.2f}pt")
    root.set("height", f"{window_h:.2f}pt")
    return ET.tostring(root, encoding="unicode")


def clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def region(root: ET.Element, keys: Sequence[str]) -> Box | None:
    """The box around the elements whose id or data-key is in `keys`, in the SVG's user units."""
    offset_x = offset_y = 0.0
    graph = root.find(f"{{{SVG_NS}}}g")
    if graph is not None:
        found = re.search(r"translate\(([-\d.]+)[ ,]+([-\d.]+)\)", graph.get("transform", ""))
        if found:
            offset_x, offset_y = float(found[1]), float(found[2])
    xs: list[float] = []
    ys: list[float] = []
    wanted = set(keys)
    for group in root.iter(f"{{{SVG_NS}}}g"):
        if (group.get("id") or group.get("data-key")) not in wanted:
            continue
        for element in group.iter():
            for x, y in points_of(element):
                xs.append(x + offset_x)
                ys.append(y + offset_y)
    return (min(xs), min(ys), max(xs), max(ys)) if xs else None


def points_of(element: ET.Element) -> list[tuple[float, float]]:
    """Points that bound an SVG shape or text (text: its width estimated from its length)."""
    tag = element.tag.removeprefix(f"{{{SVG_NS}}}")
    if tag in ("polygon", "polyline"):
        numbers = [float(v) for v in re.findall(r"-?[\d.]+", element.get("points", ""))]
    elif tag == "path":
        numbers = [float(v) for v in re.findall(r"-?[\d.]+", element.get("d", ""))]
    elif tag == "ellipse":
        cx, cy = float(element.get("cx", 0)), float(element.get("cy", 0))
        rx, ry = float(element.get("rx", 0)), float(element.get("ry", 0))
        numbers = [cx - rx, cy - ry, cx + rx, cy + ry]
    elif tag == "text":
        x, y, size = float(element.get("x", 0)), float(element.get("y", 0)), float(element.get("font-size", 14))
        half = 0.3 * size * len(element.text or "")
        numbers = [x - half, y - size, x + half, y]
    else:
        return []
    return list(zip(numbers[::2], numbers[1::2]))
