"""`tinygraph train`: train the notebook's classifier or a deeper net, and write what it learned.

    tinygraph train                                      # the built-in two moons
    tinygraph train --train train.csv --val validation.csv --hidden 50 --lr 0.01 --iterations 2000
    tinygraph train --dataset spirals --layers 64,32 --optimizer adam --batch-size 32 --dropout 0.1

Every default is resolved once, by tinygraph.models.config.TrainingConfig.from_args. Every
option and input is checked before any work (the output place, the data, the
memory the network needs); the run's folder then appears whole or not at all
(tinygraph.models.run_folder), and docs/runs.md says what each kind of interruption leaves.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

import tinygraph as tg
from tinygraph.viz import GraphvizNotFoundError
from tinygraph.models import checkpoint, cnn_pictures, data, datasets, graph_views, plots
from tinygraph.models import backends
from tinygraph.models.backends import BACKENDS
from tinygraph.models.commands import cnn_options
from tinygraph.models.commands.arguments import (
    EXIT_DIVERGED, EXIT_INTERRUPTED, EXIT_TERMINATED, decay_factor, dropout_rate, layer_sizes,
    non_negative_float, positive_float, positive_int, seed, tell_warnings,
)  # fmt: skip
from tinygraph.models.cnn import CNN
from tinygraph.models.config import DEEP_DEFAULTS, NOTEBOOK_ITERATIONS, NOTEBOOK_LR, TrainingConfig
from tinygraph.models.errors import TrainingDivergedError, UsageError
from tinygraph.models.initializers import INITIALIZERS
from tinygraph.models.mlp import ACTIVATIONS, MLP
from tinygraph.models.optimizers import OPTIMIZERS
from tinygraph.models.resources import check_fits, memory_errors, training_bytes
from tinygraph.models.run_folder import Destination, RunFolder, check_destination
from tinygraph.models.streams import regular_file
from tinygraph.models.train import IterationCallback, TrainingResult, evaluate, train

IMAGE_FEATURES = math.prod(datasets.IMAGE_SHAPE)
IMAGE_GRID, DECISION_BOUNDARY = "images.png", "decision_boundary.png"
GRAPH = "graph.svg"  # the trained model's computational graph, when Graphviz is installed
DEFAULTS = TrainingConfig()  # what the help says an option defaults to


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "train",
        help="train the notebook's one-hidden-layer classifier, or a deeper net (--layers)",
        description="Train the notebook's classifier by gradient descent, or a multi-layer perceptron "
        "(--layers), and write what it learned to --out. Options left out take the notebook's "
        "defaults, or a deeper net's with --layers.",
    )
    source = p.add_argument_group("data (CSV files in the notebook's layout, or a built-in dataset)")
    source.add_argument(
        "--train", type=Path, metavar="PATH",
        help="training CSV: feature rows, then a 0/1 label row (0..K-1 with --layers or --classes)",
    )  # fmt: skip
    source.add_argument("--val", type=Path, metavar="PATH", help="validation CSV, laid out as --train")
    source.add_argument(
        "--dataset", choices=sorted(datasets.DATASETS),
        help=f"a built-in 2-D dataset (default when no CSV is given: {DEFAULTS.dataset})",
    )  # fmt: skip
    p.add_argument("--hidden", type=positive_int, help=f"hidden units nh (default: {DEFAULTS.hidden})")
    p.add_argument(
        "--lr", type=positive_float,
        help=f"learning rate (default: {NOTEBOOK_LR} for CSV data, per dataset otherwise; the optimiser's own with "
        "--layers or another --optimizer)",
    )  # fmt: skip
    p.add_argument(
        "--iterations", type=positive_int,
        help=f"updates (default: {NOTEBOOK_ITERATIONS} for CSV data; per dataset otherwise)",
    )  # fmt: skip
    p.add_argument("--epochs", type=positive_int, help="passes over the training data (instead of --iterations)")
    p.add_argument("--seed", type=seed, help=f"seed of the initial weights (default: {DEFAULTS.seed}, as the notebook)")
    p.add_argument("--dtype", choices=("float64", "float32"), help=f"default: {DEFAULTS.dtype}")
    p.add_argument(
        "--print-every", type=positive_int, metavar="N",
        help="also print the losses every N iterations (epochs with mini-batches)",
    )  # fmt: skip
    p.add_argument(
        "--out", type=Path, metavar="DIR",
        help="default: the next numbered folder under runs/ (runs/0001, ...), which runs/latest then points at",
    )  # fmt: skip
    p.add_argument("--overwrite", action="store_true", default=None, help="replace an --out that holds an earlier run")
    p.add_argument(
        "--backend", choices=BACKENDS,
        help="array library to train with: numpy (default), dask (large data, clusters), cupy or torch (GPU)",
    )  # fmt: skip
    p.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler, e.g. tcp://host:8786")
    deep = p.add_argument_group(
        "network and optimiser (with --layers, the defaults are a deeper net's)",
        f"deeper-net defaults: --init {DEEP_DEFAULTS['init']}, --optimizer {DEEP_DEFAULTS['optimizer']} with its "
        f"own default lr, --batch-size {DEEP_DEFAULTS['batch_size']}, --epochs {DEEP_DEFAULTS['epochs']}",
    )
    cnn_options.add_arguments(deep)
    deep.add_argument("--layers", type=layer_sizes, metavar="N,N,...", help="hidden layer sizes, e.g. 64,32")
    deep.add_argument("--activation", choices=ACTIVATIONS, help="of every hidden layer (default: relu)")
    deep.add_argument("--init", choices=INITIALIZERS, help="initial weights (uniform: the notebook's, the default)")
    deep.add_argument("--optimizer", choices=OPTIMIZERS, help="default: sgd, the notebook's gradient descent")
    deep.add_argument("--batch-size", type=positive_int, metavar="N", help="examples per update (default: all)")
    deep.add_argument("--l2", type=non_negative_float, metavar="LAMBDA", help="L2 weight decay (default: 0)")
    deep.add_argument("--dropout", type=dropout_rate, metavar="P", help="drop each hidden unit with probability P")
    deep.add_argument(
        "--early-stopping", type=positive_int, metavar="N",
        help="stop after N epochs without a lower validation loss; keep the parameters of the lowest",
    )  # fmt: skip
    deep.add_argument("--lr-decay-every", type=positive_int, metavar="N", help="multiply lr by --lr-decay per N epochs")
    deep.add_argument("--lr-decay", type=decay_factor, metavar="GAMMA", help="with --lr-decay-every (default: 0.1)")
    deep.add_argument(
        "--classes", type=positive_int, metavar="K",
        help="K classes of labels 0..K-1 (default: the largest label + 1); 2 classes make one sigmoid output",
    )  # fmt: skip
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = TrainingConfig.from_args(args)
    destination = check_destination(config.out, config.overwrite)  # before any work; creates nothing
    backends.require(config.backend)  # a missing CuPy or Dask, before the data are read
    # numpy's warnings (and the nodes' NumericWarnings) are told in one line each, after the progress bar.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status = train_and_write(config, destination, caught)
    tell_warnings([w for w in caught if w.category is not tg.NumericWarning], "tinygraph train")
    numeric = [str(w.message) for w in caught if w.category is tg.NumericWarning]
    if numeric and status != EXIT_DIVERGED:
        more = f" (and {len(numeric) - 1} more)" if len(numeric) > 1 else ""
        print(f"tinygraph train: warning: {numeric[0]}{more}", file=sys.stderr)
    return status


def train_and_write(config: TrainingConfig, destination: Destination, caught: list[warnings.WarningMessage]) -> int:
    """Load and check everything, train, and publish the run; the exit status."""
    arrays = load_data(config)
    train_X, train_Y, val_X, val_Y = arrays
    classes = count_classes(config.classes, train_Y, val_Y)
    network = network_option(config)
    # With Dask the cluster holds the data and does the work; a CNN's convolutions are not in the
    # estimate (tinygraph.models.resources): both rely on a MemoryError being told in one line.
    if config.backend != "dask" and config.conv is None:
        sizes = [train_X.shape[0], *config.hidden_layers, 1 if classes == 2 else classes]
        itemsize = np.dtype(config.dtype).itemsize
        needed = training_bytes(sizes, train_X.shape[1], config.batch_size, itemsize, config.optimizer,
                                early_stopping=config.early_stopping is not None)  # fmt: skip
        check_fits(needed, network)
    with memory_errors(network):
        model = config.network(train_X.shape[0], classes)
    settings = config.settings(classes)
    print(
        f"training on {config.source}: {train_X.shape[1]} training and {val_X.shape[1]} validation "
        f"examples, {', '.join(f'{key}={value}' for key, value in settings.items())}, {config.dtype}"
    )
    print(model.summary())
    total, unit = progress_length(config, train_X.shape[1])
    diverged = None
    with ProgressBar(total, config.print_every, unit) as progress, memory_errors(network):
        try:
            result = fit(config, model, arrays, progress)
            diverged = non_finite_parameters(model, result.iterations)
        except TrainingDivergedError as error:
            diverged = error
    if diverged is not None:  # told once the progress bar is closed, so that it is the last line
        first = next((str(w.message) for w in caught if w.category is tg.NumericWarning), None)
        cause = f"; numpy's first complaint: {first}" if first else ""
        print(f"tinygraph train: {diverged}{cause}; nothing was written", file=sys.stderr)
        return EXIT_DIVERGED

    # What training did (iterations, epochs) overrides what was planned.
    with memory_errors(network):
        metrics = settings | final_metrics(result, *arrays)
    metrics.update(seed=config.seed, dtype=config.dtype, data=config.source)
    folder = RunFolder(destination)
    try:
        with folder as staging:
            written = write_run(staging, result, metrics, *arrays)
    except (KeyboardInterrupt, SystemExit) as stop:  # one while publishing is held back till the run is whole
        if isinstance(stop, SystemExit) and stop.code != EXIT_TERMINATED:
            raise
        stopped = "interrupted" if isinstance(stop, KeyboardInterrupt) else "terminated"
        if folder.path is None:
            print(f"tinygraph train: {stopped} while writing the run; nothing was written", file=sys.stderr)
        else:
            print(f"tinygraph train: {stopped} once the run was written whole to {folder.path}", file=sys.stderr)
        return EXIT_INTERRUPTED if stopped == "interrupted" else EXIT_TERMINATED
    for note in folder.notes:
        print(f"tinygraph train: {note}", file=sys.stderr)
    if result.interrupted:
        print(f"interrupted after {result.iterations} iterations; saved what was learned so far")
    if result.stopped_early:
        print("stopped early: the validation loss stopped improving")
    if result.best_epoch is not None and (result.stopped_early or result.interrupted):
        print(f"kept the parameters of epoch {result.best_epoch}, the lowest validation loss")
    print(f"train accuracy: {metrics['train_accuracy']:.4f}   validation accuracy: {metrics['val_accuracy']:.4f}")
    print(f"{result.seconds:.1f} s; wrote {', '.join(written)} to {folder.path}")
    return EXIT_INTERRUPTED if result.interrupted else 0


def non_finite_parameters(model: MLP, iterations: int) -> TrainingDivergedError | None:
    """The error for parameters that overflowed while the (clipped) loss stayed finite; None if all are finite."""
    for name, array in model.arrays().items():
        if not np.isfinite(array).all():
            return TrainingDivergedError(
                f"after {iterations} iterations {name} holds infinity or NaN; the learning rate may be too large"
            )
    return None


def network_option(config: TrainingConfig) -> str:
    """The option that sets the network's size, as the user typed it, for messages about memory."""
    for option, sizes in (("--conv", config.conv), ("--layers", config.layers)):
        if sizes is not None:
            return f"{option} {','.join(map(str, sizes))}"
    return f"--hidden {config.hidden}"


