"""A picture before Graphviz sees it: the text and style of every box and arrow.

The views (forward, local gradients, backward, each step of the step-through)
fill in a Scene; build() turns it into a graphviz.Digraph. Keeping the two apart
lets the step-through restyle the same scene frame by frame: only colours change
between frames, never the text, so Graphviz lays every frame out identically.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tinygraph.tensor import Tensor
from tinygraph.viz.labels import escape
from tinygraph.viz.render import picture_class, require_graphviz
from tinygraph.viz.walk import Edge, Walk

if TYPE_CHECKING:
    import graphviz

# A layer's tensors by the cluster's label, or a function naming each tensor's cluster (or None).
Clusters = Mapping[str, Iterable[Tensor]] | Callable[[Tensor], str | None]

RANKDIRS = ("LR", "RL", "TB", "BT")
FONT = "Helvetica"
MONO_FONT = "Courier"

# Text sizes in points at font_scale=1. A browser shows an SVG point as 4/3 px, so the
# smallest, DETAIL, is 14.7 px at natural size: readable on a projector (docs/pictures.md).
TITLE, NAME, OPERATION, DETAIL = 16, 14, 13, 11


@dataclass(frozen=True)
class Line:
    """One line of text in a box or beside an arrow."""

    text: str
    bold: bool = False
    size: int | None = None
    color: str | None = None
    mono: bool = False  # a fixed-width font, so that a grid's columns line up

    def html(self, font_scale: float = 1.0) -> str:
        content = escape(self.text)
        if self.bold:
            content = f"<B>{content}</B>"
        size = f' POINT-SIZE="{points(self.size, font_scale)}"' if self.size else ""
        font = size + (f' COLOR="{self.color}"' if self.color else "")
        font += f' FACE="{MONO_FONT}"' if self.mono else ""
        return f"<FONT{font}>{content}</FONT>" if font else content


def points(size: float, font_scale: float) -> str:
    """A text size in whole points, rounded half up: Graphviz reads HTML labels' POINT-SIZE as a whole number."""
    return str(max(1, int(size * font_scale + 0.5)))


def check_font_scale(font_scale: float, caller: str = "draw") -> float:
    """`font_scale` as a float, refused unless it is a positive, finite number."""
    try:
        scale = float(font_scale)
    except (TypeError, ValueError):
        raise TypeError(f"{caller}: font_scale must be a number, not {type(font_scale).__name__}") from None
    if not 0 < scale < float("inf"):
        raise ValueError(f"{caller}: font_scale must be a positive number, not {font_scale!r}")
    return scale


@dataclass
class Scene:
    """Lines and Graphviz attributes, keyed by the ids that tensor_id() and friends give."""

    walk: Walk
    lines: dict[str, list[Line]] = field(default_factory=dict)
    attrs: dict[str, dict[str, str]] = field(default_factory=dict)
    title: str | None = None

    def tensor_id(self, tensor: Tensor) -> str:
        return f"t{self.walk.position[id(tensor)]}"

    def op_id(self, output: Tensor) -> str:
        """The box of the operation that produced `output`."""
        return f"op{self.walk.position[id(output)]}"

    def input_edge_id(self, edge: Edge) -> str:
        """The arrow that carries `edge.source` into its operation."""
        return f"e{self.walk.position[id(edge.target)]}.{edge.position}"

    def output_edge_id(self, output: Tensor) -> str:
        """The arrow from an operation to the tensor it produced."""
        return f"o{self.walk.position[id(output)]}"

    def style(self, key: str, **attrs: str) -> None:
        self.attrs.setdefault(key, {}).update(attrs)

    def add_line(self, key: str, line: Line) -> None:
        self.lines.setdefault(key, []).append(line)


@dataclass(frozen=True)
class Drawing:
    """What a picture was built from, so that it can be built again: larger, or for another Graphviz."""

    scene: Scene
    rankdir: str
    clusters: Clusters | None
    font_scale: float

    def build(
        self, font_scale: float | None = None, rankdir: str | None = None, html_labels: bool = True
    ) -> graphviz.Digraph:
        """The picture again; `font_scale` and `rankdir` default to the ones it was made with."""
        scale = self.font_scale if font_scale is None else font_scale
        return build(self.scene, rankdir or self.rankdir, self.clusters, scale, html_labels)


