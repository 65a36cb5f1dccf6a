"""Hyperparameter search on Optuna: trials of `tinygraph train`, in this process, in child processes or on Dask.

    study = open_study(settings)
    search(study, settings, trials=30)   # asks, runs and tells trials until the study holds 30 done

This process asks Optuna for each trial's parameters (so a seeded sampler gives
the same trials again) and tells it the outcome; run_trial trains, wherever it
runs, reporting the validation curve that train() records so that the pruner can
stop a trial early. Every trial lives in the study's storage (an SQLite file by
default), so a search stopped by Ctrl-C or a crash goes on where it stopped.
tinygraph.models.tune_report shows a study: its table of trials and Optuna's plots.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import functools
import math
import multiprocessing
import os
import signal
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

import tinygraph as tg
from tinygraph.models import data, datasets
from tinygraph.models.commands.train import count_classes, final_metrics, fit, progress_length
from tinygraph.models.commands.tune import METRICS, train_parser
from tinygraph.models.config import TrainingConfig
from tinygraph.models.errors import TrainingDivergedError
from tinygraph.models.run_folder import process_exists
from tinygraph.models.train import IterationCallback, TrainingResult
from tinygraph.models.tune_space import Space

REPORTS = 10  # validation losses reported per trial: enough for the pruner, few database writes
LOST = "lost"  # user attribute of a failed trial that was interrupted or whose process died: not counted as done


class TuneError(tg.TinygraphError, ValueError):
    """A study that cannot be opened or resumed as asked; the message names the option."""


@dataclass(frozen=True)
class Settings:
    """What every process that runs trials needs to know (picklable: it travels to child processes and Dask)."""

    storage: str  # an Optuna storage URL
    study_name: str
    space: Space
    train_argv: tuple[str, ...]  # train's data options and seed, the same in every trial
    metric: str = "val_accuracy"
    sampler: str = "tpe"
    pruner: str = "median"
    seed: int = 1


@dataclass(frozen=True)
class Outcome:
    """How a trial ended: its state, the metric (complete trials), the seconds it took, why it stopped."""

    state: TrialState
    value: float | None
    seconds: float
    note: str | None = None  # why a trial was pruned or failed
    lost: bool = False  # interrupted: the trial is run again when the search is resumed


# ---- the one place that knows how train runs: a trial's options -> a trained model --------
def train_trial(argv: list[str], callback: Callable[[int], IterationCallback] | None = None) -> dict[str, Any]:
    """Train with train's command-line options `argv`; the metrics that `tinygraph train` writes to metrics.json.

    `callback(epochs)` makes the per-epoch callback of a training of `epochs` epochs.
    """
    config = TrainingConfig.from_args(train_parser().parse_args(argv))
    arrays = training_data(config)
    classes = count_classes(config.classes, arrays[1], arrays[3])
    model = config.network(arrays[0].shape[0], classes)
    epochs, _ = progress_length(config, arrays[0].shape[1])
    result: TrainingResult = fit(config, model, arrays, callback(epochs) if callback else None)
    if result.interrupted:
        raise KeyboardInterrupt
    return config.settings(classes) | final_metrics(result, *arrays)


def training_data(config: TrainingConfig) -> tuple[np.ndarray, ...]:
    """tinygraph.models.commands.train.load_data's arrays, loaded once per process, not once per trial."""
    return _load(config.train, config.val, config.dataset, config.dtype, config.labels)


@functools.lru_cache(maxsize=1)
def _load(train: Any, val: Any, dataset: str | None, dtype: str, labels: data.Labels) -> tuple[np.ndarray, ...]:
    if train is not None:
        return data.load_train_val(train, val, dtype=dtype, labels=labels)
    return tuple(a.astype(dtype) for a in datasets.load_builtin(dataset))