def fit(
    config: TrainingConfig, model: MLP, arrays: Sequence[Any], on_iteration: IterationCallback | None = None
) -> TrainingResult:
    """train() the model in place as `config` says, on its array library; the model ends up in numpy again."""
    if config.backend == "numpy":  # numpy's arrays train as they are
        return train_configured(config, model, arrays, on_iteration)
    with backends.dask_client(config.scheduler):
        model.to(config.backend)
        try:
            moved = backends.move_data(config.backend, arrays)
            return train_configured(
                config, model, moved, backends.after_each_update(config.backend, model, on_iteration)
            )
        finally:  # inside the block: persisted Dask parameters live on the cluster, whose client closes with it
            model.to("numpy")


def train_configured(
    config: TrainingConfig, model: MLP, arrays: Sequence[Any], on_iteration: IterationCallback | None
) -> TrainingResult:
    """The one call of train() for every library, with the optimiser and schedule made once for the parameters."""
    optimizer = config.make_optimizer(model.parameters())
    return train(
        model, *arrays, optimizer=optimizer, schedule=config.make_schedule(optimizer), on_iteration=on_iteration,
        **config.train_options(),
    )  # fmt: skip


def load_data(config: TrainingConfig) -> tuple[np.ndarray, ...]:
    """(train_X, train_Y, val_X, val_Y) from the CSV files or the built-in dataset, of the configured dtype.

    Either file may be '-' (standard input) or a named pipe.
    """
    if config.train is None:
        return tuple(a.astype(config.dtype) for a in datasets.load_builtin(config.dataset))
    with (
        regular_file(config.train, "--train") as train,
        regular_file(config.val, "--val") as val,
        memory_errors(f"--train {config.train} and --val {config.val}"),
    ):
        return data.load_train_val(train, val, dtype=config.dtype, labels=config.labels)


