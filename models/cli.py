"""The `tinygraph` command: train the notebook's classifier or a deeper net, and predict with it.

    tinygraph train                                      # the built-in two moons
    tinygraph train --train train.csv --val validation.csv --hidden 50 --lr 0.01 --iterations 2000
    tinygraph train --dataset spirals --layers 64,32 --optimizer adam --batch-size 32 --dropout 0.1
    tinygraph predict --params runs/latest/params.npz --data validation.csv
    tinygraph graph --out runs/graph                     # the classifier's graph, for a lecture

Each subcommand is one `add_<name>_parser` function that declares its options
and one `<name>_command` function that runs it. Bad paths and bad data end with
one line on stderr and exit code 2; every file is written whole or not at all.
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import sys
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

import tinygraph as tg
from tinygraph.viz import GraphvizNotFoundError
from models import data, datasets, graph_command, graph_views, plots
from models.backends import BACKENDS, train_on
from models.classifier import Classifier, ParameterError, accuracy
from models.initializers import INITIALIZERS
from models.mlp import ACTIVATIONS, MLP
from models.optimizers import OPTIMIZERS, SGD, Optimizer, StepDecay
from models.train import IterationCallback, TrainingDivergedError, TrainingResult

EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 1
EXIT_INTERRUPTED = 130  # the shell's code for a program stopped by Ctrl-C

NOTEBOOK_ITERATIONS, NOTEBOOK_LR = 2000, 0.01  # the notebook's run, the defaults for CSV data
# Per built-in dataset: (iterations, learning rate), measured to reach >= 0.9 validation
# accuracy with the default seed (moons, circles and xor with seeds 1 to 5 as well).
# The notebook's lr = 0.01 suits its 12,288 pixel features; with 2 features and
# weights starting at +-0.01 it would need hundreds of thousands of iterations to
# leave the nearly linear start.
DATASET_DEFAULTS: dict[str, tuple[int, float]] = {
    "moons": (4000, 2.0),
    "circles": (1000, 2.0),
    "xor": (1000, 2.0),
    "spirals": (5000, 2.0),
}
IMAGE_FEATURES = math.prod(datasets.IMAGE_SHAPE)
IMAGE_GRID, DECISION_BOUNDARY = "images.png", "decision_boundary.png"
GRAPH = "graph.svg"  # the trained model's computational graph, when Graphviz is installed
ARCHITECTURE = "architecture"  # the entry of params.npz that says which network its arrays make

# Deeper nets (--layers): Keras's batch size, torch's optimiser defaults, and enough
# epochs for two hidden layers to pass 0.97 validation accuracy on every built-in dataset.
DEEP_DEFAULTS = {"optimizer": "adam", "batch_size": 32, "epochs": 50, "activation": "relu", "init": "xavier"}
DEEP_ONLY = ("activation", "init", "optimizer", "batch_size", "l2", "dropout", "early_stopping", "lr_decay_every",
             "lr_decay", "classes")  # fmt: skip


# ---- tinygraph train ----------------------------------------------------------------
def add_train_parser(subcommands: Any) -> None:
    p = subcommands.add_parser(
        "train",
        help="train the notebook's one-hidden-layer classifier, or a deeper net (--layers)",
        description="Train the notebook's classifier by gradient descent, or a multi-layer perceptron "
        "(--layers), and write what it learned to --out.",
    )
    source = p.add_argument_group("data (CSV files in the notebook's layout, or a built-in dataset)")
    source.add_argument(
        "--train", type=Path, metavar="PATH",
        help="training CSV: feature rows, then a 0/1 label row (0..K-1 with --layers)",
    )  # fmt: skip
    source.add_argument("--val", type=Path, metavar="PATH", help="validation CSV, laid out as --train")
    source.add_argument(
        "--dataset",
        choices=sorted(datasets.DATASETS),
        help="a built-in 2-D dataset (default when no CSV is given: moons)",
    )
    p.add_argument("--hidden", type=positive_int, default=50, help="hidden units nh (default: 50)")
    p.add_argument(
        "--lr", type=positive_float, help=f"learning rate (default: {NOTEBOOK_LR} for CSV data; per dataset otherwise)"
    )
    p.add_argument(
        "--iterations",
        type=non_negative_int,
        help=f"gradient-descent iterations (default: {NOTEBOOK_ITERATIONS} for CSV data; per dataset otherwise)",
    )
    p.add_argument("--seed", type=int, default=1, help="seed of the initial weights (default: 1, as the notebook)")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64", help="default: float64")
    p.add_argument(
        "--print-every", type=positive_int, metavar="N",
        help="also print the losses every N iterations (epochs with --layers)",
    )  # fmt: skip
    p.add_argument("--out", type=Path, default=Path("runs/latest"), metavar="DIR", help="default: runs/latest")
    p.add_argument(
        "--backend", choices=BACKENDS, default="numpy",
        help="array library to train with: numpy (default), dask (large data, clusters), cupy or torch (GPU)",
    )  # fmt: skip
    p.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler, e.g. tcp://host:8786")
    p.add_argument("--epochs", type=non_negative_int, help="passes over the training data (instead of --iterations)")
    add_deep_net_options(p)
    p.set_defaults(run=train_command)


def add_deep_net_options(p: argparse.ArgumentParser) -> None:
    deep = p.add_argument_group(
        "deeper nets (--layers trains a multi-layer perceptron; the other options here need it)",
        f"defaults: --optimizer {DEEP_DEFAULTS['optimizer']} with its own default lr, --batch-size "
        f"{DEEP_DEFAULTS['batch_size']}, --epochs {DEEP_DEFAULTS['epochs']}",
    )
    deep.add_argument("--layers", type=layer_sizes, metavar="N,N,...", help="hidden layer sizes, e.g. 64,32")
    deep.add_argument("--activation", choices=ACTIVATIONS, help="of every hidden layer (default: relu)")
    deep.add_argument("--init", choices=INITIALIZERS, help="initial weights (default: xavier; uniform: the notebook's)")
    deep.add_argument("--optimizer", choices=OPTIMIZERS)
    deep.add_argument("--batch-size", type=positive_int, metavar="N", help="examples per update")
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


def train_command(args: argparse.Namespace) -> int:
    dtype = np.dtype(args.dtype)
    check_train_options(args)
    arrays, source, defaults = load_training_data(args, dtype, labels="binary" if args.layers is None else "classes")
    train_X, train_Y, val_X, val_Y = arrays
    args.out.mkdir(parents=True, exist_ok=True)  # a bad --out fails now, not after training

    plan = plan_classifier(args, arrays, defaults) if args.layers is None else plan_mlp(args, arrays)
    print(
        f"training on {source}: {plan.model}, {train_X.shape[1]} training and {val_X.shape[1]} validation "
        f"examples, {', '.join(f'{key}={value}' for key, value in plan.settings.items())}, {dtype}"
    )
    with ProgressBar(plan.epochs, args.print_every, plan.unit) as progress:
        try:
            result = plan.run(progress)
        except TrainingDivergedError as error:
            print(f"tinygraph train: {error}; nothing was written", file=sys.stderr)
            return EXIT_DIVERGED

    # What training did (iterations, epochs) overrides what was planned.
    metrics = plan.settings | evaluate(result, train_X, train_Y, val_X, val_Y)
    metrics.update(seed=args.seed, dtype=str(dtype), data=source)
    written = write_run(args.out, result, metrics, train_X, train_Y)
    if result.interrupted:
        print(f"interrupted after {result.iterations} iterations; saved what was learned so far")
    if result.stopped_early:
        print("stopped early: the validation loss stopped improving")
    if result.best_epoch is not None and (result.stopped_early or result.interrupted):
        print(f"kept the parameters of epoch {result.best_epoch}, the lowest validation loss")
    print(f"train accuracy: {metrics['train_accuracy']:.4f}   validation accuracy: {metrics['val_accuracy']:.4f}")
    print(f"{result.seconds:.1f} s; wrote {', '.join(written)} to {args.out}")
    return EXIT_INTERRUPTED if result.interrupted else 0


@dataclass
class Plan:
    """A model and how to train it: what train_command prints, runs, and records in metrics.json."""

    model: Classifier | MLP
    epochs: int  # the history's length, unless training stops early
    unit: str  # what one entry of the history is: "iteration" (the whole batch) or "epoch"
    settings: dict[str, Any]
    run: Callable[[IterationCallback], TrainingResult]


def check_train_options(args: argparse.Namespace) -> None:
    if args.scheduler is not None and args.backend != "dask":
        raise UsageError("--scheduler is the address of a Dask scheduler: give it with --backend dask")
    if args.epochs is not None and args.iterations is not None:
        raise UsageError("give --epochs or --iterations, not both")
    if args.layers is None:
        given = [option for option in DEEP_ONLY if getattr(args, option) is not None]
        if given:
            option = "--" + given[0].replace("_", "-")
            raise UsageError(f"{option} is for deeper nets: give --layers too (e.g. --layers 64,32)")
    if args.lr_decay is not None and args.lr_decay_every is None:
        raise UsageError("--lr-decay needs --lr-decay-every N, the epochs between decays")


def plan_classifier(args: argparse.Namespace, arrays: tuple[np.ndarray, ...], defaults: tuple[int, float]) -> Plan:
    """The notebook's classifier and its gradient descent: full batch, SGD; an epoch is an iteration."""
    iterations = next(count for count in (args.iterations, args.epochs, defaults[0]) if count is not None)
    lr = defaults[1] if args.lr is None else args.lr
    model = Classifier.initialize(arrays[0].shape[0], args.hidden, seed=args.seed, dtype=arrays[0].dtype)

    def run(progress: IterationCallback) -> TrainingResult:
        return train_on(
            args.backend, model, arrays, iterations=iterations,
            optimizer=lambda parameters: SGD(parameters, lr), on_iteration=progress, scheduler=args.scheduler,
        )  # fmt: skip

    return Plan(model, iterations, "iteration", {"hidden": model.nh, "lr": lr, "iterations": iterations}, run)