# ---- one trial, in whichever process runs it ----------------------------------------------
def run_trial(settings: Settings, trial_id: int, params: dict[str, Any]) -> Outcome:
    """Train trial `trial_id` of the study with `params`, reporting its validation curve; its Outcome."""
    with ctrl_c_noted() as ctrl_c:
        return _run_trial(settings, trial_id, params, ctrl_c)


def _run_trial(settings: Settings, trial_id: int, params: dict[str, Any], ctrl_c: threading.Event) -> Outcome:
    study = optuna.load_study(  # the parameters were drawn when the trial was asked: no sampler at work here
        study_name=settings.study_name, storage=storage(settings.storage), sampler=optuna.samplers.RandomSampler()
    )
    trial, start = optuna.trial.Trial(study, trial_id), time.perf_counter()

    def reporter(epochs: int) -> IterationCallback:
        study.pruner, warmup = pruner(settings.pruner, epochs)
        every = math.ceil(epochs / REPORTS)

        def report(epoch: int, entry: dict[str, float]) -> None:
            if ctrl_c.is_set():  # noted, though its KeyboardInterrupt went astray
                raise KeyboardInterrupt
            if (epoch + 1) % every == 0:
                trial.report(entry[settings.metric], epoch)  # the metric's curve, as train() records it
                # judged after the warm-up, before the end (asking reads every trial's curve)
                if warmup <= epoch < epochs - 1 and trial.should_prune():
                    raise optuna.TrialPruned(f"pruned at epoch {epoch}")

        return report

    seconds = lambda: time.perf_counter() - start  # noqa: E731
    try:
        metrics = train_trial([*settings.train_argv, *settings.space.argv(params)], reporter)
    except optuna.TrialPruned as pruned:
        return Outcome(TrialState.PRUNED, None, seconds(), str(pruned))
    except TrainingDivergedError as error:  # a learning rate too large is an answer, not a fault
        return Outcome(TrialState.FAIL, None, seconds(), f"diverged: {error}")
    except KeyboardInterrupt:
        return Outcome(TrialState.FAIL, None, seconds(), "interrupted", lost=True)
    trial.set_user_attr("blas_threads", blas_threads())
    return Outcome(TrialState.COMPLETE, float(metrics[settings.metric]), seconds())


def pruner(name: str, epochs: int) -> tuple[optuna.pruners.BasePruner, float]:
    """Optuna's pruner, and the epoch before which it prunes nothing: a curve's first quarter says little."""
    warmup = epochs // 4
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=warmup), warmup
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=max(warmup, 1)), warmup
    return optuna.pruners.NopPruner(), math.inf


def blas_threads() -> int:
    from threadpoolctl import threadpool_info

    return max((pool["num_threads"] for pool in threadpool_info()), default=1)


@functools.lru_cache(maxsize=4)  # one connection pool per process and URL, not one per trial
def storage(url: str) -> optuna.storages.BaseStorage:
    """Optuna's storage at `url`."""
    path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else None
    options = {"creator": functools.partial(sqlite_connection, path)} if path else {}
    try:
        return optuna.storages.RDBStorage(url, engine_kwargs=options)
    except Exception as error:  # SQLAlchemy's and the drivers' errors have no common base
        raise TuneError(f"--storage {url!r}: Optuna cannot open it ({error})") from None


def sqlite_connection(path: str) -> sqlite3.Connection:
    """A connection that waits up to a minute for another process's write, in write-ahead-log mode.

    The log makes a commit an append without waiting for the disk (a trial
    reports its curve ten times): a crashed process loses nothing committed; a
    power cut may lose the last commits. Readers and the writer no longer block each other.
    """
    connection = sqlite3.connect(path, timeout=60, check_same_thread=False)  # the pool hands it to any thread
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


