"""The pictures a CNN lecture shows, as matplotlib figures: the first layer's filters, and feature maps.

    filters.png        each filter of the first block as a small image (RGB for colour inputs)
    feature_maps.png   one example, then what each block makes of it: a grey map per channel

`tinygraph train --out` writes both for a CNN; `figures(model, X)` returns them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

import tinygraph as tg
from tinygraph.models.cnn import CNN
from tinygraph.models.plots import _figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FILTERS, FEATURE_MAPS = "filters.png", "feature_maps.png"
NAMES = (FILTERS, FEATURE_MAPS)
MAPS_PER_BLOCK = 8  # the first channels of each block: enough to see what it does


def figures(model: CNN, X: np.ndarray) -> dict[str, Figure]:
    """filters.png and feature_maps.png of `model`, the feature maps of the first column of X."""
    return {FILTERS: filter_grid(model), FEATURE_MAPS: feature_maps(model, X[:, :1])}


def filter_grid(model: CNN, columns: int = 8) -> Figure:
    """The first block's filters, each k x k x C shown as an image: RGB for three channels, grey otherwise.

    Each filter is scaled to [0, 1] on its own (its smallest weight black, its largest full colour),
    so its pattern shows whatever its size.
    """
    W = model.params["W1"].numpy()  # out x C x k x k
    images = W.transpose(0, 2, 3, 1)  # out x k x k x C, as imshow reads them
    low = images.min(axis=(1, 2, 3), keepdims=True)
    span = images.max(axis=(1, 2, 3), keepdims=True) - low
    images = (images - low) / np.where(span > 0, span, 1)
    count = len(images)
    columns = min(columns, count)
    rows = -(-count // columns)
    fig = _figure(figsize=(1.2 * columns, 1.3 * rows + 0.4), layout="constrained")
    fig.suptitle(f"block 1: {count} filters {W.shape[2]}x{W.shape[3]}")
    for i, image in enumerate(images):
        ax = fig.add_subplot(rows, columns, i + 1)
        ax.imshow(image if image.shape[-1] == 3 else image[..., 0], cmap=None if image.shape[-1] == 3 else "gray")
        ax.set_title(str(i + 1), fontsize=8)
        ax.axis("off")
    return fig


def feature_maps(model: CNN, x: np.ndarray) -> Figure:
    """One example (a column) and, per block, its first MAPS_PER_BLOCK channels after the pooling."""
    with tg.no_grad():
        steps = model.forward_steps(x)
    h, w, c = model.image_shape
    blocks = [steps[f"P{layer}"].numpy()[..., 0] for layer in range(1, model.blocks + 1)]  # C x H x W each
    columns = max(2, min(MAPS_PER_BLOCK, max(len(maps) for maps in blocks)))
    fig = _figure(figsize=(1.4 * columns, 1.5 * (len(blocks) + 1)), layout="constrained")
    ax = fig.add_subplot(len(blocks) + 1, columns, 1)
    image = np.clip(x[:, 0].reshape(h, w, c), 0, 1)
    ax.imshow(image if c == 3 else image[..., 0], cmap=None if c == 3 else "gray")
    ax.set_title("input", fontsize=8)
    ax.axis("off")
    for row, maps in enumerate(blocks, start=1):
        for i, channel in enumerate(maps[:columns]):
            ax = fig.add_subplot(len(blocks) + 1, columns, row * columns + i + 1)
            ax.imshow(channel, cmap="gray")
            ax.set_title(f"block {row}: {i + 1}", fontsize=7)
            ax.axis("off")
    return fig
