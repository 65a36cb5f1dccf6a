"""The pictures `tinygraph train` draws, as matplotlib figures.

Each function returns a `matplotlib.figure.Figure` and leaves saving to the
caller. Figures are made without pyplot, so no window, global state or
interactive backend is involved: saving to PNG renders with Agg. matplotlib is
imported only here, when a picture is asked for.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

import tinygraph as tg
from tinygraph.models.errors import DataError
from tinygraph.models.datasets import IMAGE_SHAPE  # each column of X is a 64 x 64 RGB image, reshaped
from tinygraph.models.errors import MissingPackageError
from tinygraph.models.mlp import MLP

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CLASS_NAMES = ("cat", "dog")  # label 0 and label 1, as in the notebook


def _figure(**options: Any) -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise MissingPackageError("pictures need matplotlib: pip install matplotlib") from error
    return Figure(**options)


MISCLASSIFIED = "#dc2626"


def learning_curve(
    history: dict[str, list[float]],
    per: str = "iteration",
    compare: dict[str, list[float]] | None = None,
    compare_label: str = "other run",
) -> Figure:
    """Training loss (blue) and validation loss (red) per iteration (per epoch for mini-batches), as in the notebook.

    `compare`, a second history (another run's history.json, or the notebook's printed
    losses read by read_history), is drawn over it in dashed lines, labelled `compare_label`.
    """
    fig = _figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(history["train_loss"], "b", label="train")
    ax.plot(history["val_loss"], "r", label="validation")
    if compare is not None:
        ax.plot(compare["train_loss"], "b--", alpha=0.7, label=f"train ({compare_label})")
        ax.plot(compare["val_loss"], "r--", alpha=0.7, label=f"validation ({compare_label})")
    ax.set_xlabel(f"{per}s")
    ax.set_ylabel("loss")
    ax.legend()
    return fig


def image_grid(
    X: np.ndarray,
    Y: np.ndarray,
    count: int = 10,
    columns: int = 5,
    probabilities: np.ndarray | None = None,
    validation: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None,
) -> Figure:
    """The first `count` images of X (one per column, 64 x 64 x 3 pixels in [0, 1]) titled cat or dog.

    With `probabilities` (the model's Yhat for those images, 1 x n) each title gives
    the true label, the predicted one and the probability the model gives it
    (`true dog, pred cat 0.73`), and a misclassified image gets a red frame and title.
    `validation=(val_X, val_Y, val_probabilities)` adds the first `count`
    validation images below, titled the same way; the blocks are named.
    """
    blocks = [("training", X, Y, probabilities)]
    if validation is not None:
        blocks.append(("validation", *validation))
    columns = min(columns, count)
    heights = [-(-min(count, x.shape[1]) // columns) for _, x, _, _ in blocks]
    fig = _figure(figsize=(2 * columns, 2.3 * sum(heights) + 0.4 * len(blocks)), layout="constrained")
    figures = fig.subfigures(len(blocks), 1, height_ratios=heights) if len(blocks) > 1 else [fig]
    for into, (name, x, y, p), rows in zip(figures, blocks, heights):
        if len(blocks) > 1:
            into.suptitle(f"{name} images")
        for i in range(min(count, x.shape[1])):
            ax = into.add_subplot(rows, columns, i + 1)
            ax.imshow(np.clip(x[:, i].reshape(IMAGE_SHAPE), 0, 1))
            _title(ax, int(y[0, i]), None if p is None else float(np.reshape(p, -1)[i]))
    return fig


def _title(ax: Any, label: int, probability: float | None) -> None:
    """`cat`, or with the model's probability of class 1 `true cat, pred dog 0.73`, red when it is wrong."""
    ax.set_xticks([])
    ax.set_yticks([])
    if probability is None:
        ax.set_title(CLASS_NAMES[label])
        return
    predicted = int(probability >= 0.5)
    confidence = probability if predicted else 1 - probability
    wrong = predicted != label
    color = MISCLASSIFIED if wrong else "black"
    title = f"true {CLASS_NAMES[label]}, pred {CLASS_NAMES[predicted]} {confidence:.2f}" + (" ✗" if wrong else "")
    ax.set_title(title, color=color, fontsize=10)
    for spine in ax.spines.values():
        spine.set(visible=wrong, color=MISCLASSIFIED, linewidth=3)


def read_history(path: str | os.PathLike[str]) -> dict[str, list[float]]:
    """A history to compare with: a run's history.json, or the notebook's printed log.

    The notebook prints `iteration 0 :train_loss:0.693 val_loss0.692` once per
    iteration; those lines are read in order (any other line is skipped).
    """
    path = Path(path)
    text = path.read_text()
    if path.suffix == ".json":
        history = json.loads(text)
        return {"train_loss": list(history["train_loss"]), "val_loss": list(history["val_loss"])}
    found = NOTEBOOK_LOG.findall(text)
    if not found:
        raise DataError(f"{path}: no line like 'iteration 0 :train_loss:0.69 val_loss0.69' to read")
    return {"train_loss": [float(t) for t, _ in found], "val_loss": [float(v) for _, v in found]}


NUMBER = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
NOTEBOOK_LOG = re.compile(rf"iteration\s*\d+\s*:\s*train_loss\s*:?\s*{NUMBER}\s*val_loss\s*:?\s*{NUMBER}")


def decision_boundary(model: MLP, X: np.ndarray, Y: np.ndarray, resolution: int = 200) -> Figure:
    """For 2-D data: the model's probability of class 1 over the plane, its 0.5 contour, and the examples."""
    if X.shape[0] != 2:
        raise tg.ShapeError(f"decision_boundary: needs 2-D examples (2 x n), not X of shape {X.shape}")
    margin = 0.1 * (X.max(axis=1) - X.min(axis=1)) + 1e-9
    low, high = X.min(axis=1) - margin, X.max(axis=1) + margin
    x0, x1 = np.meshgrid(np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution))
    grid = np.stack([x0.ravel(), x1.ravel()])
    Yhat = model.probabilities(grid).reshape(x0.shape)
    fig = _figure(figsize=(5, 5), layout="constrained")
    ax = fig.add_subplot()
    ax.contourf(x0, x1, Yhat, levels=20, cmap="RdBu_r", vmin=0, vmax=1, alpha=0.6)
    ax.contour(x0, x1, Yhat, levels=[0.5], colors="k", linewidths=1)
    labels = Y[0] > 0.5
    ax.scatter(X[0, ~labels], X[1, ~labels], s=8, c="tab:blue", edgecolors="w", linewidths=0.3, label="0")
    ax.scatter(X[0, labels], X[1, labels], s=8, c="tab:red", edgecolors="w", linewidths=0.3, label="1")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.legend(title="label", loc="best")
    return fig
