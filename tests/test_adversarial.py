"""The command line against a hostile or clumsy user: each case asserts the message, the exit code and the disk.

Bad options and files are refused in one line before any work, creating nothing;
interruptions at every stage (loading, training, writing, publishing; Ctrl-C,
SIGTERM, SIGKILL), concurrent runs, read-only places and resource limits leave a
run folder whole or absent. Root ignores file permissions, so the read-only cases
run without the capabilities that let it (setpriv), as any user would.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygraph.models.cli import main
from tinygraph.models.data import write_csv
from tinygraph.models.mlp import MLP

ROOT = Path(__file__).resolve().parent.parent
RUN = {"history.json", "params.npz", "metrics.json", "learning_curve.png", "decision_boundary.png", "graph.svg"}
QUICK = ("--iterations", "5", "--hidden", "3")
WITHOUT_OVERRIDES = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner",
                     "--inh-caps=-dac_override,-dac_read_search,-fowner", "--"]  # fmt: skip
HELP = " (see tinygraph train --help)"


ENV = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}  # the project, from any working folder
COMMAND = [sys.executable, "-m", "tinygraph.models.cli"]


def tinygraph(*args, cwd: Path, stdin: bytes | None = None, prefix=(), shell_limit="") -> subprocess.CompletedProcess:
    """The command as a user runs it, in `cwd`; `shell_limit` is a bash ulimit to set first."""
    command = [*prefix, *COMMAND, *map(str, args)]
    if shell_limit:
        command = ["bash", "-c", f'{shell_limit} && exec "$@"', "bash", *command]
    return subprocess.run(command, cwd=cwd, input=stdin, capture_output=True, timeout=120, env=ENV)


def as_user(*args, cwd: Path) -> subprocess.CompletedProcess:
    """tinygraph without root's power to ignore permissions."""
    return tinygraph(*args, cwd=cwd, prefix=WITHOUT_OVERRIDES if os.geteuid() == 0 else ())