# ---- the study: opened or resumed, and the trials that count -----------------------------
def open_study(settings: Settings) -> optuna.Study:
    """The study named in `settings`, created on first use; resuming checks it searches the same space."""
    described = {"space": repr(settings.space), "train": " ".join(settings.train_argv), "metric": settings.metric}
    study = optuna.create_study(
        storage=storage(settings.storage), study_name=settings.study_name, load_if_exists=True,
        direction=METRICS[settings.metric],
    )  # fmt: skip
    if not study.user_attrs:
        for key, value in described.items():
            study.set_user_attr(key, value)
    for key, value in described.items():
        if study.user_attrs.get(key) != value:
            raise TuneError(
                f"--study {settings.study_name!r} in {settings.storage} searched another {key} "
                f"({study.user_attrs.get(key)}); give another --study name"
            )
    fail_lost_trials(study)
    return study


def fail_lost_trials(study: optuna.Study) -> None:
    """Running trials asked by a process of this machine that has ended (killed, crashed) become lost failures."""
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        host, pid = trial.user_attrs.get("host"), trial.user_attrs.get("pid")
        if host == socket.gethostname() and pid is not None and not process_exists(pid):
            tell(study, trial, Outcome(TrialState.FAIL, None, 0.0, f"lost: process {pid} ended", lost=True))


def counted(study: optuna.Study) -> list[FrozenTrial]:
    """The trials that are done: finished and not lost (a lost trial is run again)."""
    return [t for t in study.get_trials(deepcopy=False) if t.state.is_finished() and LOST not in t.user_attrs]


