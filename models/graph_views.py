"""The lecture's pictures of the notebook's classifier, for `tinygraph graph` and `tinygraph train`.

    forward.svg           the graph: W1, b1, Z1, A1, W2, b2, Z2, Yhat, L and their operations
    local_grads.svg       each edge labelled with its local gradient, e.g. dYhat/dZ2 = (.) * Yhat (1 - Yhat)
    backward.svg          the gradients flowing back along the edges, with their shapes
    step-through/         the backward pass frame by frame: step-1.svg, ... and step-through.html
(.png or .pdf instead of .svg with format=; with pdf, also step-through/step-through.pdf, one 16:9
slide per step).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import tinygraph as tg
from tinygraph.engine import topological_order
from models import datasets
from models.classifier import Classifier
from models.mlp import MLP
from models.optimizers import SGD
from models.train import train

# A tiny input: the pictures are about the graph, and small arrays keep the labels short.
TINY = {"nx": 2, "nh": 3, "n": 4}

# The notebook's two layers, framed in the pictures.
LAYERS = {
    "hidden layer (ReLU)": ("W1", "b1", "W1X", "Z1", "A1"),
    "output layer (sigmoid)": ("W2", "b2", "W2A1", "Z2", "Yhat"),
}


def layers(loss: tg.Tensor) -> dict[str, list[tg.Tensor]]:
    """The tensors of each layer, found by their names."""
    members: dict[str, list[tg.Tensor]] = {layer: [] for layer in LAYERS}
    for tensor in topological_order(loss):
        for layer, names in LAYERS.items():
            if tensor.name in names:
                members[layer].append(tensor)
    return members


def tiny_example(seed: int = 0) -> tg.Tensor:
    """The notebook's untrained classifier on a tiny random input (nx=2, nh=3, n=4)."""
    rng = np.random.default_rng(seed)
    model = Classifier.initialize(TINY["nx"], TINY["nh"], seed=seed + 1)
    X = rng.normal(size=(TINY["nx"], TINY["n"]))
    return model.loss(X, (X[:1] > 0).astype(float))  # every tensor named as in the notebook


# The built-in dataset --trained learns, and its learning rate (models.cli's DATASET_DEFAULTS).
TRAINED_ON, TRAINED_LR = "moons", 2.0


def trained_example(iterations: int, seed: int = 0) -> tg.Tensor:
    """The tiny classifier after `iterations` of the notebook's gradient descent on the two moons.

    Its loss on the first few training examples: values and gradients the size
    they are in a lesson, not the +-0.5 and 1e-4 of weights still at +-0.01.
    """
    train_X, train_Y, val_X, val_Y = datasets.load_builtin(TRAINED_ON)
    model = Classifier.initialize(train_X.shape[0], TINY["nh"], seed=seed + 1)
    if iterations:
        train(model, train_X, train_Y, val_X, val_Y, optimizer=SGD(model.parameters(), TRAINED_LR),
              iterations=iterations)  # fmt: skip
    return model.loss(train_X[:, : TINY["n"]], train_Y[:, : TINY["n"]])


def write_graph_views(
    out_dir: str | Path,
    loss: tg.Tensor | None = None,
    *,
    format: str = "svg",
    values: bool = False,
    rankdir: str = "LR",
    font_scale: float = 1.0,
) -> list[Path]:
    """forward, local_grads, backward (as `format`) and step-through/ in `out_dir`; returns what was written.

    The step-through is written as its page and frames, and with format="pdf" also as 16:9 slides.
    """
    from tinygraph.viz import draw, render, step_through

    out_dir = Path(out_dir)
    loss = tiny_example() if loss is None else loss
    views = {"forward": {}, "local_grads": {"local_grads": True}, "backward": {"backward": True}}
    style = {"clusters": layers(loss), "values": values, "rankdir": rankdir, "font_scale": font_scale}
    written = [render(draw(loss, **style, **opts), out_dir / f"{name}.{format}") for name, opts in views.items()]
    steps = step_through(loss, out_dir / "step-through", **style)
    written.append(steps.page)
    if format == "pdf":
        written.append(steps.save_pdf(out_dir / "step-through" / "step-through.pdf"))
    return written


def trained_graph_svg(model: Classifier | MLP, X: Any, Y: Any) -> bytes:
    """The trained model's graph as SVG, with a summary of each parameter, on the first few examples of X.

    Raises ImportError without the graphviz package, GraphvizNotFoundError without its dot program.
    """
    from tinygraph.viz import draw
    from tinygraph.viz.render import image

    n = min(TINY["n"], np.shape(X)[1])
    X, Y = np.asarray(X)[:, :n], np.asarray(Y)[:, :n]
    if isinstance(model, MLP):  # any depth: one frame per layer, as the network names them
        steps = model.forward_steps(X)
        loss = model.loss_from_logits(steps[f"Z{model.depth}"], Y)
        return image(draw(loss, values=True, clusters=model.layer_of(steps)), "svg")
    loss = model.loss(X, Y)
    return image(draw(loss, values=True, clusters=layers(loss)), "svg")