def build(
    scene: Scene,
    rankdir: str = "LR",
    clusters: Clusters | None = None,
    font_scale: float = 1.0,
    html_labels: bool = True,
) -> graphviz.Digraph:
    """The graphviz.Digraph that shows `scene`, every text size multiplied by `font_scale`.

    Each box and arrow gets its scene key as its Graphviz id (t3, op3, e3.0, o3),
    so that a page can find it in the SVG. With `html_labels=False` the labels are
    plain text, one line per Line, for a Graphviz built without HTML labels (the
    WebAssembly one); engines.restyle() then gives each line its size and colour.
    """
    if rankdir not in RANKDIRS:
        raise ValueError(f"draw: rankdir must be one of {', '.join(RANKDIRS)}, not {rankdir!r}")
    font_scale = check_font_scale(font_scale)
    walk = scene.walk
    graph = picture_class()("tinygraph")
    graph.drawing = Drawing(scene, rankdir, clusters, font_scale)
    # Gaps grow with the text, so that a larger font does not crowd the boxes.
    gap = max(1.0, font_scale)
    graph.attr(rankdir=rankdir, fontname=FONT, nodesep=f"{0.3 * gap:.3g}", ranksep=f"{0.4 * gap:.3g}")

    def label(lines: list[Line]) -> str:
        if not html_labels:
            return require_graphviz().nohtml("\\n".join(escape_plain(line.text) for line in lines))
        return "<" + "<BR/>".join(line.html(font_scale) for line in lines) + ">"

    graph.attr(fontsize=points(TITLE if scene.title and not html_labels else NAME, font_scale))
    if scene.title:
        graph.attr(label=label([Line(scene.title, size=TITLE)]), labelloc="t")
    graph.attr("node", fontname=FONT, fontsize=points(NAME, font_scale))
    graph.attr("edge", fontname=FONT, fontsize=points(DETAIL, font_scale), arrowsize="0.7")

    def node(into: Any, key: str, label: str, **extra: str) -> None:
        into.node(key, label, id=key, **scene.attrs.get(key, {}), **extra)

    def add_boxes(into: Any, tensors: list[Tensor]) -> None:
        for tensor in tensors:
            node(into, scene.tensor_id(tensor), label(scene.lines.get(scene.tensor_id(tensor), [])))
            if tensor.node is not None:
                operation = points(OPERATION, font_scale)
                node(into, scene.op_id(tensor), label([Line(tensor.node.name)]), fontsize=operation)

    groups = group(walk, clusters)
    add_boxes(graph, groups.pop(None, []))
    for number, (name, members) in enumerate(groups.items()):
        if not members:
            continue
        with graph.subgraph(name=f"cluster_{number}") as cluster:
            cluster.attr(label=label([Line(name, bold=True)]), style="rounded,dashed", color="#94a3b8")
            cluster.attr(fontsize=points(NAME, font_scale))
            add_boxes(cluster, members)

    def edge(key: str, tail: str, head: str) -> None:
        lines = scene.lines.get(key)
        graph.edge(tail, head, label(lines) if lines else None, id=key, **scene.attrs.get(key, {}))

    for tensor in walk.tensors:
        if tensor.node is not None:
            edge(scene.output_edge_id(tensor), scene.op_id(tensor), scene.tensor_id(tensor))
    for e in walk.edges:
        edge(scene.input_edge_id(e), scene.tensor_id(e.source), scene.op_id(e.target))
    if walk.cut:
        note = (
            f"… {walk.hidden_tensors:,} more tensors and {walk.hidden_ops:,} more operations not drawn: "
            f"only the {walk.max_nodes:,} boxes nearest the output are (max_nodes={walk.max_nodes})"
        )
        style = {"shape": "note", "color": "#94a3b8", "fontcolor": "#475569", "class": "hidden"}
        graph.node("hidden", label([Line(note)]), **style)
        for output in walk.cut:
            graph.edge("hidden", scene.op_id(output), style="dashed", color="#94a3b8")
    return graph


def escape_plain(text: str) -> str:
    """`text` shown as written in a plain Graphviz label: its backslashes and entities (&lt;) are not escapes."""
    return text.replace("&", "&amp;").replace("\\", "\\\\")


def group(walk: Walk, clusters: Clusters | None) -> dict[str | None, list[Tensor]]:
    """The drawn tensors by cluster label (None: in no cluster), in drawing order."""
    if clusters is None:
        label_of: dict[int, str] = {}
    elif isinstance(clusters, Mapping):
        label_of = {}
        for label, members in clusters.items():
            for tensor in members:
                if not isinstance(tensor, Tensor):
                    raise TypeError(f"draw: cluster {label!r} lists a {type(tensor).__name__}, not a Tensor")
                if tensor not in walk:
                    raise ValueError(f"draw: cluster {label!r} lists {tensor!r}, which is not in the picture")
                if label_of.setdefault(id(tensor), label) != label:
                    raise ValueError(
                        f"draw: {tensor!r} is in two clusters, {label_of[id(tensor)]!r} and {label!r}"
                    )
    elif callable(clusters):
        label_of = {id(t): label for t in walk.tensors if (label := clusters(t)) is not None}
    else:
        raise TypeError(f"draw: clusters must be a mapping or a function, not {type(clusters).__name__}")
    groups: dict[str | None, list[Tensor]] = {None: []}
    if isinstance(clusters, Mapping):
        groups.update((label, []) for label in clusters)
    for tensor in walk.tensors:
        groups.setdefault(label_of.get(id(tensor)), []).append(tensor)
    return groups
