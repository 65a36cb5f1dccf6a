"""The step-through as HTML: a standalone page, or a fragment that lives inside a Jupyter notebook.

Everything is scoped to one element, `<div class="tg-stepthrough">`: its style
rules start with that class, its script finds its parts inside it, it reacts
to keys only while it has focus, and nothing in it has an `id`. So any number
of step-throughs share a page (a notebook with several outputs) without
seeing each other, and keys typed into a notebook's cells are never taken.

Inside it each frame is a `<section class="tg-frame">` with a caption
(`.tg-caption`) and the picture (`.tg-view`, an SVG whose boxes and arrows
carry `data-key`, and a tensor's box `data-tensor`, its name). The section's
`data-active` lists the keys of the node at work and of the arrows it reads
and writes; the camera keeps them on screen (see SCRIPT).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Text on screen is never smaller than this (CSS px): readable from the back of a lecture room.
MIN_TEXT_PX = 14.5


@dataclass(frozen=True)
class Frame:
    """One step: the picture (SVG), what happens in words (HTML), and what the camera follows."""

    svg: str
    caption: str
    op: str  # the operation applying its local gradients, e.g. Sigmoid
    tensor: str  # the tensor it computed, e.g. Yhat
    active: tuple[str, ...]  # scene keys of that operation and the arrows it reads and writes


def inline_svg(svg: str, tensor_names: Mapping[str, str]) -> str:
    """Graphviz's SVG made fit to sit inside a page beside others: no prolog, no ids.

    Each `id` (Graphviz sets it to the scene key, t3 or e3.0) becomes `data-key`,
    and a tensor's box also gets `data-tensor`, so that scripts find boxes by
    what they show while two pictures on one page never clash.
    """

    def key(match: re.Match[str]) -> str:
        value = match[1]
        name = tensor_names.get(html.unescape(value))
        extra = f' data-tensor="{html.escape(name)}"' if name is not None else ""
        return f' data-key="{value}"{extra}'

    return re.sub(r' id="([^"]*)"', key, svg[svg.index("<svg") :])


def fitted(svg: str) -> str:
    """A picture for a notebook cell or page: as wide as its container allows, up to its natural size.

    It shrinks only while its smallest text stays MIN_TEXT_PX or larger; past
    that it keeps that width and its frame scrolls sideways.
    """
    box = [float(v) for v in re.search(r'viewBox="([^"]+)"', svg)[1].split()]
    smallest = min((float(v) for v in re.findall(r'font-size="([\d.]+)"', svg)), default=14.0)
    natural, least = box[2] * 4 / 3, box[2] * MIN_TEXT_PX / smallest
    inner = inline_svg(svg, {})
    start = re.search(r"<svg\b[^>]*>", inner)
    # Its own width and height (in points) go: the box around it decides, the viewBox keeps the shape.
    tag = re.sub(r'\s(width|height)="[^"]*"', "", start[0])
    tag = tag.replace("<svg", '<svg style="display: block; width: 100%; height: auto"', 1)
    inner = inner[: start.start()] + tag + inner[start.end() :]
    return (
        '<div class="tg-picture" style="max-width: 100%; overflow-x: auto">'
        f'<div style="width: {natural:.0f}px; max-width: 100%; min-width: {least:.0f}px">{inner}</div></div>'
    )


STYLE = """
.tg-stepthrough { font-family: Helvetica, Arial, sans-serif; color: #0f172a; background: #ffffff;
  max-width: 100%; box-sizing: border-box; padding: 4px; border-radius: 6px; outline: none; }