def plan_mlp(args: argparse.Namespace, arrays: tuple[np.ndarray, ...]) -> Plan:
    """A multi-layer perceptron and the mini-batch loop, from --layers and the deeper-net options."""
    train_X, train_Y, _, val_Y = arrays
    options = {key: DEEP_DEFAULTS[key] if getattr(args, key) is None else getattr(args, key) for key in DEEP_DEFAULTS}
    classes = count_classes(args.classes, train_Y, val_Y)
    model = MLP(
        [train_X.shape[0], *args.layers, 1 if classes == 2 else classes], options["activation"],
        init=options["init"], seed=args.seed, dropout=args.dropout or 0.0, dtype=train_X.dtype,
    )  # fmt: skip
    optimizer_class = OPTIMIZERS[options["optimizer"]]
    lr = args.lr or inspect.signature(optimizer_class).parameters["lr"].default
    epochs, batch_size = options.pop("epochs"), options["batch_size"]
    counted = {"epochs": epochs} if args.iterations is None else {"iterations": args.iterations}
    settings = {
        "layers": args.layers, **options, "lr": lr, **counted, "l2": args.l2 or 0.0, "dropout": model.dropout,
        "early_stopping": args.early_stopping, "classes": classes,
    }  # fmt: skip

    def optimizer(parameters: list[tg.Tensor]) -> Optimizer:
        return optimizer_class(parameters, lr=lr, weight_decay=args.l2 or 0.0)

    def schedule(optimizer: Optimizer) -> StepDecay | None:
        return None if args.lr_decay_every is None else StepDecay(optimizer, args.lr_decay_every, args.lr_decay or 0.1)

    def run(progress: IterationCallback) -> TrainingResult:
        return train_on(
            args.backend, model, arrays, optimizer=optimizer, schedule=schedule, on_iteration=progress,
            scheduler=args.scheduler, **counted, batch_size=batch_size, shuffle_seed=args.seed,
            early_stopping=args.early_stopping,
        )  # fmt: skip

    if args.iterations is not None:  # the progress bar counts epochs, the last one perhaps partial
        epochs = -(-args.iterations // -(-train_X.shape[1] // batch_size))
    return Plan(model, epochs, "epoch", settings, run)


def count_classes(given: int | None, train_Y: np.ndarray, val_Y: np.ndarray) -> int:
    """K: --classes, or the largest label + 1; every label must be below it."""
    largest = int(max(train_Y.max(), val_Y.max()))
    classes = max(largest + 1, 2) if given is None else given
    if classes < 2:
        raise UsageError(f"--classes {classes}: a classifier needs at least 2 classes")
    if largest >= classes:
        raise data.DataError(f"the labels go up to {largest}, but --classes {classes} allows 0 to {classes - 1}")
    return classes


def load_training_data(
    args: argparse.Namespace, dtype: np.dtype, labels: data.Labels = "binary"
) -> tuple[tuple[np.ndarray, ...], str, tuple[int, float]]:
    """The four arrays, where they came from, and the default (iterations, lr) for them."""
    if (args.train is None) != (args.val is None):
        raise UsageError("give both --train and --val, or neither (for a built-in --dataset)")
    if args.train is not None and args.dataset is not None:
        raise UsageError("give either --train/--val or --dataset, not both")
    if args.train is not None:
        arrays = data.load_train_val(args.train, args.val, dtype=dtype, labels=labels)
        return arrays, f"{args.train} and {args.val}", (NOTEBOOK_ITERATIONS, NOTEBOOK_LR)
    name = args.dataset or "moons"
    arrays = tuple(a.astype(dtype) for a in datasets.load_builtin(name))
    return arrays, f"the built-in dataset {name!r}", DATASET_DEFAULTS[name]


def evaluate(
    result: TrainingResult, train_X: np.ndarray, train_Y: np.ndarray, val_X: np.ndarray, val_Y: np.ndarray
) -> dict[str, Any]:
    """Accuracies and losses of the trained parameters, and how training went."""
    model = result.model
    metrics: dict[str, Any] = {}
    for split, X, Y in (("train", train_X, train_Y), ("val", val_X, val_Y)):
        with tg.no_grad():  # evaluation mode: no dropout
            metrics[f"{split}_loss"] = model.loss(X, Y).item()
        metrics[f"{split}_accuracy"] = accuracy(Y, model.predict(X))
    metrics.update(
        iterations=result.iterations, epochs=len(result.history["val_loss"]), seconds=result.seconds,
        interrupted=result.interrupted, stopped_early=result.stopped_early, best_epoch=result.best_epoch,
    )  # fmt: skip
    return metrics


def write_run(
    out: Path, result: TrainingResult, metrics: dict[str, Any], train_X: np.ndarray, train_Y: np.ndarray
) -> list[str]:
    """history.json, params.npz, metrics.json and the pictures, each written atomically into `out`.

    Returns the names written. A picture that this data does not get (an earlier
    run's images.png in a run on 2-D data) is removed, so the folder describes one run.
    """
    files: dict[str, Callable[[IO[bytes]], None]] = {
        "history.json": json_writer({"per": result.per, **result.history}),
        "params.npz": lambda f: np.savez(f, **result.model.arrays(), **{ARCHITECTURE: architecture_of(result.model)}),
        "metrics.json": json_writer(metrics),
        "learning_curve.png": figure_writer(plots.learning_curve(result.history, result.per)),
    }
    if train_X.shape[0] == IMAGE_FEATURES and train_Y.max() <= 1:
        files[IMAGE_GRID] = figure_writer(plots.image_grid(train_X, train_Y))
    elif train_X.shape[0] == 2 and train_Y.max() <= 1:  # the pictures know two classes
        files[DECISION_BOUNDARY] = figure_writer(plots.decision_boundary(result.model, train_X, train_Y))
    try:
        graph = graph_views.trained_graph_svg(result.model, train_X, train_Y)
        files[GRAPH] = lambda f: f.write(graph)
    except (ImportError, GraphvizNotFoundError) as error:  # Graphviz is optional: the run is complete without it
        print(f"tinygraph train: {GRAPH} not written: {error}", file=sys.stderr)
    for name, write in files.items():
        data.write_atomically(out / name, write)
    for stale in {IMAGE_GRID, DECISION_BOUNDARY, GRAPH} - files.keys():
        (out / stale).unlink(missing_ok=True)
    return list(files)


def architecture_of(model: Classifier | MLP) -> np.ndarray:
    """MLP.architecture() as JSON text in a 0-d array, which np.load reads without pickle.

    The notebook's classifier is saved as what it is, MLP([nx, nh, 1], "relu"), so
    `tinygraph predict` rebuilds every saved network one way.
    """
    if isinstance(model, Classifier):
        architecture = {"layer_sizes": [model.nx, model.nh, 1], "activations": ["relu"]}
    else:
        architecture = model.architecture()
    return np.array(json.dumps(architecture))


class ProgressBar:
    """A tqdm bar showing the current train and validation losses; the notebook's printout every N iterations."""

    def __init__(self, total: int, print_every: int | None, unit: str = "iteration"):
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc="training", unit=unit, file=sys.stderr, dynamic_ncols=True)
        self.print_every, self.unit = print_every, unit

    def __call__(self, i: int, train_loss: float, val_loss: float) -> None:
        self.bar.set_postfix_str(f"train_loss={train_loss:.4f} val_loss={val_loss:.4f}", refresh=False)
        self.bar.update()
        if self.print_every and i % self.print_every == 0:
            self.bar.write(f"{self.unit} {i}: train_loss {train_loss:.10g}  val_loss {val_loss:.10g}", file=sys.stdout)

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.close()


