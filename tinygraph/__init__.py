"""tinygraph: a computational-graph autograd engine for seeing and trusting backpropagation.

    import tinygraph as tg
    W = tg.Tensor(W_array, requires_grad=True, name="W")
    L = tg.binary_cross_entropy(tg.sigmoid(W @ X), Y)
    L.backward()          # W.grad now holds dL/dW
"""

# Tensor first: the node modules it imports at its end build on it.
from tinygraph.tensor import Tensor  # isort: skip
from tinygraph.convolution import conv2d, images_from_columns
from tinygraph.elementwise import exp, leaky_relu, log, relu, sigmoid, tanh
from tinygraph.engine import backward, topological_order
from tinygraph.errors import (
    AnomalyError,
    DTypeError,
    GradcheckError,
    GradientShapeError,
    GraphReleasedError,
    LabelError,
    NumericWarning,
    ShapeError,
    TinygraphError,
)
from tinygraph.gradcheck import gradcheck, numerical_grad
from tinygraph.losses import binary_cross_entropy, binary_cross_entropy_with_logits, softmax_cross_entropy
from tinygraph.matrix import matmul, permute, reshape, transpose
from tinygraph.modes import detect_anomaly, no_grad
from tinygraph.node import Node
from tinygraph.numerics import numeric_problems
from tinygraph.pooling import avg_pool2d, max_pool2d
from tinygraph.reductions import mean, sum  # noqa: A004 (tg.sum, as np.sum)

__version__ = "0.1.0"

__all__ = [
    "AnomalyError",
    "DTypeError",
    "GradcheckError",
    "GradientShapeError",
    "GraphReleasedError",
    "LabelError",
    "Node",
    "NumericWarning",
    "ShapeError",
    "Tensor",
    "TinygraphError",
    "avg_pool2d",
    "backward",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv2d",
    "detect_anomaly",
    "exp",
    "gradcheck",
    "images_from_columns",
    "leaky_relu",
    "log",
    "matmul",
    "max_pool2d",
    "mean",
    "no_grad",
    "numeric_problems",
    "numerical_grad",
    "permute",
    "relu",
    "reshape",
    "sigmoid",
    "softmax_cross_entropy",
    "sum",
    "tanh",
    "topological_order",
    "transpose",
]


def __getattr__(name: str) -> object:
    """tg.draw and tg.viz, imported on first use so that `import tinygraph` needs numpy only."""
    if name in ("draw", "viz"):
        import tinygraph.viz

        return tinygraph.viz.draw if name == "draw" else tinygraph.viz
    raise AttributeError(f"module 'tinygraph' has no attribute {name!r}")
