"""The `tinygraph` command: train the notebook's classifier, and predict with it.

    tinygraph train                                      # the built-in two moons
    tinygraph train --train train.csv --val validation.csv --hidden 50 --lr 0.01 --iterations 2000
    tinygraph predict --params runs/latest/params.npz --data validation.csv
    tinygraph graph --out runs/graph                     # the classifier's graph, for a lecture

Each subcommand is one `add_<name>_parser` function that declares its options
and one `<name>_command` function that runs it. Bad paths and bad data end with
one line on stderr and exit code 2; every file is written whole or not at all.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

import tinygraph as tg
from tinygraph.viz import GraphvizNotFoundError
from models import data, datasets, graph_views, plots
from models.backends import BACKENDS, train_on
from models.classifier import Classifier, ParameterError, accuracy, to_labels
from models.optimizers import SGD
from models.train import TrainingDivergedError, TrainingResult

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
IMAGE_FEATURES = 64 * 64 * 3
IMAGE_GRID, DECISION_BOUNDARY = "images.png", "decision_boundary.png"
GRAPH = "graph.svg"  # the trained model's computational graph, when Graphviz is installed


# ---- tinygraph train ----------------------------------------------------------------
def add_train_parser(subcommands: Any) -> None:
    p = subcommands.add_parser(
        "train",
        help="train the notebook's one-hidden-layer classifier",
        description="Train the notebook's classifier by gradient descent and write what it learned to --out.",
    )
    source = p.add_argument_group("data (CSV files in the notebook's layout, or a built-in dataset)")
    source.add_argument("--train", type=Path, metavar="PATH", help="training CSV: feature rows, then a 0/1 label row")
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
        "--print-every", type=positive_int, metavar="N", help="also print the losses every N iterations"
    )
    p.add_argument("--out", type=Path, default=Path("runs/latest"), metavar="DIR", help="default: runs/latest")
    p.add_argument(
        "--backend", choices=BACKENDS, default="numpy",
        help="array library to train with: numpy (default), dask (large data, clusters), cupy or torch (GPU)",
    )  # fmt: skip
    p.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler, e.g. tcp://host:8786")
    p.set_defaults(run=train_command)


def train_command(args: argparse.Namespace) -> int:
    dtype = np.dtype(args.dtype)
    (train_X, train_Y, val_X, val_Y), source, (iterations, lr) = load_training_data(args, dtype)
    iterations = iterations if args.iterations is None else args.iterations
    lr = lr if args.lr is None else args.lr
    args.out.mkdir(parents=True, exist_ok=True)  # a bad --out fails now, not after training

    if args.scheduler is not None and args.backend != "dask":
        raise UsageError("--scheduler is the address of a Dask scheduler: give it with --backend dask")
    model = Classifier.initialize(train_X.shape[0], args.hidden, seed=args.seed, dtype=dtype)
    print(
        f"training on {source}: nx={model.nx}, nh={model.nh}, {train_X.shape[1]} training and "
        f"{val_X.shape[1]} validation examples, lr={lr}, {iterations} iterations, {dtype}"
    )
    with ProgressBar(iterations, args.print_every) as progress:
        try:
            result = train_on(
                args.backend, model, (train_X, train_Y, val_X, val_Y), iterations=iterations,
                optimizer=lambda parameters: SGD(parameters, lr), on_iteration=progress, scheduler=args.scheduler,
            )  # fmt: skip
        except TrainingDivergedError as error:
            print(f"tinygraph train: {error}; nothing was written", file=sys.stderr)
            return EXIT_DIVERGED

    metrics = evaluate(result, train_X, train_Y, val_X, val_Y)
    metrics.update(hidden=model.nh, lr=lr, seed=args.seed, dtype=str(dtype), data=source)
    written = write_run(args.out, result, metrics, train_X, train_Y)
    if result.interrupted:
        print(f"interrupted after {result.iterations} of {iterations} iterations; saved what was learned so far")
    print(f"train accuracy: {metrics['train_accuracy']:.4f}   validation accuracy: {metrics['val_accuracy']:.4f}")
    print(f"{result.seconds:.1f} s; wrote {', '.join(written)} to {args.out}")
    return EXIT_INTERRUPTED if result.interrupted else 0


def load_training_data(
    args: argparse.Namespace, dtype: np.dtype
) -> tuple[tuple[np.ndarray, ...], str, tuple[int, float]]:
    """The four arrays, where they came from, and the default (iterations, lr) for them."""
    if (args.train is None) != (args.val is None):
        raise UsageError("give both --train and --val, or neither (for a built-in --dataset)")
    if args.train is not None and args.dataset is not None:
        raise UsageError("give either --train/--val or --dataset, not both")
    if args.train is not None:
        arrays = data.load_train_val(args.train, args.val, dtype=dtype, labels="binary")
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
        with tg.no_grad():
            Yhat = model.forward(X)
            metrics[f"{split}_loss"] = tg.binary_cross_entropy(Yhat, model.as_labels(Y, Yhat.shape[1])).item()
        metrics[f"{split}_accuracy"] = accuracy(Y, to_labels(Yhat.numpy()))
    metrics.update(iterations=result.iterations, seconds=result.seconds, interrupted=result.interrupted)
    return metrics


def write_run(
    out: Path, result: TrainingResult, metrics: dict[str, Any], train_X: np.ndarray, train_Y: np.ndarray
) -> list[str]:
    """history.json, params.npz, metrics.json and the pictures, each written atomically into `out`.

    Returns the names written. A picture that this data does not get (an earlier
    run's images.png in a run on 2-D data) is removed, so the folder describes one run.
    """
    files: dict[str, Callable[[IO[bytes]], None]] = {
        "history.json": json_writer(result.history),
        "params.npz": lambda f: np.savez(f, **result.model.arrays()),
        "metrics.json": json_writer(metrics),
        "learning_curve.png": figure_writer(plots.learning_curve(result.history)),
    }
    if train_X.shape[0] == IMAGE_FEATURES:
        files[IMAGE_GRID] = figure_writer(plots.image_grid(train_X, train_Y))
    elif train_X.shape[0] == 2:
        files[DECISION_BOUNDARY] = figure_writer(plots.decision_boundary(result.model, train_X, train_Y))
    try:
        graph = graph_views.trained_graph_svg(result.model, train_X, train_Y)
        files[GRAPH] = lambda f: f.write(graph)
    except (ImportError, GraphvizNotFoundError) as error:  # Graphviz is optional: the run is complete without it
        print(f"tinygraph train: {GRAPH} not written: {error}", file=sys.stderr)
    for name, write in files.items():
        write_atomically(out / name, write)
    for stale in {IMAGE_GRID, DECISION_BOUNDARY, GRAPH} - files.keys():
        (out / stale).unlink(missing_ok=True)
    return list(files)


class ProgressBar:
    """A tqdm bar showing the current train and validation losses; the notebook's printout every N iterations."""

    def __init__(self, iterations: int, print_every: int | None):
        from tqdm import tqdm

        self.bar = tqdm(total=iterations, desc="training", unit="it", file=sys.stderr, dynamic_ncols=True)
        self.print_every = print_every

    def __call__(self, i: int, train_loss: float, val_loss: float) -> None:
        self.bar.set_postfix_str(f"train_loss={train_loss:.4f} val_loss={val_loss:.4f}", refresh=False)
        self.bar.update()
        if self.print_every and i % self.print_every == 0:
            self.bar.write(f"iteration {i}: train_loss {train_loss:.10g}  val_loss {val_loss:.10g}", file=sys.stdout)

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.close()


# ---- tinygraph graph ----------------------------------------------------------------
def add_graph_parser(subcommands: Any) -> None:
    p = subcommands.add_parser(
        "graph",
        help="draw the notebook's classifier, for a lecture",
        description=(
            "Draw the notebook's classifier on a tiny input into --out: forward.svg, local_grads.svg, "
            "backward.svg, and step-through/step-through.html, the backward pass step by step. "
            "Needs the graphviz package (pip install graphviz) and Graphviz's dot program."
        ),
    )
    p.add_argument("--out", type=Path, default=Path("runs/graph"), metavar="DIR", help="default: runs/graph")
    p.set_defaults(run=graph_command)


def graph_command(args: argparse.Namespace) -> int:
    try:
        written = graph_views.write_graph_views(args.out)
    except ImportError as error:  # graphviz is an optional extra; the message says how to install it
        print(f"tinygraph: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"wrote {', '.join(p.relative_to(args.out).as_posix() for p in written)} to {args.out}")
    return 0


# ---- tinygraph predict --------------------------------------------------------------
def add_predict_parser(subcommands: Any) -> None:
    p = subcommands.add_parser(
        "predict",
        help="predict labels with trained parameters and report the accuracy",
        description="Predict the labels of a CSV in the notebook's layout with a trained params.npz.",
    )
    p.add_argument("--params", type=Path, required=True, metavar="FILE", help="params.npz written by tinygraph train")
    p.add_argument("--data", type=Path, required=True, metavar="FILE", help="CSV: feature rows, then a 0/1 label row")
    p.add_argument("--threshold", type=probability, default=0.5, help="predict 1 above this probability (0.5)")
    p.add_argument("--out", type=Path, metavar="FILE", help="write the predictions here: one row of 0/1 labels")
    p.set_defaults(run=predict_command)


def predict_command(args: argparse.Namespace) -> int:
    model = load_model(args.params)
    X, Y = data.load_csv(args.data, dtype=model.dtype, labels="binary")
    predicted = model.predict(model.as_input(X, what=str(args.data)), threshold=args.threshold)
    print(f"accuracy on {args.data}: {accuracy(Y, predicted):.4f} ({X.shape[1]} examples)")
    if args.out is not None:
        write_atomically(args.out, lambda f: np.savetxt(f, predicted, fmt="%d", delimiter=","))
        print(f"wrote the predictions to {args.out}")
    return 0


def load_model(path: Path) -> Classifier:
    """The classifier saved in a params.npz; anything else is a ParameterError naming the file."""
    try:  # a missing file raises FileNotFoundError, which names it already
        saved = np.load(path, allow_pickle=False)
    except (ValueError, EOFError, zipfile.BadZipFile) as error:
        raise ParameterError(f"{path}: not a .npz file of parameters ({error})") from None
    if not isinstance(saved, np.lib.npyio.NpzFile):
        raise ParameterError(f"{path}: holds a single array, not a .npz file of parameters")
    try:
        with saved:
            return Classifier.from_arrays({name: saved[name] for name in saved.files})
    except (ValueError, tg.TinygraphError, zipfile.BadZipFile) as error:  # the classifier's errors too
        raise ParameterError(f"{path}: {error}") from None


# ---- writing files whole -------------------------------------------------------------
def write_atomically(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write `path` through a temporary file in the same folder, renamed into place once complete."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # os.open, not mkstemp: the file gets the permissions of any new file (the umask's), not 0600.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


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


def probability(text: str) -> float:
    return _number(text, float, lambda v: 0 <= v <= 1, "a number from 0 to 1")


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
    add_graph_parser(subcommands)
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
