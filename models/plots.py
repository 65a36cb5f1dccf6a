"""The pictures `tinygraph train` draws, as matplotlib figures.

Each function returns a `matplotlib.figure.Figure` and leaves saving to the
caller. Figures are made without pyplot, so no window, global state or
interactive backend is involved: saving to PNG renders with Agg. matplotlib is
imported only here, when a picture is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

import tinygraph as tg
from models.datasets import IMAGE_SHAPE  # each column of X is a 64 x 64 RGB image, reshaped
from models.errors import MissingPackageError
from models.mlp import MLP

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CLASS_NAMES = ("cat", "dog")  # label 0 and label 1, as in the notebook


def _figure(**options: Any) -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise MissingPackageError("pictures need matplotlib: pip install matplotlib") from error
    return Figure(**options)


def learning_curve(history: dict[str, list[float]], per: str = "iteration") -> Figure:
    """Training loss (blue) and validation loss (red) per iteration (per epoch for mini-batches), as in the notebook."""
    fig = _figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(history["train_loss"], "b", label="train")
    ax.plot(history["val_loss"], "r", label="validation")
    ax.set_xlabel(f"{per}s")
    ax.set_ylabel("loss")
    ax.legend()
    return fig


def image_grid(X: np.ndarray, Y: np.ndarray, count: int = 10, columns: int = 5) -> Figure:
    """The first `count` images of X (one per column, 64 x 64 x 3 pixels in [0, 1]) titled cat or dog."""
    count = min(count, X.shape[1])
    rows = -(-count // columns)
    fig = _figure(figsize=(2 * columns, 2.2 * rows), layout="constrained")
    for i in range(count):
        ax = fig.add_subplot(rows, columns, i + 1)
        ax.imshow(np.clip(X[:, i].reshape(IMAGE_SHAPE), 0, 1))
        ax.set_title(CLASS_NAMES[int(Y[0, i])])
        ax.axis("off")
    return fig


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