def run_main(args: list[str], capsys) -> tuple[int, str, str]:
    """main() in this process: (exit code, stdout, stderr); argparse's own refusals included."""
    try:
        code = main(args)
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def visible(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def assert_whole(run: Path, iterations: int | None = None) -> None:
    """Every file of one run, consistent with each other."""
    assert visible(run) == RUN
    metrics = json.loads((run / "metrics.json").read_text())
    history = json.loads((run / "history.json").read_text())
    assert len(history["val_loss"]) == metrics["iterations"] == (iterations or metrics["iterations"])
    with np.load(run / "params.npz", allow_pickle=False) as params:
        assert json.loads(str(params["architecture"]))["layer_sizes"][1] == metrics["layers"][0]


@pytest.fixture
def here(tmp_path, monkeypatch):
    """An empty working folder, for main() run in this process."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def csv_files(tmp_path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    paths = []
    for name, n in (("train.csv", 40), ("val.csv", 20)):
        X = rng.normal(size=(2, n))
        write_csv(tmp_path / name, X, (X[:1] > 0).astype(float))
        paths.append(tmp_path / name)
    return paths[0], paths[1]


# ---- options out of range or clashing: one line, exit 2, nothing created -------------------
@pytest.mark.parametrize(
    "args, message",
    [
        (["--seed", "-1"], "argument --seed: '-1' is not a seed from 0 to 4294967295 (2**32 - 1)"),
        (["--seed", str(2**32)], "argument --seed: '4294967296' is not a seed from 0 to 4294967295 (2**32 - 1)"),
        (["--iterations", "0"], "argument --iterations: '0' is not a whole number above 0"),
        (["--epochs", "0"], "argument --epochs: '0' is not a whole number above 0"),
        (["--hidden", "-5"], "argument --hidden: '-5' is not a whole number above 0"),
        (["--lr", "nan"], "argument --lr: 'nan' is not a number above 0"),
        (["--lr", "inf"], "argument --lr: 'inf' is not a number above 0"),
        (["--dropout", "1"], "argument --dropout: '1' is not a probability from 0 up to (not including) 1"),
        (["--layers", "64,0"], "argument --layers: '64,0' is not hidden layer sizes such as 64,32"),
        (["--batch-size", "0"], "argument --batch-size: '0' is not a whole number above 0"),
        (["--lr-decay", "0"], "argument --lr-decay: '0' is not a factor above 0, at most 1"),
    ],
)  # fmt: skip
def test_an_option_out_of_range_is_refused_in_one_line_before_anything(here, capsys, args, message):
    code, out, err = run_main(["train", *args], capsys)
    assert (code, out, err) == (2, "", f"tinygraph train: error: {message}{HELP}\n")
    assert visible(here) == set()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--scheduler", "tcp://h:1"], "--scheduler is the address of a Dask scheduler: give it with --backend dask"),
        (["--epochs", "2", "--iterations", "2"], "give --epochs or --iterations, not both"),
        (["--train", "t.csv"], "give both --train and --val, or neither (for a built-in --dataset)"),
        (["--train", "-", "--val", "-"], "--train and --val cannot both read standard input ('-')"),
        (["--lr-decay", "0.5"], "--lr-decay needs --lr-decay-every N, the epochs between decays"),
    ],
)  # fmt: skip
def test_options_that_clash_are_refused_in_one_line_before_anything(here, capsys, args, message):
    code, out, err = run_main(["train", *args], capsys)
    assert (code, out, err) == (2, "", f"tinygraph: error: {message} (see tinygraph --help)\n")
    assert visible(here) == set()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--layers", "4", "--classes", "1"],
         "--classes 1: a classifier needs at least 2 classes (see tinygraph --help)"),
        (["--backend", "cupy"], "the cupy backend needs CuPy: pip install cupy-cuda12x"),
    ],
)  # fmt: skip
def test_failures_found_once_the_data_are_known_leave_no_folder(here, capsys, args, message, monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # a machine without CuPy, even where it is installed
    code, out, err = run_main(["train", *args, "--out", "run"], capsys)
    assert (code, err) == (2, f"tinygraph: error: {message}\n")
    assert visible(here) == set()


def test_predict_with_a_threshold_out_of_range_is_refused(here, capsys):
    code, _, err = run_main(["predict", "--params", "p.npz", "--data", "d.csv", "--threshold", "1.5"], capsys)
    assert (code, err) == (2, "tinygraph predict: error: argument --threshold: '1.5' is not a number from 0 to 1 "
                              "(see tinygraph predict --help)\n")  # fmt: skip


# ---- memory: refused by estimate, naming the option and the figures --------------------------
@pytest.mark.parametrize("args", [["--hidden", "1000000"], ["--layers", "100000,100000"]])
def test_a_network_larger_than_memory_is_refused_before_any_work(here, capsys, args):
    code, out, err = run_main(["train", *args], capsys)
    assert code == 2 and out == ""
    assert err.startswith(f"tinygraph: error: {' '.join(args)}: needs about ") and err.endswith(" is available\n")
    assert err.count("\n") == 1 and visible(here) == set()


def test_a_memory_error_the_estimate_missed_is_one_line_naming_the_option(here, capsys, monkeypatch):
    monkeypatch.setattr("tinygraph.models.resources.available_bytes", lambda: None)  # a machine that cannot tell
    code, _, err = run_main(["train", "--hidden", str(10**12)], capsys)
    assert code == 2 and err.startswith(f"tinygraph: error: --hidden {10**12}: not enough memory (Unable to allocate")
    assert err.count("\n") == 1 and visible(here) == set()


def test_what_ulimit_v_leaves_is_what_the_estimate_is_held_to(tmp_path):
    result = tinygraph("train", "--hidden", "50000", cwd=tmp_path, shell_limit="ulimit -v 1500000")
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert stderr.startswith("tinygraph: error: --hidden 50000: needs about 2.7 GiB of memory, but ")
    assert stderr.endswith(" is available\n") and visible(tmp_path) == set()


# ---- the output place: checked first --------------------------------------------------------
def test_an_existing_run_is_kept_unless_overwrite_is_given(here, capsys):
    (here / "run").mkdir()
    (here / "run" / "history.json").write_text("the earlier run")
    code, out, err = run_main(["train", *QUICK, "--out", "run"], capsys)
    assert (code, out) == (2, "")
    assert err == "tinygraph: error: --out run: already holds files (an earlier run?); give --overwrite to replace it\n"
    assert (here / "run" / "history.json").read_text() == "the earlier run"


def test_overwrite_replaces_the_earlier_run_whole(here, capsys):
    (here / "run").mkdir()
    (here / "run" / "images.png").write_text("the earlier run's picture")
    code, _, _ = run_main(["train", *QUICK, "--out", "run", "--overwrite"], capsys)
    assert code == 0
    assert_whole(here / "run", iterations=5)
    assert visible(here) == {"run"}


def test_out_naming_a_file_is_refused(here, capsys):
    (here / "notes.txt").write_text("mine")
    code, _, err = run_main(["train", "--out", "notes.txt"], capsys)
    assert (code, err) == (2, "tinygraph: error: --out notes.txt: exists and is not a folder\n")


def test_predict_out_naming_a_folder_is_refused_before_reading_anything(here, capsys):
    (here / "preds").mkdir()
    code, _, err = run_main(["predict", "--params", "missing.npz", "--data", "x.csv", "--out", "preds"], capsys)
    assert (code, err) == (2, "tinygraph: error: --out preds: is a folder; give the name of a file to write\n")


@pytest.fixture
def read_only(tmp_path):
    """A folder that only root's overrides could write into, inside one anybody may enter."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)


def test_a_read_only_out_is_found_before_training(read_only):
    result = as_user("train", "--out", read_only / "run", cwd=read_only.parent)
    assert result.returncode == 2 and result.stdout == b""  # not even "training on ..."
    assert result.stderr.decode() == (
        f"tinygraph: error: --out {read_only / 'run'}: cannot write in {read_only} (Permission denied)\n"
    )
    assert visible(read_only) == set()


def test_overwriting_a_read_only_run_is_refused_before_training(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "history.json").write_text("kept")
    run.chmod(0o555)
    try:
        result = as_user("train", "--out", run, "--overwrite", cwd=tmp_path)
    finally:
        run.chmod(0o755)
    assert result.returncode == 2 and result.stdout == b""
    assert result.stderr.decode() == f"tinygraph: error: --out {run}: cannot write in {run} (Permission denied)\n"
    assert (run / "history.json").read_text() == "kept"


def test_runs_in_a_read_only_working_folder_are_refused_before_training(read_only):
    result = as_user("train", cwd=read_only)
    assert result.returncode == 2 and result.stdout == b""
    assert result.stderr.decode() == (
        f"tinygraph: error: runs/ (runs without --out): cannot write in the working folder {read_only} "
        "(Permission denied)\n"
    )


def test_predictions_into_a_read_only_folder_are_refused_before_predicting(read_only, csv_files):
    result = as_user("predict", "--params", "p.npz", "--data", csv_files[1], "--out", read_only / "p.csv",
                     cwd=read_only.parent)  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.decode() == (
        f"tinygraph: error: --out {read_only / 'p.csv'}: cannot write in {read_only} (Permission denied)\n"
    )


def test_a_file_size_limit_hit_while_writing_leaves_nothing(tmp_path):
    result = tinygraph("train", *QUICK, "--out", "run", cwd=tmp_path, shell_limit="ulimit -f 16")
    assert result.returncode == 2
    assert result.stderr.decode().endswith("tinygraph: error: run: could not write the run (File too large)\n")
    assert visible(tmp_path) == set()


# ---- hostile and damaged files --------------------------------------------------------------
@pytest.fixture
def model():
    return MLP([2, 3, 1], "relu", seed=0)


def write_params(path: Path, arrays: dict, architecture) -> Path:
    np.savez(path, **arrays, architecture=np.array(json.dumps(architecture)))
    return path


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a, arch: (a, {**arch, "layer_sizes": [2, 2_000_000_000, 1]}),
         "W1: has shape (3, 2), but the network needs (2000000000, 2)"),
        (lambda a, arch: (a, 42), "architecture: must be a JSON object with layer_sizes and activations, not 42"),
        (lambda a, arch: ({**a, "W2": np.full((1, 3), np.nan)}, arch),
         "W2: holds nan at (0, 0); parameters must be finite"),
    ],
)  # fmt: skip
def test_hostile_params_are_refused_by_predict_naming_the_file_and_key(here, capsys, csv_files, model, change, message):
    arrays, architecture = change(model.arrays(), model.architecture())
    path = write_params(here / "p.npz", arrays, architecture)
    code, out, err = run_main(["predict", "--params", str(path), "--data", str(csv_files[1])], capsys)
    assert (code, out, err) == (2, "", f"tinygraph: error: {path}: {message}\n")


