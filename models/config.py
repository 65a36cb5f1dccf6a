"""What one training run does, every default resolved once: `tinygraph train`'s options as one object.

`TrainingConfig()` is `tinygraph train` with no options; `TrainingConfig.from_args`
builds one from the command line. Two presets give the defaults of what is not given:

    the notebook's (no --layers)  its classifier: one ReLU hidden layer of --hidden units,
                                  weights drawn as the notebook draws them, full-batch
                                  gradient descent (SGD) for a number of iterations, at a
                                  learning rate that suits the data
    a deeper net's (--layers)     Xavier weights, Adam at its own default lr (torch's),
                                  batches of 32 (Keras's), 50 epochs

Any option given overrides its preset's value, in either preset.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tinygraph as tg
from tinygraph.models.classifier import Classifier
from tinygraph.models.cnn import CNN
from tinygraph.models.data import Labels
from tinygraph.models.datasets import IMAGE_SHAPE
from tinygraph.models.errors import UsageError
from tinygraph.models.mlp import MLP
from tinygraph.models.optimizers import OPTIMIZERS, Optimizer, StepDecay

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
# Deeper nets: Keras's batch size, torch's optimiser defaults, and enough epochs for two
# hidden layers to pass 0.97 validation accuracy on every built-in dataset.
DEFAULT_DATASET = "moons"  # when no CSV is given
DEEP_DEFAULTS: dict[str, Any] = {"init": "xavier", "optimizer": "adam", "batch_size": 32, "epochs": 50}


@dataclass(frozen=True)
class TrainingConfig:
    """Every setting of a run, resolved: what the CLI prints, trains with and records in metrics.json."""

    # the data: two CSV files in the notebook's layout, or a built-in dataset
    train: Path | None = None
    val: Path | None = None
    dataset: str | None = DEFAULT_DATASET
    dtype: str = "float64"
    # the network: the notebook's classifier of `hidden` units, or hidden `layers` of these sizes
    hidden: int = 50
    layers: tuple[int, ...] | None = None
    activation: str = "relu"
    init: str = "uniform"
    dropout: float = 0.0
    classes: int | None = None  # None: the largest label + 1
    conv: tuple[int, ...] | None = None  # a CNN's filters per block (tinygraph.models.cnn); None: no convolution
    image_shape: tuple[int, int, int] = IMAGE_SHAPE
    augment: bool = False
    # training: `iterations` updates or `epochs` passes (one of the two)
    optimizer: str = "sgd"
    lr: float = DATASET_DEFAULTS[DEFAULT_DATASET][1]
    iterations: int | None = DATASET_DEFAULTS[DEFAULT_DATASET][0]
    epochs: int | None = None
    batch_size: int | None = None  # None: the whole training set, the notebook's way
    l2: float = 0.0
    early_stopping: int | None = None
    lr_decay_every: int | None = None
    lr_decay: float = 0.1
    seed: int = 1
    backend: str = "numpy"
    scheduler: str | None = None  # a running Dask scheduler's address
    # what is written, and how often the losses are printed
    out: Path | None = None  # None: the next numbered folder under runs/, which runs/latest then points at
    overwrite: bool = False  # whether an `out` that holds files (an earlier run) may be replaced
    print_every: int | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> TrainingConfig:
        """The configuration the options of `tinygraph train` ask for; UsageError for options that clash."""
        check_options(args)
        given = {field.name: getattr(args, field.name, None) for field in dataclasses.fields(cls)}
        given = {name: value for name, value in given.items() if value is not None}
        for name in ("layers", "conv"):
            if given.get(name) is not None:
                given[name] = tuple(given[name])
        csv = args.train is not None
        dataset = None if csv else args.dataset or DEFAULT_DATASET
        iterations, lr = (NOTEBOOK_ITERATIONS, NOTEBOOK_LR) if csv else DATASET_DEFAULTS[dataset]
        deep = args.layers is not None or getattr(args, "conv", None) is not None
        preset: dict[str, Any] = dict(DEEP_DEFAULTS) if deep else {"iterations": iterations}
        if getattr(args, "conv", None) is not None:
            preset["init"] = "he"  # filters feeding ReLUs; the notebook's +-0.01 would fade out through the blocks
        if args.epochs is not None or args.iterations is not None:  # the count given replaces the preset's
            preset.pop("iterations", None)
            preset.pop("epochs", None)
        optimizer = given.get("optimizer", preset.get("optimizer", cls.optimizer))
        # The dataset's lr belongs to the notebook's gradient descent; another optimiser starts from its own.
        preset["lr"] = lr if not deep and optimizer == "sgd" else OPTIMIZERS[optimizer].default_lr
        return cls(**{"iterations": None, **preset, **given, "dataset": dataset})

    # ---- what the settings imply -------------------------------------------------------
    @property
    def hidden_layers(self) -> list[int]:
        """The hidden layers' sizes: --layers, or the notebook's one layer of --hidden units (none after --conv)."""
        if self.layers is not None:
            return list(self.layers)
        return [] if self.conv is not None else [self.hidden]

    @property
    def labels(self) -> Labels:
        """How the labels are checked: 0/1 for the notebook's classifier, 0..K-1 otherwise."""
        return "binary" if self.layers is None and self.classes in (None, 2) else "classes"

    @property
    def source(self) -> str:
        """Where the data come from, in words."""
        return f"{self.train} and {self.val}" if self.train is not None else f"the built-in dataset {self.dataset!r}"

    def settings(self, classes: int) -> dict[str, Any]:
        """The settings that shape the result, as metrics.json records them beside the figures."""
        return {
            "layers": self.hidden_layers, "activation": self.activation, "init": self.init,
            "optimizer": self.optimizer, "lr": self.lr, **self.count, "batch_size": self.batch_size, "l2": self.l2,
            "dropout": self.dropout, "early_stopping": self.early_stopping, "classes": classes,
            **({"conv": list(self.conv), "augment": self.augment} if self.conv is not None else {}),
        }  # fmt: skip

    def network(self, nx: int, classes: int) -> MLP:
        """The untrained network for `nx` features and `classes` classes, of the configured dtype.

        The notebook's settings (one ReLU layer, its uniform weights, no dropout, two
        classes) make its classifier, with the named intermediates of its pictures.
        """
        if self.conv is not None:
            outputs = 1 if classes == 2 else classes
            return CNN(self.image_shape, self.conv, self.hidden_layers, outputs, self.activation, init=self.init,
                       seed=self.seed, dropout=self.dropout, augment=self.augment, dtype=self.dtype)  # fmt: skip
        if self.layers is None and (self.activation, self.init, self.dropout, classes) == ("relu", "uniform", 0.0, 2):
            return Classifier(nx, self.hidden, seed=self.seed, dtype=self.dtype)
        sizes = [nx, *self.hidden_layers, 1 if classes == 2 else classes]
        return MLP(sizes, self.activation, init=self.init, seed=self.seed, dropout=self.dropout, dtype=self.dtype)

    def make_optimizer(self, parameters: list[tg.Tensor]) -> Optimizer:
        return OPTIMIZERS[self.optimizer](parameters, lr=self.lr, weight_decay=self.l2)

    def make_schedule(self, optimizer: Optimizer) -> StepDecay | None:
        return None if self.lr_decay_every is None else StepDecay(optimizer, self.lr_decay_every, self.lr_decay)

    @property
    def count(self) -> dict[str, int | None]:
        """How long to train, as train() takes it: {"iterations": N} or {"epochs": N}."""
        return {"epochs": self.epochs} if self.epochs is not None else {"iterations": self.iterations}

    def train_options(self) -> dict[str, Any]:
        """train()'s options for how long and how: iterations or epochs, batch size, shuffling, patience."""
        return {**self.count, "batch_size": self.batch_size, "shuffle_seed": self.seed,
                "early_stopping": self.early_stopping}  # fmt: skip


def check_options(args: argparse.Namespace) -> None:
    """Options that clash, named the way the user typed them."""
    if (args.train is None) != (args.val is None):
        raise UsageError("give both --train and --val, or neither (for a built-in --dataset)")
    if args.train is not None and args.dataset is not None:
        raise UsageError("give either --train/--val or --dataset, not both")
    if args.scheduler is not None and args.backend != "dask":
        raise UsageError("--scheduler is the address of a Dask scheduler: give it with --backend dask")
    if args.epochs is not None and args.iterations is not None:
        raise UsageError("give --epochs or --iterations, not both")
    if args.train is not None and str(args.train) == str(args.val) == "-":
        raise UsageError("--train and --val cannot both read standard input ('-')")
    if args.lr_decay is not None and args.lr_decay_every is None:
        raise UsageError("--lr-decay needs --lr-decay-every N, the epochs between decays")
