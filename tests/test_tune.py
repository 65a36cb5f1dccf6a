"""`tinygraph tune`: a study of train's trials in a database, resumed, pruned, run in parallel, and what users see.

Studies here are tiny (a few trials of the notebook's classifier for a few
hundred iterations on the built-in XOR), each in its own SQLite file.
"""

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from tinygraph.models import tune
from tinygraph.models.cli import main
from tinygraph.models.commands.tune import REPORT
from tinygraph.models.data import write_csv
from tinygraph.models.datasets import load_builtin
from tinygraph.models.tune_space import parse_space

ROOT = Path(__file__).resolve().parent.parent
SPACE = "hidden=2..8 lr=0.5..4:log iterations=200"


@pytest.fixture
def study_in(tmp_path):
    """The options that put a study, and what tune writes, in tmp_path."""
    return ["--storage", f"sqlite:///{tmp_path / 'tune.db'}", "--study", "s", "--out", str(tmp_path / "out")]


def tune_here(*args: object) -> int:
    return main(["tune", "--dataset", "xor", *map(str, args)])


def load(options: list[str]) -> optuna.Study:
    return optuna.load_study(study_name="s", storage=options[1])


def rows_of(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---- the command as users run it ------------------------------------------------------------
def test_a_study_in_two_processes_writes_its_table_plots_and_a_best_run_that_predict_uses(tmp_path, study_in, capsys):
    command = [sys.executable, "-m", "tinygraph.models.cli", "tune", "--dataset", "xor", "--space", SPACE, "--trials", "4"]
    done = subprocess.run([*command, "--jobs", "2", *study_in], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out"
    rows = rows_of(out / "trials.csv")
    assert [row["number"] for row in rows] == ["0", "1", "2", "3"]
    assert list(rows[0]) == ["number", "state", "val_accuracy", "seconds", "hidden", "lr", "note"]
    assert "number  state     val_accuracy" in done.stdout and "trials: 100%" in done.stderr
    assert all(is_png(out / name) for name in ("history.png", "slice.png", "curves.png", "importances.png"))
    threads = {t.user_attrs["blas_threads"] for t in load(study_in).trials if t.state.name == "COMPLETE"}
    assert threads == {max(1, os.cpu_count() // 2)}  # each child's share of the cores

    best = max((row for row in rows if row["state"] == "COMPLETE"), key=lambda row: float(row["val_accuracy"]))
    val = load_builtin("xor")[2:]
    write_csv(tmp_path / "val.csv", *val)
    assert main(["predict", "--params", str(out / "best" / "params.npz"), "--data", str(tmp_path / "val.csv")]) == 0
    assert f"accuracy on {tmp_path / 'val.csv'}: {float(best['val_accuracy']):.4f}" in capsys.readouterr().out


def test_ctrl_c_loses_only_the_trial_in_flight_and_the_same_command_goes_on(tmp_path, study_in):
    command = [sys.executable, "-m", "tinygraph.models.cli", "tune", "--dataset", "xor", "--space", "iterations=4000 hidden=3,4",
               "--sampler", "grid", "--trials", "1", *study_in]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    database = tmp_path / "tune.db"
    while not running_trials(database):
        time.sleep(0.05)
    time.sleep(0.3)  # into training
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "run the same command again" in stdout and "LOST" in stdout

    assert main(command[3:]) == 0  # the same command, run again (in this process)
    states = [(row["number"], row["state"], row["note"]) for row in rows_of(tmp_path / "out" / "trials.csv")]
    assert states == [("0", "LOST", "interrupted"), ("1", "COMPLETE", "")]


def running_trials(database: Path) -> int:
    if not database.exists():
        return 0
    with sqlite3.connect(database) as connection:
        try:
            return connection.execute("select count(*) from trials where state = 'RUNNING'").fetchone()[0]
        except sqlite3.OperationalError:  # the tables are not made yet
            return 0


# ---- the study: resumed, reproducible, pruned, lost trials run again ----------------------------
def test_the_same_command_with_more_trials_keeps_the_trials_done_and_adds_the_rest(study_in):
    assert tune_here("--space", SPACE, "--trials", 1, *study_in) == 0
    first = [(t.number, t.params, t.value, t.datetime_start) for t in load(study_in).trials]
    assert tune_here("--space", SPACE, "--trials", 2, *study_in) == 0
    trials = load(study_in).trials
    assert [(t.number, t.params, t.value, t.datetime_start) for t in trials[:1]] == first and len(trials) == 2


def test_the_same_seed_gives_the_same_study_again(tmp_path):
    studies = []
    for name in ("a", "b"):
        tune_here("--space", SPACE, "--trials", 2, "--storage", f"sqlite:///{tmp_path / name}.db", "--out", tmp_path / name)
        (study_name,) = optuna.get_all_study_names(f"sqlite:///{tmp_path / name}.db")
        study = optuna.load_study(study_name=study_name, storage=f"sqlite:///{tmp_path / name}.db")
        studies.append([(t.params, t.value, t.state) for t in study.trials])
    assert studies[0] == studies[1]


def test_a_timeout_starts_no_trial_after_it(study_in):
    assert tune_here("--space", "iterations=30 hidden=2..9", "--timeout", 1.5, *study_in) == 0
    starts = [t.datetime_start for t in load(study_in).trials]
    # the first trial starts just after the clock does; asking for a trial takes a moment on a busy machine
    assert starts and (max(starts) - min(starts)).total_seconds() < 1.5 + 0.5


def test_trials_stopped_by_the_pruner_are_reported_as_pruned_before_their_last_epoch(tmp_path, study_in):
    # Learning rate 0.02 barely moves the loss in 200 iterations: once five trials are
    # complete, the median pruner stops such trials at its first look, a quarter of the way in.
    space = "lr=0.02,4,6 hidden=2..5:1 iterations=200"
    assert tune_here("--space", space, "--sampler", "grid", "--trials", 12, *study_in) == 0
    trials = load(study_in).trials
    slow = [t for t in trials if t.params["lr"] == 0.02 and t.number > 5]
    assert slow and all(t.state == optuna.trial.TrialState.PRUNED for t in slow)
    pruned = [t for t in trials if t.state == optuna.trial.TrialState.PRUNED]
    assert all(t.last_step < 199 for t in pruned)
    rows = [row for row in rows_of(tmp_path / "out" / "trials.csv") if row["state"] == "PRUNED"]
    assert len(rows) == len(pruned) and all(row["note"].startswith("pruned at epoch") for row in rows)


def test_a_trial_whose_process_died_is_marked_lost_and_run_again(study_in):
    settings_args = ["--space", "iterations=20 hidden=2,3", "--sampler", "grid", *study_in]
    assert tune_here(*settings_args, "--trials", 1) == 0
    study = load(study_in)
    crashed = study.ask({"hidden": optuna.distributions.CategoricalDistribution([2, 3])})
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    crashed.set_user_attr("host", os.uname().nodename)
    crashed.set_user_attr("pid", int(ended.stdout))
    assert tune_here(*settings_args, "--trials", 2) == 0
    states = [(t.state.name, tune.LOST in t.user_attrs) for t in load(study_in).trials]
    assert states == [("COMPLETE", False), ("FAIL", True), ("COMPLETE", False)]


# ---- a Dask cluster shares the study ---------------------------------------------------------
def test_trials_on_a_dask_cluster_are_recorded_once_with_the_results_of_serial_training(study_in):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1", dashboard_address=None
    ) as cluster:
        args = ["--space", SPACE, "--sampler", "random", "--pruner", "none", "--trials", 4, *study_in]
        assert tune_here(*args, "--scheduler", cluster.scheduler_address) == 0
    trials = load(study_in).trials
    assert [t.number for t in trials] == [0, 1, 2, 3]
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    space = parse_space(SPACE)
    for t in trials:
        serial = tune.train_trial(["--dataset=xor", "--seed=1", *space.argv(t.params)])
        assert t.value == serial["val_accuracy"]


# ---- errors: one line naming the option ------------------------------------------------------
@pytest.mark.parametrize(
    "args, says",
    [
        (["--space", "lr=0.1..1", "--sampler", "grid"], "--sampler grid: --space lr is a range without a step"),
        (["--space", "lr-decay=0.5 hidden=2..3"], "--space: --lr-decay needs --lr-decay-every"),
        (["--space", "hidden=2..3", "--storage", "nosuchdb://x"], "--storage 'nosuchdb://x'"),
        (["--space", "hidden=2..3", "--train", "missing.csv", "--val", "missing.csv"], "missing.csv"),
    ],
)
def test_a_bad_option_ends_with_one_line_naming_it(capsys, tmp_path, args, says):
    storage = [] if "--storage" in args else ["--storage", f"sqlite:///{tmp_path / 't.db'}"]
    code = main(["tune", *args, *storage, "--out", str(tmp_path)])
    error = capsys.readouterr().err
    assert code == 2 and says in error and error.count("\n") == 1


def test_a_study_name_given_again_with_another_space_is_refused(capsys, study_in):
    assert tune_here("--space", "iterations=10 hidden=2,3", "--trials", 1, *study_in) == 0
    assert tune_here("--space", "iterations=10 hidden=4,5", "--trials", 1, *study_in) == 2
    assert "--study 's'" in capsys.readouterr().err


def test_without_optuna_the_command_says_what_to_install(capsys, monkeypatch, study_in):
    monkeypatch.setitem(sys.modules, "optuna", None)  # as if it were not installed
    assert tune_here("--space", SPACE, *study_in) == 2
    assert "tinygraph tune needs optuna: pip install 'tinygraph[tune]'" in capsys.readouterr().err


def test_an_out_that_is_a_file_is_refused_before_any_trial(capsys, tmp_path, study_in):
    (tmp_path / "out").write_text("not a folder")
    assert tune_here("--space", "iterations=10 hidden=2,3", "--trials", 1, *study_in) == 2
    error = capsys.readouterr().err
    assert f"--out {tmp_path / 'out'}: exists and is not a folder" in error and error.count("\n") == 1
    assert not (tmp_path / "tune.db").exists()  # no study was opened


def test_running_a_study_again_replaces_its_report_whole(tmp_path, study_in):
    assert tune_here("--space", "iterations=10 hidden=2,3", "--trials", 1, *study_in) == 0
    assert tune_here("--space", "iterations=10 hidden=2,3", "--trials", 2, *study_in) == 0
    assert [row["number"] for row in rows_of(tmp_path / "out" / "trials.csv")] == ["0", "1"]
    assert (tmp_path / "out" / "best" / "params.npz").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_an_out_holding_other_files_needs_overwrite_before_any_trial(capsys, tmp_path, study_in):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("a user's own file")
    assert tune_here("--space", "iterations=10 hidden=2,3", "--trials", 1, *study_in) == 2
    assert "give --overwrite to replace it" in capsys.readouterr().err
    assert (tmp_path / "out" / "notes.txt").exists() and not (tmp_path / "tune.db").exists()
    assert tune_here("--space", "iterations=10 hidden=2,3", "--trials", 1, "--overwrite", *study_in) == 0
    written = {p.name for p in (tmp_path / "out").iterdir()}
    assert "trials.csv" in written and written <= REPORT  # the user's file went with --overwrite