.tg-stepthrough:focus, .tg-stepthrough:focus-within { box-shadow: 0 0 0 3px #93c5fd; }
.tg-stepthrough .tg-bar { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; padding: 4px 0; }
.tg-stepthrough button { font-size: 16px; padding: 4px 14px; cursor: pointer; }
.tg-stepthrough .tg-counter { font-size: 16px; font-weight: bold; min-width: 8em; }
.tg-stepthrough .tg-hint { color: #475569; font-size: 15px; }
.tg-stepthrough .tg-frame[hidden] { display: none; }
.tg-stepthrough .tg-caption { font-size: 17px; line-height: 1.45; min-height: 6.2em; overflow-wrap: anywhere; }
.tg-stepthrough .tg-caption p, .tg-stepthrough .tg-caption ul { margin: 4px 0; }
.tg-stepthrough .received { color: #2563eb; font-weight: bold; }
.tg-stepthrough .produced { color: #dc2626; font-weight: bold; }
.tg-stepthrough .completed { color: #15803d; font-weight: bold; }
.tg-stepthrough .tg-view { overflow: hidden; border: 1px solid #e2e8f0; border-radius: 4px; cursor: grab;
  touch-action: none; }
.tg-stepthrough .tg-view svg, .tg-stepthrough .tg-overview svg { display: block; max-width: none; }
.tg-stepthrough .tg-overview { position: relative; display: inline-block; margin-top: 6px;
  border: 1px solid #cbd5e1; cursor: pointer; }
.tg-stepthrough .tg-overview[hidden] { display: none; }
.tg-stepthrough table.grid { display: inline-table; border-collapse: collapse; vertical-align: middle;
  font-family: monospace; }
.tg-stepthrough table.grid td { border: 1px solid #cbd5e1; padding: 0 6px; text-align: right; }
.tg-stepthrough .convention { color: #7c2d12; }
.tg-stepthrough [data-tensor] { cursor: pointer; }
.tg-stepthrough .tg-explain { font-size: 16px; line-height: 1.45; border-top: 2px solid #7c3aed; margin-top: 8px;
  padding-top: 4px; }
.tg-stepthrough .tg-explain[hidden], .tg-stepthrough .tg-explanation[hidden] { display: none; }
.tg-stepthrough .tg-lens { position: absolute; border: 2px solid #ea580c; background: rgba(234, 88, 12, 0.08);
  pointer-events: none; box-sizing: border-box; }
"""

# Kept free of < and & so that the page stays well-formed XML as well as HTML. Each run of
# this script sets up every step-through on the page not yet set up: in JupyterLab, classic
# Notebook and a plain page alike, whatever order their outputs' scripts run in.
SCRIPT = """
(function () {
  var MIN_TEXT_PX = %(min_text_px)s;
  var MAX_ZOOM = 2;  // CSS px per SVG point: a small graph is enlarged up to 1.5 times
  var reduced = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  function each(list, f) { Array.prototype.forEach.call(list, f); }

  function setUp(root) {
    root.setAttribute("data-tg-ready", "");
    var frames = root.querySelectorAll(".tg-frame");
    var counter = root.querySelector(".tg-counter");
    var overview = root.querySelector(".tg-overview");
    var lens = overview.querySelector(".tg-lens");
    var current = 0, scale = 1, thumb = 1;
    // The standalone page, as opposed to the same page pasted into a notebook's output.
    var ownPage = root.hasAttribute("data-fill-window") ? root.parentElement === document.body : false;

    function smallestText(svg) {
      var smallest = Infinity;
      each(svg.querySelectorAll("text"), function (t) {
        smallest = Math.min(smallest, parseFloat(t.getAttribute("font-size")) || 14);
      });
      return smallest === Infinity ? 14 : smallest;
    }
    function region(frame, svg, keys) {
      var origin = svg.getBoundingClientRect(), box = null;
      keys.forEach(function (key) {
        var element = svg.querySelector('[data-key="' + key + '"]');
        if (!element) { return; }
        var r = element.getBoundingClientRect();
        var here = [r.left - origin.left, r.top - origin.top, r.right - origin.left, r.bottom - origin.top];
        box = box ? [Math.min(box[0], here[0]), Math.min(box[1], here[1]),
                     Math.max(box[2], here[2]), Math.max(box[3], here[3])] : here;
      });
      return box;
    }
    function aim(from, to, room, total) {
      return Math.max(0, Math.min(total - room, (from + to - room) / 2));
    }
    // The camera: the picture at a scale where its smallest text is MIN_TEXT_PX or more, as
    // wide as the cell or window when that allows, panned so that the active node and its
    // arrows are in view; an overview without text shows where that is in the whole.
    function frameUp(frame, smooth) {
      var view = frame.querySelector(".tg-view"), svg = view.querySelector("svg");
      var box = svg.viewBox.baseVal;
      scale = Math.max(MIN_TEXT_PX / smallestText(svg), Math.min(view.clientWidth / box.width, MAX_ZOOM));
      var width = box.width * scale, height = box.height * scale;
      svg.style.width = width + "px";
      svg.style.height = height + "px";
      // As tall as the window allows below the buttons and caption (and the overview, if any);
      // on its own page also below the heading, in a notebook at most 70%% of the window.
      var above = view.getBoundingClientRect().top - root.getBoundingClientRect().top;
      var room = window.innerHeight - above - (width > view.clientWidth ? 130 : 16);
      if (ownPage) {
        room -= root.getBoundingClientRect().top + window.scrollY;
      } else {
        room = Math.min(room, window.innerHeight * 0.7);
      }
      view.style.height = Math.min(height, Math.max(room, 180)) + "px";
      var keys = (frame.getAttribute("data-active") || "").split(" ").filter(Boolean);
      var target = region(frame, svg, keys);
      if (target) {
        if (target[2] - target[0] > view.clientWidth || target[3] - target[1] > view.clientHeight) {
          target = region(frame, svg, keys.slice(0, 1)) || target;  // too large: the node itself
        }
        view.scrollTo({left: aim(target[0], target[2], view.clientWidth, width),
                       top: aim(target[1], target[3], view.clientHeight, height),
                       behavior: smooth ? "smooth" : "auto"});
      }
      drawOverview(view, svg, box, width, height);
    }
    function drawOverview(view, svg, box, width, height) {
      var whole = !(width - view.clientWidth > 1 || height - view.clientHeight > 1);
      overview.hidden = whole;
      if (whole) { return; }
      var old = overview.querySelector("svg");
      if (old) { old.remove(); }
      var copy = svg.cloneNode(true);
      each(copy.querySelectorAll("text, title"), function (t) { t.remove(); });
      thumb = Math.min(view.clientWidth / box.width, 90 / box.height);
      copy.style.width = box.width * thumb + "px";
      copy.style.height = box.height * thumb + "px";
      overview.insertBefore(copy, lens);
      placeLens(view);
    }
    function placeLens(view) {
      var k = thumb / scale;
      lens.style.left = view.scrollLeft * k + "px";
      lens.style.top = view.scrollTop * k + "px";
      lens.style.width = view.clientWidth * k + "px";
      lens.style.height = view.clientHeight * k + "px";
    }
    function show(k, smooth) {
      current = Math.max(0, Math.min(frames.length - 1, k));
      each(frames, function (frame, i) { frame.hidden = i !== current; });
      counter.textContent = "Step " + (current + 1) + " of " + frames.length;
      frameUp(frames[current], smooth ? !reduced : false);
      root.dispatchEvent(new CustomEvent("tg-step", {detail: {step: current}}));
    }

    root.querySelector("[data-action=previous]").addEventListener("click", function () { show(current - 1, true); });
    root.querySelector("[data-action=next]").addEventListener("click", function () { show(current + 1, true); });
    root.addEventListener("keydown", function (event) {
      var onButton = event.target.tagName === "BUTTON";
      if (event.target !== root) { if (!onButton) { return; } }  // a text field inside: its own keys
      if (event.altKey || event.ctrlKey || event.metaKey) { return; }  // the browser's shortcuts
      var key = event.key, step = null;
      if (key === "ArrowRight" || key === "PageDown") { step = current + 1; }
      if (key === "ArrowLeft" || key === "PageUp") { step = current - 1; }
      if (key === " ") { step = onButton ? null : current + 1; }  // a focused button clicks itself
      if (key === "Home") { step = 0; }
      if (key === "End") { step = frames.length - 1; }
      if (step !== null) {  // taken: neither the page nor the notebook around it acts on it too
        show(step, true);
        event.preventDefault();
        event.stopPropagation();
      }
    });
    each(root.querySelectorAll(".tg-view"), function (view) {
      var drag = null;
      view.addEventListener("pointerdown", function (event) {
        drag = [event.clientX + view.scrollLeft, event.clientY + view.scrollTop];
        root.focus({preventScroll: true});
      });
      view.addEventListener("pointermove", function (event) {
        if (drag) { view.scrollTo(drag[0] - event.clientX, drag[1] - event.clientY); }
      });
      view.addEventListener("pointerup", function () { drag = null; });
      view.addEventListener("pointerleave", function () { drag = null; });
      view.addEventListener("scroll", function () { placeLens(view); });
    });
    overview.addEventListener("click", function (event) {
      var view = frames[current].querySelector(".tg-view"), r = overview.getBoundingClientRect();
      var k = scale / thumb;
      view.scrollTo((event.clientX - r.left) * k - view.clientWidth / 2,
                    (event.clientY - r.top) * k - view.clientHeight / 2);
    });
    // A click on a tensor's box shows its gradient's chain-rule expansion below the picture.
    var explain = root.querySelector(".tg-explain");
    root.addEventListener("click", function (event) {
      var box = event.target.closest ? event.target.closest(".tg-view [data-tensor]") : null;
      if (!box || !explain) { return; }
      var key = box.getAttribute("data-key"), found = false;
      each(explain.querySelectorAll(".tg-explanation"), function (e) {
        e.hidden = e.getAttribute("data-key") !== key;
        found = found || !e.hidden;
      });
      explain.hidden = !found;
    });
    // Framed again when its width changes: a resized window, a notebook's side panel opened.
    var width = -1;
    function resized() {
      if (root.clientWidth !== width) { width = root.clientWidth; frameUp(frames[current], false); }
    }
    if (window.ResizeObserver) { new ResizeObserver(resized).observe(root); }
    else { window.addEventListener("resize", resized); }
    show(0, false);
    // A page of its own takes the keys at once; pasted into a notebook, it takes no focus from a cell.
    if (ownPage) { root.focus({preventScroll: true}); }
  }
  each(document.querySelectorAll(".tg-stepthrough:not([data-tg-ready])"), setUp);
})();
"""


def fragment(
    title: str,
    frames: Sequence[Frame],
    tensor_names: Mapping[str, str],
    fill_window: bool = False,
    explanations: Mapping[str, str] | None = None,
) -> str:
    """The step-through as one self-contained element (style and script included) for any page.

    `explanations` maps a tensor box's key to HTML shown when the box is clicked.
    """
    sections = []
    for k, frame in enumerate(frames):
        hidden = ' hidden="hidden"' if k else ""
        sections.append(
            f'<section class="tg-frame" data-step="{k + 1}" data-op="{html.escape(frame.op)}" '
            f'data-tensor="{html.escape(frame.tensor)}" data-active="{" ".join(frame.active)}"{hidden}>\n'
            f'<div class="tg-caption">{frame.caption}</div>\n'
            f'<div class="tg-view">{inline_svg(frame.svg, tensor_names)}</div>\n</section>'
        )
    fill = " data-fill-window=\"\"" if fill_window else ""
    script = SCRIPT % {"min_text_px": MIN_TEXT_PX}
    return (
        f'<div class="tg-stepthrough" tabindex="0" role="group" aria-label="{html.escape(title)}"{fill}>\n'
        f"<style>{STYLE}</style>\n"
        '<div class="tg-bar"><button type="button" data-action="previous">&#9664; Previous</button> '
        '<span class="tg-counter" aria-live="polite"></span> '
        '<button type="button" data-action="next">Next &#9654;</button> '
        '<span class="tg-hint">click the picture, then &#8592; &#8594; (or Space); drag to look around; '
        "click a tensor for its chain rule</span></div>\n"
        + "\n".join(sections)
        + '\n<div class="tg-overview" title="the whole graph: click to look there"><div class="tg-lens"></div></div>\n'
        + explanation_panel(explanations or {})
        + f"<script>//<![CDATA[{script}//]]></script>\n</div>"
    )


def explanation_panel(explanations: Mapping[str, str]) -> str:
    """The hidden panel that a click on a tensor fills with its explanation."""
    if not explanations:
        return ""
    items = "".join(
        f'<div class="tg-explanation" data-key="{html.escape(key)}" hidden="hidden">{text}</div>'
        for key, text in explanations.items()
    )
    return f'<div class="tg-explain" hidden="hidden">{items}</div>\n'


def document(
    title: str, frames: Sequence[Frame], tensor_names: Mapping[str, str], explanations: Mapping[str, str] | None = None
) -> str:
    """A standalone page: the step-through filling the window, focused so that the keys work at once.

    Its only style rule outside the step-through names its own heading's class, so
    that the page pasted into a notebook (HTML(path.read_text())) restyles nothing there.
    """
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8"/>\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>\n'
        f"<title>{html.escape(title)}</title>\n"
        "<style>.tg-title { font: bold 22px Helvetica, Arial, sans-serif; margin: 4px 0; }</style>\n"
        f'</head>\n<body>\n<h1 class="tg-title">{html.escape(title)}</h1>\n'
        + fragment(title, frames, tensor_names, fill_window=True, explanations=explanations)
        + "\n</body>\n</html>\n"
    )
