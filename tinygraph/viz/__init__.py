"""Pictures of the computational graph, for lectures: draw(), step_through(), render(), and the
chain rule explored: path_view(), entry(), expansion().

Needs the graphviz Python package (pip install graphviz), imported only when a
picture is made. Graphviz's dot program renders SVG, PNG and PDF when it is
installed; without it the WebAssembly Graphviz and resvg from PyPI do
(tinygraph.viz.engines; docs/pictures.md).
"""

from tinygraph.viz.chain import entry, expansion, path_view
from tinygraph.viz.draw import draw
from tinygraph.viz.labels import local_gradient_label
from tinygraph.viz.render import GraphvizNotFoundError, render
from tinygraph.viz.stepthrough import StepThrough, step_through
from tinygraph.viz.walk import MAX_NODES

__all__ = [
    "MAX_NODES",
    "GraphvizNotFoundError",
    "StepThrough",
    "draw",
    "entry",
    "expansion",
    "local_gradient_label",
    "path_view",
    "render",
    "step_through",
]
