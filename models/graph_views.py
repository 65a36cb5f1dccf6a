"""The lecture's pictures of a network, for `tinygraph graph` and `tinygraph train`.

    forward.svg           the graph: W1, b1, Z1, A1, W2, b2, Z2, Yhat, L and their operations
    local_grads.svg       each edge labelled with the gradient it carries, e.g. dL/dZ2 = dL/dYhat * Yhat (1 - Yhat)
    backward.svg          the gradients flowing back along the edges, with their shapes
    step-through/         the backward pass frame by frame: step-1.svg, ... and step-through.html

Every network frames its layers the same way, by MLP.layer_of.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import tinygraph as tg
from models.classifier import Classifier
from models.cnn import CNN
from models.mlp import MLP

# A tiny input: the pictures are about the graph, and small arrays keep the labels short.
TINY = {"nx": 2, "nh": 3, "n": 4}


def graph_of(model: MLP, X: Any, Y: Any) -> tuple[tg.Tensor, Callable[[tg.Tensor], str | None]]:
    """The loss of `model` on (X, Y), and the function that names each of its tensors' layer, for draw()."""
    steps = model.forward_steps(X)
    return model.loss_of(steps, Y), model.layer_of(steps)


def tiny_example(seed: int = 0) -> tuple[tg.Tensor, Callable[[tg.Tensor], str | None]]:
    """The notebook's untrained classifier on a tiny random input (nx=2, nh=3, n=4): its loss and its layers."""
    rng = np.random.default_rng(seed)
    model = Classifier(TINY["nx"], TINY["nh"], seed=seed + 1)
    X = rng.normal(size=(TINY["nx"], TINY["n"]))
    return graph_of(model, X, (X[:1] > 0).astype(float))  # every tensor named as in the notebook


def tiny_cnn_example(filters: Sequence[int], seed: int = 0) -> tuple[tg.Tensor, Callable[[tg.Tensor], str | None]]:
    """An untrained CNN with these blocks on two tiny RGB images (just large enough for its poolings)."""
    rng = np.random.default_rng(seed)
    side = 2 ** (len(filters) + 1)
    model = CNN((side, side, 3), filters, seed=seed + 1)
    return graph_of(model, rng.random((side * side * 3, 2)), np.array([[0.0, 1.0]]))


def write_graph_views(out_dir: str | Path, conv: Sequence[int] | None = None) -> list[Path]:
    """forward.svg, local_grads.svg, backward.svg and step-through/ of the tiny example in `out_dir`
    (a tiny CNN with blocks of `conv` filters, if given)."""
    from tinygraph.viz import draw, render, step_through

    out_dir = Path(out_dir)
    loss, clusters = tiny_example() if conv is None else tiny_cnn_example(conv)
    views = {"forward": {}, "local_grads": {"local_grads": True}, "backward": {"backward": True}}
    written = [render(draw(loss, clusters=clusters, **opts), out_dir / f"{name}.svg") for name, opts in views.items()]
    written.append(step_through(loss, out_dir / "step-through", clusters=clusters).page)
    return written


def trained_graph_svg(model: MLP, X: Any, Y: Any) -> bytes:
    """The trained model's graph as SVG, with a summary of each parameter, on the first few examples of X.

    Raises ImportError without the graphviz package, GraphvizNotFoundError without its dot program.
    """
    from tinygraph.viz import draw
    from tinygraph.viz.render import image

    n = min(TINY["n"], np.shape(X)[1])
    loss, clusters = graph_of(model, np.asarray(X)[:, :n], np.asarray(Y)[:, :n])
    return image(draw(loss, values=True, clusters=clusters), "svg")