def count_classes(given: int | None, train_Y: np.ndarray, val_Y: np.ndarray) -> int:
    """K: --classes, or the largest label + 1; every label must be below it."""
    largest = int(max(train_Y.max(), val_Y.max()))
    classes = max(largest + 1, 2) if given is None else given
    if classes < 2:
        raise UsageError(f"--classes {classes}: a classifier needs at least 2 classes")
    if largest >= classes:
        raise data.DataError(f"the labels go up to {largest}, but --classes {classes} allows 0 to {classes - 1}")
    return classes


def progress_length(config: TrainingConfig, n: int) -> tuple[int, str]:
    """The progress bar's length and unit: iterations with the whole batch, epochs with mini-batches.

    The history has an entry per epoch; with --iterations and mini-batches the last epoch may be partial.
    """
    per_epoch = 1 if config.batch_size is None else -(-n // config.batch_size)
    unit = "iteration" if per_epoch == 1 else "epoch"
    return (config.epochs if config.epochs is not None else -(-config.iterations // per_epoch)), unit


def final_metrics(
    result: TrainingResult, train_X: np.ndarray, train_Y: np.ndarray, val_X: np.ndarray, val_Y: np.ndarray
) -> dict[str, Any]:
    """Accuracies and losses of the trained parameters, and how training went."""
    metrics: dict[str, Any] = {}
    for split, X, Y in (("train", train_X, train_Y), ("val", val_X, val_Y)):
        metrics[f"{split}_loss"], metrics[f"{split}_accuracy"] = evaluate(result.model, X, Y)
    metrics.update(
        iterations=result.iterations, epochs=len(result.history["val_loss"]), seconds=result.seconds,
        interrupted=result.interrupted, stopped_early=result.stopped_early, best_epoch=result.best_epoch,
    )  # fmt: skip
    return metrics


def write_run(
    folder: Path,
    result: TrainingResult,
    metrics: dict[str, Any],
    train_X: np.ndarray,
    train_Y: np.ndarray,
    val_X: np.ndarray,
    val_Y: np.ndarray,
) -> list[str]:
    """history.json, params.npz, metrics.json and the pictures, into the run's fresh private folder.

    Returns the names written. The folder becomes visible only once all are
    complete (tinygraph.models.run_folder), so the files need no care of their own.
    """
    files: dict[str, Callable[[IO[bytes]], None]] = {
        "history.json": json_writer({"per": result.per, **result.history}),
        "metrics.json": json_writer(metrics),
        "learning_curve.png": figure_writer(plots.learning_curve(result.history, result.per)),
    }
    if train_X.shape[0] == IMAGE_FEATURES and train_Y.max() <= 1:
        first = {"train": (train_X[:, :10], train_Y[:, :10]), "val": (val_X[:, :10], val_Y[:, :10])}
        P = {name: result.model.probabilities(X) for name, (X, _) in first.items()}
        grid = plots.image_grid(*first["train"], probabilities=P["train"], validation=(*first["val"], P["val"]))
        files[IMAGE_GRID] = figure_writer(grid)
    elif train_X.shape[0] == 2 and train_Y.max() <= 1:  # the pictures know two classes
        files[DECISION_BOUNDARY] = figure_writer(plots.decision_boundary(result.model, train_X, train_Y))
    if isinstance(result.model, CNN):
        files.update({name: figure_writer(fig) for name, fig in cnn_pictures.figures(result.model, train_X).items()})
    try:
        graph = graph_views.trained_graph_svg(result.model, train_X, train_Y)
        files[GRAPH] = lambda f: f.write(graph)
    except (ImportError, GraphvizNotFoundError) as error:  # Graphviz is optional: the run is complete without it
        print(f"tinygraph train: {GRAPH} not written: {error}", file=sys.stderr)
    checkpoint.save(result.model, folder / "params.npz")
    for name, write in files.items():
        with open(folder / name, "wb") as file:
            write(file)
    return ["params.npz", *files]


def json_writer(value: Any) -> Callable[[IO[bytes]], None]:
    return lambda f: f.write(json.dumps(value, indent=1).encode())


def figure_writer(figure: Any) -> Callable[[IO[bytes]], None]:
    return lambda f: figure.savefig(f, format="png", dpi=100)


class ProgressBar:
    """A tqdm bar showing the current losses and accuracies; the notebook's printout every N iterations."""

    def __init__(self, total: int, print_every: int | None, unit: str = "iteration"):
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc="training", unit=unit, file=sys.stderr, dynamic_ncols=True)
        self.print_every, self.unit = print_every, unit

    def __call__(self, i: int, logs: dict[str, float]) -> None:
        self.bar.set_postfix_str(" ".join(f"{key}={value:.4f}" for key, value in logs.items()), refresh=False)
        self.bar.update()
        if self.print_every and i % self.print_every == 0:
            figures = "  ".join(f"{key} {value:.10g}" for key, value in logs.items())
            self.bar.write(f"{self.unit} {i}: {figures}", file=sys.stdout)

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.close()
