"""`tinygraph tune`: search train's hyperparameters with Optuna, then train the best trial into a run folder.

    tinygraph tune --dataset spirals --space "lr=0.1..10:log hidden=5..100" --trials 30
    tinygraph tune --dataset spirals --space "layers=16|32,32 lr=1e-3..1e-1:log epochs=20" --jobs 2

The study lives in --storage (runs/tune.db by default): the same command run
again goes on where it stopped. --out (runs/tune/STUDY) receives trials.csv,
Optuna's plots and best/, a normal run folder for `tinygraph predict`.
Optuna is imported when the command runs, so the other commands start without it.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinygraph.models.commands import arguments
from tinygraph.models.commands import train as train_command
from tinygraph.models.errors import UsageError
from tinygraph.models.run_folder import RunFolder, check_destination
from tinygraph.errors import TinygraphError

if TYPE_CHECKING:  # imported when the command runs: the other commands start without Optuna
    import optuna

    from tinygraph.models.tune import Settings
    from tinygraph.models.tune_space import Space

METRICS = {"val_accuracy": "maximize", "val_loss": "minimize"}  # what the study does with each
SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "halving", "none")
REPORT = {"trials.csv", "history.png", "slice.png", "curves.png", "importances.png", "best"}  # what run() writes
DATA_OPTIONS = ("train", "val", "dataset", "dtype")  # tune's own, as train's, and given to every trial
DEFAULT_TRIALS = 20
DEFAULT_STORAGE = "sqlite:///runs/tune.db"


def add_parser(subcommands: Any) -> None:
    p = subcommands.add_parser(
        "tune",
        help="search train's hyperparameters (Optuna), then train the best",
        description="Search tinygraph train's hyperparameters with Optuna: --space says which and where. "
        "Rerun the same command to resume a study.",
    )
    data = p.add_argument_group("data (as tinygraph train's)")
    train = {action.dest: action for action in train_parser()._actions}  # argparse has no public lookup
    for name in DATA_OPTIONS:
        action = train[name]
        data.add_argument(
            f"--{name}", type=action.type, choices=action.choices, default=action.default, metavar=action.metavar,
            help=action.help,
        )  # fmt: skip
    p.add_argument(
        "--space", required=True, metavar="SPACE",
        help='train\'s options to search, e.g. "lr=1e-4..1:log hidden=10..200 optimizer=sgd,adam layers=16|32,32 '
        'epochs=20": ranges (:log scale, :STEP), choices, or one fixed value',
    )  # fmt: skip
    p.add_argument("--metric", choices=METRICS, default="val_accuracy", help="maximise accuracy or minimise loss")
    p.add_argument("--sampler", choices=SAMPLERS, default="tpe", help="Optuna's sampler (default: tpe)")
    p.add_argument(
        "--pruner", choices=PRUNERS, default="median",
        help="stop unpromising trials from their validation curve (default: median; halving: successive halving)",
    )  # fmt: skip
    p.add_argument(
        "--trials", type=arguments.positive_int, metavar="N",
        help=f"trials done in the study, earlier runs' included (default: {DEFAULT_TRIALS}; no limit with --timeout; "
        "the grid's size with --sampler grid)",
    )  # fmt: skip
    p.add_argument("--timeout", type=arguments.positive_float, metavar="SECONDS", help="start no trial after this time")
    p.add_argument("--seed", type=int, default=1, help="seeds the sampler and every trial's weights (default: 1)")
    p.add_argument("--study", metavar="NAME", help="the study's name (default: made from the data and the options)")
    p.add_argument(
        "--storage", metavar="URL", default=DEFAULT_STORAGE, help=f"Optuna storage (default: {DEFAULT_STORAGE})"
    )
    p.add_argument(
        "--jobs", type=arguments.positive_int, metavar="N",
        help="trials at once: processes sharing the cores (default: 1; with --scheduler, the cluster's threads)",
    )  # fmt: skip
    p.add_argument("--scheduler", metavar="ADDRESS", help="run the trials on this Dask cluster (shared --storage)")
    p.add_argument("--out", type=Path, metavar="DIR", help="trials.csv, plots and best/ (default: runs/tune/STUDY)")
    p.add_argument("--overwrite", action="store_true", help="replace an --out that holds files tune did not write")
    p.set_defaults(run=run)


def train_parser() -> argparse.ArgumentParser:
    """`tinygraph train`'s parser, raising argparse.ArgumentError instead of exiting."""
    subcommands = argparse.ArgumentParser(prog="tinygraph").add_subparsers()
    train_command.add_parser(subcommands)
    parser = subcommands.choices["train"]
    parser.exit_on_error, parser.allow_abbrev = False, False
    return parser