@pytest.mark.parametrize(
    "content",
    [b"\x80\x04\x95 a pickle", b"W1,b1\n", np.lib.format.MAGIC_PREFIX + b"\x01\x00 a .npy"],
    ids=["pickle", "text", "npy"],
)
def test_files_that_numpy_would_offer_to_unpickle_get_no_such_advice(here, capsys, csv_files, content):
    (here / "p.npz").write_bytes(content)
    code, _, err = run_main(["predict", "--params", "p.npz", "--data", str(csv_files[1])], capsys)
    assert code == 2 and err.startswith("tinygraph: error: p.npz: ") and err.count("\n") == 1
    assert "pickle" not in err.lower()


# ---- streams: '-' and named pipes -------------------------------------------------------------
def test_training_data_from_a_named_pipe_and_standard_input(tmp_path, csv_files):
    train, val = csv_files
    command = f'"{sys.executable}" -m tinygraph.models.cli train --train - --val <(cat "{val}") {" ".join(QUICK)} --out run'
    result = subprocess.run(["bash", "-c", command], cwd=tmp_path, input=train.read_bytes(), capture_output=True,
                            timeout=120, env=ENV)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().startswith("training on - and /dev/fd/")
    assert_whole(tmp_path / "run", iterations=5)


def test_bad_data_on_standard_input_is_named_stdin(tmp_path, csv_files):
    result = tinygraph("train", "--train", "-", "--val", csv_files[1], *QUICK, cwd=tmp_path, stdin=b"1,2\n0,5\n")
    assert result.returncode == 2
    assert result.stderr.decode() == (
        "tinygraph: error: <stdin>, row 2 (the label row), column 2: the label 5.0 is not 0 or 1\n"
    )
    assert visible(tmp_path) == {"train.csv", "val.csv"}


