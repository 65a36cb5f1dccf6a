"""Writing pictures to files: SVG, PNG, PDF or DOT source, chosen by the file's suffix."""

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
    "conda: conda install graphviz; Windows: https://graphviz.org/download)"
)


class GraphvizNotFoundError(TinygraphError, RuntimeError):
    """Graphviz's `dot` program, which lays out and renders pictures, is not installed."""


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
    """graphviz.Digraph, except that in Jupyter without dot a picture shows how to install it, not an error."""
    return _picture_class(require_graphviz())


@functools.cache  # one class per graphviz module
def _picture_class(graphviz: ModuleType) -> type[graphviz.Digraph]:
    class Picture(graphviz.Digraph):
        def _repr_mimebundle_(self, include=None, exclude=None, **options):  # type: ignore[no-untyped-def]
            try:
                return super()._repr_mimebundle_(include, exclude, **options)
            except graphviz.ExecutableNotFound:
                return {"text/plain": f"This picture needs Graphviz's dot program: {INSTALL_DOT}. "
                                      "Its DOT source is in .source."}  # fmt: skip

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
    """`graph` rendered by Graphviz's dot program as `format` ('svg', 'png', 'pdf')."""
    graphviz = require_graphviz()
    try:
        return graph.pipe(format=format)
    except graphviz.ExecutableNotFound as error:
        raise GraphvizNotFoundError(f"Graphviz's dot program was not found; {INSTALL_DOT}") from error


def render(graph: graphviz.Digraph, path: str | os.PathLike[str]) -> Path:
    """Write `graph` (a graphviz.Digraph, as draw() returns) to `path`; its suffix picks the format.

    `.svg`, `.png` and `.pdf` need Graphviz's dot program; `.dot` (or `.gv`) is the
    source, which needs nothing. Without dot, the source is written next to `path`
    with the suffix `.dot`, and GraphvizNotFoundError says how to render it later.
    """
    path = Path(path)
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
            f"{path} was not written: Graphviz's dot program was not found. The picture's source is in "
            f"{source}; {INSTALL_DOT}, then run: dot -T{format} {source} -o {path}"
        ) from error.__cause__
    write_atomically(path, content)
    return path