# ---- tinygraph predict --------------------------------------------------------------
def add_predict_parser(subcommands: Any) -> None:
    p = subcommands.add_parser(
        "predict",
        help="predict labels with trained parameters and report the accuracy",
        description="Predict the labels of a CSV in the notebook's layout with a trained params.npz.",
    )
    p.add_argument("--params", type=Path, required=True, metavar="FILE", help="params.npz written by tinygraph train")
    p.add_argument(
        "--data", type=Path, required=True, metavar="FILE",
        help="CSV: feature rows, then a row of labels (0/1, or 0..K-1 for a network of K classes)",
    )  # fmt: skip
    p.add_argument(
        "--threshold", type=probability, default=0.5, help="two classes: predict 1 above this probability (0.5)"
    )
    p.add_argument("--out", type=Path, metavar="FILE", help="write the predictions here: one row of labels")
    p.set_defaults(run=predict_command)


def predict_command(args: argparse.Namespace) -> int:
    model = load_model(args.params)
    labels = "classes" if isinstance(model, MLP) and model.output == "softmax" else "binary"
    X, Y = data.load_csv(args.data, dtype=model.dtype, labels=labels)
    predicted = model.predict(model.as_input(X, what=str(args.data)), threshold=args.threshold)
    print(f"accuracy on {args.data}: {accuracy(Y, predicted):.4f} ({X.shape[1]} examples)")
    if args.out is not None:
        data.write_atomically(args.out, lambda f: np.savetxt(f, predicted, fmt="%d", delimiter=","))
        print(f"wrote the predictions to {args.out}")
    return 0