# ---- the search loop --------------------------------------------------------------------
def search(
    study: optuna.Study,
    settings: Settings,
    *,
    trials: int | None,
    timeout: float | None = None,
    jobs: int = 1,
    scheduler: str | None = None,
    on_trial: Callable[[FrozenTrial], None] | None = None,
) -> None:
    """Run trials until `trials` are done in the study (counting those of earlier runs) or `timeout` seconds pass.

    Up to `jobs` trials run at once: in this process (1), in child processes
    sharing the machine's cores, or on the Dask cluster at `scheduler`. Ctrl-C
    marks the trials in flight lost and raises KeyboardInterrupt.
    """
    grid = settings.space.grid(settings.seed) if settings.sampler == "grid" else None
    if grid is not None:
        trials = len(grid) if trials is None else min(trials, len(grid))
    deadline = math.inf if timeout is None else time.monotonic() + timeout
    in_flight: dict[concurrent.futures.Future, FrozenTrial] = {}
    with ctrl_c_noted() as ctrl_c, executor(jobs, scheduler) as (submit, slots):
        try:
            while True:
                wanted = math.inf if trials is None else trials - len(counted(study)) - len(in_flight)
                while len(in_flight) < slots and wanted > 0 and time.monotonic() < deadline:
                    trial = ask(study, settings, grid)
                    if trial is None:  # every grid point taken, some by another command on this study
                        break
                    in_flight[submit(run_trial, settings, trial._trial_id, trial.params)] = trial
                    wanted -= 1
                if not in_flight:
                    return
                finished, _ = concurrent.futures.wait(in_flight, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in finished:
                    trial = in_flight.pop(future)
                    try:
                        outcome = future.result()
                    except Exception as error:  # a fault, not an answer: the search stops, as Optuna's does
                        tell(study, trial, Outcome(TrialState.FAIL, None, 0.0, f"{type(error).__name__}: {error}"))
                        raise
                    told = tell(study, trial, outcome)
                    if on_trial is not None:
                        on_trial(told)
                    if LOST in told.user_attrs or ctrl_c.is_set():
                        raise KeyboardInterrupt
        except BaseException:
            for future, trial in in_flight.items():
                future.cancel()
                tell(study, trial, Outcome(TrialState.FAIL, None, 0.0, "interrupted", lost=True))
            raise


def ask(study: optuna.Study, settings: Settings, grid: list[dict[str, Any]] | None) -> optuna.trial.Trial | None:
    """The next trial, its parameters sampled here; the sampler is seeded by the trial's number.

    Seeding each trial, not the study, keeps a resumed search from repeating the
    first trials' random draws. On a grid, the next point no trial has taken (lost ones are taken again),
    or None when there is none.
    """
    seed = settings.seed * 1_000_003 + len(study.get_trials(deepcopy=False))
    if grid is not None:
        taken = [t.params for t in study.get_trials(deepcopy=False) if t.state == TrialState.RUNNING] + [
            t.params for t in counted(study)
        ]
        untaken = [point for point in grid if point not in taken]
        if not untaken:
            return None
        study.enqueue_trial(untaken[0])
    elif settings.sampler == "random":
        study.sampler = optuna.samplers.RandomSampler(seed=seed)
    else:  # the constant liar keeps parallel trials from being asked for the same point
        study.sampler = optuna.samplers.TPESampler(seed=seed, constant_liar=True)
    trial = study.ask(settings.space.distributions)
    trial.set_user_attr("host", socket.gethostname())
    trial.set_user_attr("pid", os.getpid())
    return trial


def tell(study: optuna.Study, trial: optuna.trial.Trial | FrozenTrial, outcome: Outcome) -> FrozenTrial:
    """Record the outcome (its user attributes first: a finished trial can no longer be changed)."""
    running = optuna.trial.Trial(study, trial._trial_id)
    running.set_user_attr("seconds", outcome.seconds)
    if outcome.note is not None:
        running.set_user_attr("note", outcome.note)
    if outcome.lost:
        running.set_user_attr(LOST, True)
    return study.tell(trial.number, outcome.value, state=outcome.state, skip_if_finished=True)


@contextmanager
def executor(jobs: int, scheduler: str | None) -> Iterator[tuple[Callable[..., concurrent.futures.Future], int]]:
    """(submit, slots): where trials run and how many at once."""
    if scheduler is not None:
        from tinygraph.models.backends import dask_client

        with dask_client(scheduler) as client:
            slots = jobs if jobs > 1 else sum(client.nthreads().values())
            with client.get_executor(pure=False) as pool:
                yield pool.submit, slots
    elif jobs > 1:
        threads = max(1, (os.cpu_count() or 1) // jobs)
        context = multiprocessing.get_context("spawn")  # a fork would share this process's database connections
        pool = concurrent.futures.ProcessPoolExecutor(jobs, context, initializer=child_start, initargs=(threads,))
        with pool:
            yield pool.submit, jobs
    else:
        yield run_here, 1


def run_here(function: Callable[..., Outcome], *args: Any) -> concurrent.futures.Future:
    """Run now, in this process; a finished future, as an executor's would become."""
    future: concurrent.futures.Future = concurrent.futures.Future()
    try:
        future.set_result(function(*args))
    except Exception as error:
        future.set_exception(error)
    return future


def child_start(threads: int) -> None:
    """Each child's share of the cores for BLAS; Ctrl-C reaches a child only while it runs a trial (ctrl_c_noted)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # an idle child would die with a traceback


_ctrl_c: contextvars.ContextVar[threading.Event] = contextvars.ContextVar("ctrl_c")


@contextmanager
def ctrl_c_noted() -> Iterator[threading.Event]:
    """Ctrl-C raises KeyboardInterrupt, as usual, and sets the event yielded, which says so for good.

    Python drops an exception raised inside a finaliser (SQLAlchemy's return
    connections to their pool), so a Ctrl-C that lands there is lost; the event
    is not, and the trial and the search check it. Nested blocks share the event;
    outside the main thread (a Dask worker's) no handler can be installed, and the event stays clear.
    """
    outer = _ctrl_c.get(None)
    if outer is not None or threading.current_thread() is not threading.main_thread():
        yield outer or threading.Event()
        return
    noted = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        noted.set()
        raise KeyboardInterrupt

    previous, token = signal.signal(signal.SIGINT, handler), _ctrl_c.set(noted)
    try:
        yield noted
    finally:
        signal.signal(signal.SIGINT, previous)
        _ctrl_c.reset(token)
