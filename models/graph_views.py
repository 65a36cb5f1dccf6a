"""The lecture's pictures of a network, for `tinygraph graph` and `tinygraph train`.

    forward.svg           the graph: W1, b1, Z1, A1, W2, b2, Z2, Yhat, L and their operations
    local_grads.svg       each edge labelled with the gradient it carries, e.g. dL/dZ2 = dL/dYhat * Yhat (1 - Yhat)
    backward.svg          the gradients flowing back along the edges, with their shapes
    step-through/         the backward pass frame by frame: step-1.svg, ... and step-through.html
(.png or .pdf instead of .svg with format=; with pdf, also step-through/step-through.pdf, one 16:9
slide per step).

Every network frames its layers the same way, by MLP.layer_of.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import tinygraph as tg
from tinygraph.models import datasets
from tinygraph.models.classifier import Classifier
from tinygraph.models.cnn import CNN
from tinygraph.models.config import DATASET_DEFAULTS, DEFAULT_DATASET
from tinygraph.models.mlp import MLP
from tinygraph.models.optimizers import SGD
from tinygraph.models.train import train

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


def trained_example(iterations: int, seed: int = 0) -> tuple[tg.Tensor, Callable[[tg.Tensor], str | None]]:
    """The tiny classifier after `iterations` of the notebook's gradient descent on the built-in two moons.

    Its loss on the first few training examples, and its layers: values and
    gradients the size they are in a lesson, not the +-0.5 and 1e-4 of weights
    still at the notebook's +-0.01.
    """
    train_X, train_Y, val_X, val_Y = datasets.load_builtin(DEFAULT_DATASET)
    model = Classifier(train_X.shape[0], TINY["nh"], seed=seed + 1)
    if iterations:
        lr = DATASET_DEFAULTS[DEFAULT_DATASET][1]
        train(model, train_X, train_Y, val_X, val_Y, optimizer=SGD(model.parameters(), lr), iterations=iterations)
    return graph_of(model, train_X[:, : TINY["n"]], train_Y[:, : TINY["n"]])


def write_graph_views(
    out_dir: str | Path,
    example: tuple[tg.Tensor, Callable[[tg.Tensor], str | None]] | None = None,
    *,
    format: str = "svg",
    values: bool = False,
    rankdir: str = "LR",
    font_scale: float = 1.0,
    convention: str = "true",
    forward: bool = False,
) -> list[Path]:
    """forward, local_grads, backward (as `format`) and step-through/ of an example in `out_dir`.

    `example` is a loss and its layers, as tiny_example() (the default) returns
    them. The step-through is written as its page and frames, and with
    format="pdf" also as 16:9 slides. Returns the paths written. Without any
    Graphviz, every picture's DOT source is still written before
    GraphvizNotFoundError (the first picture's message) is raised. `convention` and
    `forward` are draw()'s and step_through()'s: the notebook's dZ2 = Yhat - Y for the
    gradients shown, and the forward pass stepped through before the backward one.
    """
    from tinygraph.viz import GraphvizNotFoundError, draw, render, step_through

    out_dir = Path(out_dir)
    loss, clusters = tiny_example() if example is None else example
    views = {"forward": {}, "local_grads": {"local_grads": True}, "backward": {"backward": True}}
    style = {"clusters": clusters, "values": values, "rankdir": rankdir, "font_scale": font_scale, "convention": convention}
    written: list[Path] = []
    missing: list[GraphvizNotFoundError] = []
    for name, opts in views.items():
        try:
            written.append(render(draw(loss, **style, **opts), out_dir / f"{name}.{format}"))
        except GraphvizNotFoundError as error:  # its source is written; go on with the others'
            missing.append(error)
    try:
        steps = step_through(loss, out_dir / "step-through", forward=forward, **style)
    except GraphvizNotFoundError as error:
        missing.append(error)
    if missing:
        raise missing[0]
    written.append(steps.page)
    if format == "pdf":
        written.append(steps.save_pdf(out_dir / "step-through" / "step-through.pdf"))
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