def load_model(path: Path) -> Classifier | MLP:
    """The network saved in a params.npz; anything else is a ParameterError naming the file.

    A file with an architecture entry (every file tinygraph train writes) makes an
    MLP; one without is the notebook's classifier, W1, b1, W2 and b2.
    """
    try:  # a missing file raises FileNotFoundError, which names it already
        saved = np.load(path, allow_pickle=False)
    except (ValueError, EOFError, zipfile.BadZipFile) as error:
        raise ParameterError(f"{path}: not a .npz file of parameters ({error})") from None
    if not isinstance(saved, np.lib.npyio.NpzFile):
        raise ParameterError(f"{path}: holds a single array, not a .npz file of parameters")
    try:
        with saved:
            arrays = {name: saved[name] for name in saved.files if name != ARCHITECTURE}
            if ARCHITECTURE not in saved.files:
                return Classifier.from_arrays(arrays)
            return MLP.from_architecture(json.loads(str(saved[ARCHITECTURE])), arrays)
    except (ValueError, KeyError, tg.TinygraphError, zipfile.BadZipFile) as error:  # the models' errors too
        raise ParameterError(f"{path}: {describe(error)}") from None


# ---- what each output file holds (written whole by data.write_atomically) ---------------
def json_writer(value: Any) -> Callable[[IO[bytes]], None]:
    return lambda f: f.write(json.dumps(value, indent=1).encode())


