"""How large the pictures' text is on screen: python -m benchmarks.pictures PAGE [PAGE ...] [--size 1920x1080].

Opens each page (HTML, or an SVG file) in headless Chromium (Debian's
/usr/bin/chromium, driven by playwright) at the given window size and, for
every frame of a step-through (or once for any other page), reports the
smallest text that is on screen, in CSS pixels, with the text itself; and
whether the page scrolls sideways. `--cells DIR` first writes DIR/cell-forward.html,
cell-local_grads.html and cell-backward.html: the notebook's classifier drawn by
draw() as Jupyter shows it, in a cell 1,100 pixels wide. The figures in
docs/pictures.md come from it; tests/test_viz_browser.py checks the same
measurement against the 14 px rule.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
SIZES = {"1920x1080": (1920, 1080), "1366x768": (1366, 768)}

# Every text on screen: SVG <text> (its font size times the scale it is drawn at) and
# HTML text (its computed font size), counted where it is visible: inside the window
# and inside any box that clips it (a step-through's picture frame, a scrolled cell).
MEASURE = """() => {
  const width = innerWidth, height = innerHeight;
  function clip(element) {
    let box = {left: 0, top: 0, right: width, bottom: height};
    for (let e = element.parentElement; e; e = e.parentElement) {
      const style = getComputedStyle(e);
      if (style.overflowX !== "visible" || style.overflowY !== "visible") {
        const r = e.getBoundingClientRect();
        box = {left: Math.max(box.left, r.left), top: Math.max(box.top, r.top),
               right: Math.min(box.right, r.right), bottom: Math.min(box.bottom, r.bottom)};
      }
    }
    return box;
  }
  function shown(r, box) {
    return r.width > 0 && r.height > 0 && r.right > box.left && r.left < box.right
        && r.bottom > box.top && r.top < box.bottom;
  }
  let smallest = Infinity, text = null, count = 0;
  function consider(px, r, element, what) {
    if (!shown(r, clip(element))) return;
    count += 1;
    if (px < smallest) { smallest = px; text = what; }
  }
  for (const t of document.querySelectorAll("svg text")) {
    if (!t.getClientRects().length || !t.textContent.trim()) continue;
    const size = parseFloat(t.getAttribute("font-size") || getComputedStyle(t).fontSize);
    consider(size * t.getScreenCTM().a, t.getBoundingClientRect(), t, t.textContent);
  }
  const walker = document.createTreeWalker(document.body || document.documentElement, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!node.textContent.trim() || parent.closest("svg, script, style, textarea")) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const size = parseFloat(getComputedStyle(parent).fontSize);
    consider(size, range.getBoundingClientRect(), parent, node.textContent.trim());
  }
  return {smallest: smallest, text: text, count: count,
          scrolls_sideways: document.documentElement.scrollWidth > innerWidth};
}"""


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Headless Chromium, the system's own: no browser is downloaded."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def measure_page(browser: Any, path: Path, size: tuple[int, int]) -> list[dict[str, Any]]:
    """The measurement of every frame of the first step-through on the page (or of the page once)."""
    page = browser.new_page(viewport={"width": size[0], "height": size[1]}, reduced_motion="reduce")
    try:
        page.goto(path.resolve().as_uri())
        # The first step-through's frames and next button; "section.frame" and "#next" are the
        # page tinygraph wrote before docs/pictures.md's changes, measured for comparison.
        frames = page.locator(".tg-stepthrough").first.locator(".tg-frame").count()
        frames = frames or page.locator("section.frame").count()
        next_button = page.locator(".tg-stepthrough [data-action=next], #next").first
        results = []
        for k in range(max(frames, 1)):
            results.append(page.evaluate(MEASURE))
            if k + 1 < frames:
                next_button.click()
        return results
    finally:
        page.close()


CELL = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"/><title>{title}</title>'
    "<style>body {{ margin: 0 auto; max-width: 1100px; }}</style></head><body>{output}</body></html>"
)


def write_cells(out_dir: Path) -> list[Path]:
    """The classifier's three draw() views, each as Jupyter shows it (its text/html), in a 1,100 px cell."""
    from tinygraph.models.graph_views import tiny_example
    from tinygraph.viz import draw

    loss, layers = tiny_example()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for view, options in {"forward": {}, "local_grads": {"local_grads": True}, "backward": {"backward": True}}.items():
        output = draw(loss, clusters=layers, **options)._repr_mimebundle_()["text/html"]
        written.append(out_dir / f"cell-{view}.html")
        written[-1].write_text(CELL.format(title=view, output=output))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="*", type=Path, metavar="PAGE")
    parser.add_argument("--size", choices=SIZES, default="1920x1080")
    parser.add_argument("--cells", type=Path, metavar="DIR", help="write and measure draw()'s three views as cells")
    args = parser.parse_args(argv)
    pages = args.pages + (write_cells(args.cells) if args.cells else [])
    with chromium() as browser:
        for path in pages:
            results = measure_page(browser, path, SIZES[args.size])
            smallest = min(results, key=lambda r: r["smallest"])
            print(f"{path}: {len(results)} view(s) at {args.size}; smallest text on screen "
                  f"{smallest['smallest']:.1f} px ({smallest['text']!r}); "
                  f"scrolls sideways: {any(r['scrolls_sideways'] for r in results)}")  # fmt: skip
            for k, r in enumerate(results, start=1):
                print(f"  view {k}: {r['smallest']:.1f} px ({r['text']!r}), {r['count']} texts on screen")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
