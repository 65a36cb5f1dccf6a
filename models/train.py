"""Training: the notebook's gradient descent, and the mini-batch loop of deeper nets, in one loop.

An epoch is one pass over the training examples (columns), in batches of
`batch_size` drawn in a fresh seeded order each epoch. Without a batch size the
whole training set is one batch, so an epoch is one iteration of the notebook's
create_nn_model: the forward pass on the training data (recording the graph) and
on the validation data (recording nothing), both losses kept, backpropagation by
the engine, and an update by the optimiser: anything with step() and zero_grad(),
such as tinygraph.models.optimizers.SGD, the notebook's update_parameters.

The history has one entry per epoch (so per iteration with the whole batch, as
in the notebook), as Keras' history does. Entry e holds
    train_loss      the mean training-mode loss (dropout on) of epoch e's batches, each before its update
    val_loss        the evaluation-mode loss (dropout off) on the validation data before epoch e's updates
    train_accuracy  the fraction of epoch e's training examples labelled right by the pass that gave train_loss
    val_accuracy    the fraction of validation examples labelled right by the pass that gave val_loss
With the whole batch the losses are those before the e-th update, the notebook's numbers.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

import tinygraph as tg
from tinygraph.models.errors import ConfigError, TrainingDivergedError
from tinygraph.models.mlp import MLP
from tinygraph.models.optimizers import Optimizer
from tinygraph.backend import to_numpy

# Called after each epoch (each iteration, with the whole batch) with the epoch and its entry of the
# history: {"train_loss": ..., "val_loss": ..., "train_accuracy": ..., "val_accuracy": ...}, as Keras'
# on_epoch_end(epoch, logs).
IterationCallback = Callable[[int, dict[str, float]], None]
HISTORY_KEYS = ("train_loss", "val_loss", "train_accuracy", "val_accuracy")


class Schedule(Protocol):
    """A learning-rate schedule such as tinygraph.models.optimizers.StepDecay; train() steps it once per epoch."""

    def step(self) -> None: ...


@dataclass
class TrainingResult:
    """What training produced: the model (trained in place), the losses per epoch, and how it ended.

    `iterations` updates were made in `len(history["val_loss"])` epochs. `best_epoch`
    is the epoch whose starting parameters the model holds after early stopping
    (None without early stopping; the number of epochs when the last update's
    parameters were the best). `stopped_early` is true when the validation loss stopped improving;
    `interrupted` is true when Ctrl-C stopped training.
    """

    model: MLP
    history: dict[str, list[float]]
    iterations: int
    seconds: float
    interrupted: bool
    best_epoch: int | None = None
    stopped_early: bool = False
    per: str = "iteration"  # what one entry of the history is: an "iteration" (the whole batch) or an "epoch"


def train(
    model: MLP,
    train_X: Any,
    train_Y: Any,
    val_X: Any,
    val_Y: Any,
    *,
    optimizer: Optimizer,
    iterations: int | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    shuffle_seed: int = 0,
    early_stopping: int | None = None,
    schedule: Schedule | None = None,
    on_iteration: IterationCallback | None = None,
) -> TrainingResult:
    """Make `iterations` updates, or `epochs` passes over the data, recording train and validation losses.

    batch_size      examples per update; None (the notebook's way) uses all of them
    shuffle_seed    seeds the order of the examples, drawn afresh each epoch (mini-batches only)
    early_stopping  patience: stop once the validation loss has not improved for this many
                    epochs, and leave the model with the parameters of the lowest one
    schedule        stepped after each epoch, e.g. StepDecay(optimizer, every=10, gamma=0.5)

    The data are checked and cast to the model's dtype once, before the loop. A NaN
    or infinite loss raises TrainingDivergedError; Ctrl-C (KeyboardInterrupt) ends
    training and returns the parameters after the last complete update (with early
    stopping, the best ones validated so far), with the losses of complete epochs.
    Early stopping keeps the best parameters by reference: optimisers replace a
    parameter's array (p.data = ...) rather than writing into it.
    """
    check_data(train_X, train_Y, val_X, val_Y)
    train_X, val_X = model.as_input(train_X, "train_X"), model.as_input(val_X, "val_X")
    train_Y = model.as_labels(train_Y, train_X.shape[1], "train_Y")
    val_Y = model.as_labels(val_Y, val_X.shape[1], "val_Y")
    n = train_X.shape[1]
    batch_size = n if batch_size is None else min(check_count("batch_size", batch_size, low=1), n)
    updates = count_updates(iterations, epochs, batches_per_epoch=-(-n // batch_size))
    per = "iteration" if batch_size == n else "epoch"
    if early_stopping is not None:
        check_count("early_stopping (the patience)", early_stopping, low=1)
    parameters = model.parameters()
    history: dict[str, list[float]] = {key: [] for key in HISTORY_KEYS}
    best, shuffle = Best(), np.random.default_rng(shuffle_seed)
    done, stopped_early, interrupted = 0, False, False
    updating = tg.numeric_problems(f"train(): {type(optimizer).__name__}'s update of the parameters")
    start = time.perf_counter()
    try:
        while done < updates and not stopped_early:
            epoch = len(history["val_loss"])
            val_loss, val_accuracy = evaluate(model, val_X, val_Y)
            best.consider(val_loss, epoch, parameters)
            losses, right, seen = [], 0, 0
            for Xb, Yb in itertools.islice(batches(train_X, train_Y, batch_size, shuffle), updates - done):
                steps = model.forward_steps(Xb, training=True)
                L = model.loss_of(steps, Yb)
                losses.append(L.item())
                check_finite(done, losses[-1], val_loss)
                right, seen = right + count_right(model, steps, Yb), seen + Xb.shape[1]
                L.backward()
                with updating:
                    optimizer.step()
                optimizer.zero_grad()
                done += 1
            entry = {"train_loss": math.fsum(losses) / len(losses), "val_loss": val_loss,
                     "train_accuracy": right / seen, "val_accuracy": val_accuracy}  # fmt: skip
            for key, value in entry.items():
                history[key].append(value)
            if schedule is not None:
                schedule.step()
            if on_iteration is not None:
                on_iteration(epoch, entry)
            stopped_early = early_stopping is not None and epoch - best.epoch >= early_stopping
    except KeyboardInterrupt:  # the history holds complete epochs only: it is appended to after each
        optimizer.zero_grad()
        interrupted = True
    if early_stopping is not None:
        if not (stopped_early or interrupted):  # the last update's parameters are not yet validated
            best.consider(evaluate(model, val_X, val_Y)[0], len(history["val_loss"]), parameters)
        best.restore(parameters)
    return TrainingResult(
        model, history, done, time.perf_counter() - start, interrupted=interrupted,
        best_epoch=None if early_stopping is None else best.epoch, stopped_early=stopped_early, per=per,
    )  # fmt: skip


def batches(
    X: tg.Tensor, Y: tg.Tensor, batch_size: int, shuffle: np.random.Generator
) -> Iterator[tuple[tg.Tensor, tg.Tensor]]:
    """One epoch's batches of examples (columns) in a fresh random order; the whole set, as it is, in one batch."""
    n = X.shape[1]
    if batch_size >= n:
        yield X, Y
        return
    order = shuffle.permutation(n)
    for first in range(0, n, batch_size):
        columns = order[first : first + batch_size]
        yield tg.Tensor(X.data[:, columns], name=X.name), tg.Tensor(Y.data[:, columns], name=Y.name)


def count_right(model: MLP, steps: dict[str, tg.Tensor], Y: tg.Tensor) -> int:
    """How many examples the forward pass `steps` labels as Y does."""
    return int(np.count_nonzero(model.labels_of(steps) == to_numpy(Y.data)))


def evaluate(model: MLP, X: Any, Y: Any) -> tuple[float, float]:
    """The loss and the accuracy on examples X (nx x n) with labels Y, in evaluation mode (dropout off), no graph."""
    X = model.as_input(X)
    Y = model.as_labels(Y, X.shape[1])
    with tg.no_grad():
        steps = model.forward_steps(X)
        return model.loss_of(steps, Y).item(), count_right(model, steps, Y) / X.shape[1]


@dataclass
class Best:
    """The lowest validation loss seen, the epoch it was measured at, and the parameters it was measured on."""

    loss: float = math.inf
    epoch: int = 0
    arrays: list[Any] | None = None

    def consider(self, loss: float, epoch: int, parameters: list[tg.Tensor]) -> None:
        if loss < self.loss or self.arrays is None:
            self.loss, self.epoch, self.arrays = loss, epoch, [p.data for p in parameters]

    def restore(self, parameters: list[tg.Tensor]) -> None:
        if self.arrays is None:  # stopped before the first validation: the parameters are the initial ones
            return
        for p, data in zip(parameters, self.arrays, strict=True):
            p.data = data


def check_finite(iteration: int, train_loss: float, val_loss: float) -> None:
    if not (math.isfinite(train_loss) and math.isfinite(val_loss)):
        raise TrainingDivergedError(
            f"iteration {iteration}: the loss became {train_loss} (train) and {val_loss} (validation); "
            "the learning rate may be too large, or the data hold NaN or infinity"
        )


def count_updates(iterations: int | None, epochs: int | None, batches_per_epoch: int) -> int:
    """The number of updates that `iterations` or `epochs` (exactly one of them) asks for."""
    if (iterations is None) == (epochs is None):
        raise ConfigError("train: give the number of iterations (updates) or of epochs, one of the two")
    if iterations is not None:
        return check_count("iterations", iterations, low=0)
    return check_count("epochs", epochs, low=0) * batches_per_epoch


def check_count(what: str, value: int, low: int) -> int:
    if value < low:
        raise ConfigError(f"train: {what} must be at least {low}, not {value}")
    return value


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