# ---- divergence: the progress bar closed, then one line -----------------------------------------
def test_a_diverging_run_ends_with_one_line_naming_the_node_and_writes_nothing(tmp_path):
    result = tinygraph("train", "--layers", "4", "--optimizer", "sgd", "--lr", "1e300", "--epochs", "2",
                       "--out", "run", cwd=tmp_path)  # fmt: skip
    stderr = result.stderr.decode()
    assert result.returncode == 1
    assert "RuntimeWarning" not in stderr and "matrix.py" not in stderr
    assert stderr.splitlines()[-1] == (
        "tinygraph train: iteration 1: the loss became nan (train) and 0.6884550957615895 (validation); the "
        "learning rate may be too large, or the data hold NaN or infinity; numpy's first complaint: MatMul: "
        "forward: overflow (inputs: W2 (1, 4), A1 (4, 32)); nothing was written"
    )
    assert visible(tmp_path) == set()


# ---- interruptions at every stage -----------------------------------------------------------------
# A driver runs the command with signals sent to itself at chosen moments: (module, attribute, call, signal).
DRIVER = """
import importlib, os, signal, sys
from tinygraph.models import cli
for module, attribute, call, name in {plan!r}:
    owner, _, attr = attribute.rpartition(".")
    target = importlib.import_module(module)
    for part in filter(None, owner.split(".")):
        target = getattr(target, part)
    original, calls = getattr(target, attr), [0]
    def patched(*args, original=original, calls=calls, call=call, name=name, **kwargs):
        calls[0] += 1
        if calls[0] == call:
            os.kill(os.getpid(), getattr(signal, name))
        return original(*args, **kwargs)
    setattr(target, attr, patched)
sys.exit(cli.main(sys.argv[1:]))
"""
TRAINING = ("tinygraph.models.commands.train", "ProgressBar.__call__", 3, "SIGINT")  # after the third iteration
WRITING_PICTURES = ("matplotlib.figure", "Figure.savefig", 1, "SIGINT")
WRITING_PARAMS = ("tinygraph.models.checkpoint", "save", 1, "SIGINT")
LOADING = ("tinygraph.models.datasets", "load_builtin", 1, "SIGINT")
PUBLISHING = ("tinygraph.models.run_folder", "sync_tree", 1, "SIGINT")


def interrupted(tmp_path: Path, *plan: tuple) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", DRIVER.format(plan=list(plan)), "train", *QUICK, "--out", "run"]
    return subprocess.run(command, cwd=tmp_path, capture_output=True, timeout=120, env=ENV)


def test_ctrl_c_while_loading_writes_nothing(tmp_path):
    result = interrupted(tmp_path, LOADING)
    assert (result.returncode, result.stderr.decode()) == (130, "tinygraph: interrupted\n")
    assert visible(tmp_path) == set()


