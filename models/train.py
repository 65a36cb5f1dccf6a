"""Gradient descent on the notebook's classifier, as its create_nn_model does it.

Each iteration runs the forward pass on the training data (recording the graph)
and on the validation data (recording nothing), keeps both losses, lets the engine
backpropagate, and hands the update to an optimiser: anything with step() and
zero_grad(), such as models.optimizers.SGD, the notebook's update_parameters.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import tinygraph as tg
from models.classifier import Classifier
from models.optimizers import Optimizer

# Called after each iteration with (iteration, train loss, validation loss).
IterationCallback = Callable[[int, float, float], None]


class TrainingDivergedError(tg.TinygraphError, ArithmeticError):
    """A loss became NaN or infinite, and training cannot go on from there."""


@dataclass
class TrainingResult:
    """What training produced: the model (trained in place), the losses per iteration, and how it ended.

    history["train_loss"][i] and history["val_loss"][i] are the losses before the
    i-th update, as in the notebook; `iterations` updates were made. `interrupted`
    is true when Ctrl-C stopped training early.
    """

    model: Classifier
    history: dict[str, list[float]]
    iterations: int
    seconds: float
    interrupted: bool


def train(
    model: Classifier,
    train_X: Any,
    train_Y: Any,
    val_X: Any,
    val_Y: Any,
    *,
    iterations: int,
    optimizer: Optimizer,
    on_iteration: IterationCallback | None = None,
) -> TrainingResult:
    """Run `iterations` steps of `optimizer` on the training loss, recording train and validation losses.

    The data are checked and cast to the model's dtype once, before the loop. A
    NaN or infinite loss raises TrainingDivergedError; Ctrl-C (KeyboardInterrupt)
    ends training early and returns the parameters after the last complete update.
    """
    if iterations < 0:
        raise ValueError(f"train: the number of iterations must be at least 0, not {iterations}")
    check_data(train_X, train_Y, val_X, val_Y)
    train_X, val_X = model.as_input(train_X, "train_X"), model.as_input(val_X, "val_X")
    train_Y = model.as_labels(train_Y, train_X.shape[1], "train_Y")
    val_Y = model.as_labels(val_Y, val_X.shape[1], "val_Y")
    history: dict[str, list[float]] = {"train_loss": [], "val_loss": []}
    done = 0
    start = time.perf_counter()
    try:
        for i in range(iterations):
            L = model.loss(train_X, train_Y)
            with tg.no_grad():
                val_loss = model.loss(val_X, val_Y).item()
            train_loss = L.item()
            if not (math.isfinite(train_loss) and math.isfinite(val_loss)):
                raise TrainingDivergedError(
                    f"iteration {i}: the loss became {train_loss} (train) and {val_loss} (validation); "
                    "the learning rate may be too large, or the data hold NaN or infinity"
                )
            history["train_loss"].append(train_loss)
            history["val_loss"].append(val_loss)
            L.backward()
            optimizer.step()
            optimizer.zero_grad()
            done = i + 1
            if on_iteration is not None:
                on_iteration(i, train_loss, val_loss)
    except KeyboardInterrupt:
        # Losses recorded for an update that did not finish describe no returned parameters.
        del history["train_loss"][done:], history["val_loss"][done:]
        optimizer.zero_grad()
        return TrainingResult(model, history, done, time.perf_counter() - start, interrupted=True)
    return TrainingResult(model, history, done, time.perf_counter() - start, interrupted=False)


def check_data(train_X: Any, train_Y: Any, val_X: Any, val_Y: Any) -> None:
    """The notebook's safety checks: matching feature counts, and one label per example."""
    names = ("train_X", "train_Y", "val_X", "val_Y")
    shapes = {name: np.shape(a) for name, a in zip(names, (train_X, train_Y, val_X, val_Y))}
    for name in ("train_X", "val_X"):
        if len(shapes[name]) != 2 or shapes[name][1] == 0:
            raise tg.ShapeError(f"{name} must be nx x n with at least one example (column), not shape {shapes[name]}")
    if shapes["train_X"][0] != shapes["val_X"][0]:
        raise tg.ShapeError(
            f"train_X and val_X must have the same number of features (rows): "
            f"train_X is {shapes['train_X']}, val_X is {shapes['val_X']}"
        )
    for X, Y in (("train_X", "train_Y"), ("val_X", "val_Y")):
        n = shapes[X][1]
        if shapes[Y] != (1, n):
            raise tg.ShapeError(
                f"{X} and {Y} must have the same number of examples: {X} is {shapes[X]}, "
                f"so {Y} must be (1, {n}), not {shapes[Y]}"
            )