def figure_writer(figure: Any) -> Callable[[IO[bytes]], None]:
    return lambda f: figure.savefig(f, format="png", dpi=100)


# ---- the command line ---------------------------------------------------------------
class UsageError(Exception):
    """Options that do not go together."""


def positive_int(text: str) -> int:
    return _number(text, int, lambda v: v > 0, "a whole number above 0")


def non_negative_int(text: str) -> int:
    return _number(text, int, lambda v: v >= 0, "a whole number, 0 or more")


def positive_float(text: str) -> float:
    return _number(text, float, lambda v: 0 < v < float("inf"), "a number above 0")


def non_negative_float(text: str) -> float:
    return _number(text, float, lambda v: 0 <= v < float("inf"), "a number, 0 or more")


def probability(text: str) -> float:
    return _number(text, float, lambda v: 0 <= v <= 1, "a number from 0 to 1")


def dropout_rate(text: str) -> float:
    return _number(text, float, lambda v: 0 <= v < 1, "a probability from 0 up to (not including) 1")


def decay_factor(text: str) -> float:
    return _number(text, float, lambda v: 0 < v <= 1, "a factor above 0, at most 1")


def layer_sizes(text: str) -> list[int]:
    """'64,32' -> [64, 32]: the hidden layers' sizes."""
    try:
        return [positive_int(size) for size in text.split(",")]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"{text!r} is not hidden layer sizes such as 64,32") from None


def _number(text: str, kind: type, ok: Callable[[Any], bool], what: str) -> Any:
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not ok(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tinygraph", description=__doc__.split("\n\n")[0])
    subcommands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    add_train_parser(subcommands)
    add_predict_parser(subcommands)
    graph_command.add_parser(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except UsageError as error:
        parser.error(str(error))  # argparse's usage line, and exit code 2
    except (OSError, data.DataError, tg.TinygraphError) as error:
        print(f"tinygraph: error: {describe(error)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:  # outside training, e.g. while loading a large CSV
        print("tinygraph: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def describe(error: Exception) -> str:
    """One line for the user: the OS's errors name the file themselves only in their filename field."""
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or error}"
    return str(error)


if __name__ == "__main__":
    sys.exit(main())