def test_ctrl_c_while_training_writes_the_whole_run_so_far(tmp_path):
    result = interrupted(tmp_path, TRAINING)
    assert result.returncode == 130
    assert "interrupted after 3 iterations; saved what was learned so far" in result.stdout.decode()
    assert_whole(tmp_path / "run", iterations=3)
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["interrupted"] is True
    assert visible(tmp_path) == {"run"}


@pytest.mark.parametrize("second", [WRITING_PARAMS, WRITING_PICTURES], ids=["params", "pictures"])
def test_a_second_ctrl_c_while_writing_leaves_nothing_at_all(tmp_path, second):
    result = interrupted(tmp_path, TRAINING, second)
    assert result.returncode == 130
    assert result.stderr.decode().splitlines()[-1] == (
        "tinygraph train: interrupted while writing the run; nothing was written"
    )
    assert visible(tmp_path) == set()


def test_ctrl_c_as_the_run_is_published_waits_for_it_to_be_whole(tmp_path):
    result = interrupted(tmp_path, PUBLISHING)
    assert result.returncode == 130
    last = result.stderr.decode().splitlines()[-1]
    assert last == "tinygraph train: interrupted once the run was written whole to run"
    assert_whole(tmp_path / "run", iterations=5)
    assert visible(tmp_path) == {"run"}


def test_sigterm_while_writing_leaves_nothing(tmp_path):
    result = interrupted(tmp_path, WRITING_PICTURES[:3] + ("SIGTERM",))
    assert result.returncode == 143
    assert result.stderr.decode().splitlines()[-1] == (
        "tinygraph train: terminated while writing the run; nothing was written"
    )
    assert visible(tmp_path) == set()


def test_sigterm_while_training_leaves_nothing(tmp_path):
    result = interrupted(tmp_path, TRAINING[:3] + ("SIGTERM",))
    assert result.returncode == 143
    assert result.stderr.decode().splitlines()[-1] == "tinygraph: terminated; an unfinished run was not written"
    assert visible(tmp_path) == set()


def test_sigkill_while_writing_leaves_only_a_hidden_folder(tmp_path):
    result = interrupted(tmp_path, WRITING_PICTURES[:3] + ("SIGKILL",))
    assert result.returncode == -signal.SIGKILL
    assert [name.startswith(".tinygraph-") and name.endswith(".partial") for name in visible(tmp_path)] == [True]


# ---- runs at the same time --------------------------------------------------------------------------
def at_the_same_time(tmp_path: Path, *runs: list[str]) -> list[subprocess.Popen]:
    """Start a tinygraph train for each list of options, all at once; wait for all and return them."""
    processes = [subprocess.Popen([*COMMAND, "train", *options], cwd=tmp_path, env=ENV,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for options in runs]  # fmt: skip
    for process in processes:
        process.wait(timeout=120)
    return processes


def iterations_in(*runs: Path) -> list[int]:
    return sorted(json.loads((run / "metrics.json").read_text())["iterations"] for run in runs)


def test_runs_at_the_same_time_get_their_own_whole_folders(tmp_path):
    processes = at_the_same_time(tmp_path, [*QUICK[2:], "--iterations", "3"], [*QUICK[2:], "--iterations", "4"])
    assert [p.returncode for p in processes] == [0, 0]
    runs = tmp_path / "runs"
    assert visible(runs) == {"0001", "0002", "latest", ".lock"}
    assert iterations_in(runs / "0001", runs / "0002") == [3, 4]
    for name in ("0001", "0002"):
        assert_whole(runs / name)
    assert os.readlink(runs / "latest") == "0002"


def test_two_runs_given_the_same_out_keep_both(tmp_path):
    processes = at_the_same_time(tmp_path, [*QUICK[2:], "--iterations", "3", "--out", "run"],
                                 [*QUICK[2:], "--iterations", "4", "--out", "run"])  # fmt: skip
    assert [p.returncode for p in processes] == [0, 0]
    assert visible(tmp_path) == {"run", "run-2"}
    assert iterations_in(tmp_path / "run", tmp_path / "run-2") == [3, 4]
    notes = b"".join(p.stderr.read() for p in processes).decode()
    assert "tinygraph train: run was written by another run meanwhile; this run is in run-2" in notes


def test_setpriv_is_there_to_test_permissions_as_root():
    assert os.geteuid() != 0 or shutil.which("setpriv"), "install util-linux's setpriv: root ignores permissions"