def run(args: argparse.Namespace) -> int:
    require_tune_packages()
    from tinygraph.models import tune, tune_report

    settings, trials = prepare(args)
    out = args.out or Path("runs/tune") / settings.study_name
    # A study run again replaces the report it wrote before; any other folder needs --overwrite. Checked now,
    # before any trial.
    ours = out.is_dir() and {p.name for p in out.iterdir()} <= REPORT
    destination = check_destination(out, overwrite=args.overwrite or ours)
    study = tune.open_study(settings)
    done = len(tune.counted(study))
    print(f"study {settings.study_name!r} in {args.storage}: {done} trials done" + (f" of {trials}" if trials else ""))
    interrupted = search(study, settings, args, trials, done)

    rows = tune_report.trial_rows(study, args.metric)
    print(tune_report.format_table(rows))
    with RunFolder(destination) as folder:  # the table and the plots appear together, or not at all
        tune_report.write_csv(folder / "trials.csv", rows)
        written = ["trials.csv", *tune_report.write_plots(study, folder)]
    print(f"wrote {', '.join(written)} to {out}")
    if interrupted:
        print("interrupted: run the same command again to go on")
        return arguments.EXIT_INTERRUPTED
    return train_best(study, settings, out / "best")


def require_tune_packages() -> None:
    try:
        import optuna
        import threadpoolctl  # noqa: F401  (each trial records the BLAS threads it had)
    except ImportError as error:
        raise TunePackagesMissingError(f"tinygraph tune needs {error.name}: pip install 'tinygraph[tune]'") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the progress bar and the table say what happens


class TunePackagesMissingError(TinygraphError, ImportError):
    """Optuna or threadpoolctl is not installed."""


def prepare(args: argparse.Namespace) -> tuple[Settings, int | None]:
    """The study's settings and the number of trials to reach, every option checked before the first trial."""
    from tinygraph.models import tune
    from tinygraph.models.config import TrainingConfig
    from tinygraph.models.tune_space import SpaceError, parse_space

    space = parse_space(args.space)
    trials = DEFAULT_TRIALS if args.trials is None and args.timeout is None else args.trials
    if args.sampler == "grid":  # a range without a step fails here, naming it
        size = len(space.grid(args.seed))
        trials = size if args.trials is None else min(args.trials, size)
    given = {name: getattr(args, name) for name in DATA_OPTIONS if getattr(args, name) is not None}
    train_argv = [*(f"--{name}={value}" for name, value in given.items()), f"--seed={args.seed}"]
    TrainingConfig.from_args(train_parser().parse_args(train_argv))  # data options that clash fail as train's do
    try:  # and so do searched options, before any trial
        probe = TrainingConfig.from_args(train_parser().parse_args([*train_argv, *space.argv(first_values(space))]))
    except UsageError as error:
        raise SpaceError(f"--space: {error}") from None
    tune.training_data(probe)  # bad data fail now, not in every trial
    if args.storage == DEFAULT_STORAGE:
        Path("runs").mkdir(exist_ok=True)
    name = args.study or study_name(args, train_argv)
    settings = tune.Settings(
        args.storage, name, space, tuple(train_argv), args.metric, args.sampler, args.pruner, args.seed
    )
    return settings, trials


def search(
    study: optuna.Study, settings: Settings, args: argparse.Namespace, trials: int | None, done: int
) -> bool:
    """Run the trials under a progress bar; True when Ctrl-C stopped them."""
    from tqdm import tqdm

    from tinygraph.models import tune

    with tqdm(total=trials, initial=done, desc="trials", unit="trial", file=sys.stderr, dynamic_ncols=True) as bar:

        def on_trial(trial: optuna.trial.FrozenTrial) -> None:
            bar.update(int(trial.state.is_finished() and tune.LOST not in trial.user_attrs))
            if trial.state.name == "COMPLETE":
                bar.set_postfix_str(f"best {settings.metric}={study.best_value:.4f}")

        try:
            tune.search(
                study, settings, trials=trials, timeout=args.timeout, jobs=args.jobs or 1, scheduler=args.scheduler,
                on_trial=on_trial,
            )  # fmt: skip
        except KeyboardInterrupt:
            return True
    return False


def train_best(study: optuna.Study, settings: Settings, out: Path) -> int:
    """`tinygraph train` with the best trial's options, into a normal run folder; train's exit code."""
    from tinygraph.models.cli import main

    if not any(t.state.name == "COMPLETE" for t in study.trials):
        print("no trial completed, so there is no best one to train")
        return arguments.EXIT_DIVERGED
    best = study.best_trial
    options = settings.space.argv(best.params)
    print(f"best: trial {best.number}, {settings.metric} {best.value:.4f}, {' '.join(options)}")
    # A study run again trains its (perhaps new) best into the same folder: replacing it is the point.
    return main(["train", *settings.train_argv, *options, "--out", str(out), "--overwrite"])


def first_values(space: Space) -> dict[str, Any]:
    """Some point of the space: each option's first choice or low end."""
    return {name: d.choices[0] if hasattr(d, "choices") else d.low for name, d in space.distributions.items()}


def study_name(args: argparse.Namespace, train_argv: list[str]) -> str:
    """Data, metric and a digest of everything that makes the study: the same command finds the same study."""
    data = args.dataset or (Path(args.train).stem if args.train else "moons")
    what = " ".join([*train_argv, args.space, args.metric, args.sampler, args.pruner])
    return f"{data}-{args.metric}-{hashlib.sha256(what.encode()).hexdigest()[:8]}"
