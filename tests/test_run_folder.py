"""Run folders are whole or absent: staged in private, published by one rename, never mixed or overwritten unasked."""

import errno
import os
import threading

import pytest

from tinygraph.models import run_folder
from tinygraph.models.run_folder import OutputError, RunFolder, check_destination


def write_run(destination, files=("history.json", "params.npz"), content="run") -> RunFolder:
    folder = RunFolder(destination)
    with folder as staging:
        for name in files:
            (staging / name).write_text(content)
    return folder


def visible(folder) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_a_run_appears_at_out_with_all_its_files_and_nothing_hidden_beside_it(tmp_path):
    out = tmp_path / "run"
    published = write_run(check_destination(out))
    assert published.path == out
    assert visible(out) == {"history.json", "params.npz"}
    assert visible(tmp_path) == {"run"}


def test_a_failure_while_writing_leaves_nothing_not_even_the_folders_it_made(tmp_path):
    out = tmp_path / "new" / "deeper" / "run"
    with pytest.raises(ZeroDivisionError), RunFolder(check_destination(out)) as staging:
        (staging / "history.json").write_text("half")
        1 / 0
    assert visible(tmp_path) == set()


def test_ctrl_c_while_writing_leaves_nothing(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt), RunFolder(check_destination(out)) as staging:
        (staging / "history.json").write_text("half")
        raise KeyboardInterrupt
    assert visible(tmp_path) == set()


def test_an_os_error_while_writing_names_the_run_not_the_hidden_folder(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(OutputError) as error, RunFolder(check_destination(out)) as staging:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(staging / ".history.json.1234.tmp"))
    assert str(error.value) == f"{out}: could not write the run (No space left on device)"


def test_an_existing_run_is_refused_before_any_work_without_overwrite(tmp_path):
    out = tmp_path / "run"
    write_run(check_destination(out), content="first")
    with pytest.raises(OutputError) as error:
        check_destination(out)
    assert str(error.value) == f"--out {out}: already holds files (an earlier run?); give --overwrite to replace it"
    assert (out / "history.json").read_text() == "first"


def test_overwrite_replaces_the_whole_folder(tmp_path):
    out = tmp_path / "run"
    write_run(check_destination(out), files=("history.json", "images.png"), content="first")
    write_run(check_destination(out, overwrite=True), files=("history.json",), content="second")
    assert visible(out) == {"history.json"}  # the first run's picture went with it
    assert (out / "history.json").read_text() == "second"
    assert visible(tmp_path) == {"run"}


def test_folders_swap_in_one_step(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "from_a").touch()
    assert run_folder._exchange(a, b)
    assert visible(b) == {"from_a"} and visible(a) == set()


def test_an_empty_existing_folder_is_used_without_overwrite(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    assert write_run(check_destination(out)).path == out


def test_out_that_is_a_file_is_refused(tmp_path):
    out = tmp_path / "run"
    out.write_text("not a folder")
    with pytest.raises(OutputError, match="exists and is not a folder"):
        check_destination(out)


def test_out_below_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is not a folder"):
        check_destination(tmp_path / "file" / "run")


def test_checking_creates_nothing(tmp_path):
    check_destination(tmp_path / "a" / "b" / "run")
    check_destination(None, runs=tmp_path / "runs")
    assert visible(tmp_path) == set()


def test_runs_without_out_are_numbered_and_latest_points_at_the_newest(tmp_path):
    runs = tmp_path / "runs"
    first = write_run(check_destination(None, runs=runs), content="1").path
    second = write_run(check_destination(None, runs=runs), content="2").path
    assert (first.name, second.name) == ("0001", "0002")
    assert os.readlink(runs / "latest") == "0002"
    assert (runs / "latest" / "history.json").read_text() == "2"


def test_an_older_latest_folder_is_kept_as_a_numbered_run(tmp_path):
    runs = tmp_path / "runs"
    (runs / "latest").mkdir(parents=True)
    (runs / "latest" / "history.json").write_text("old")
    folder = write_run(check_destination(None, runs=runs), content="new")
    assert (runs / "0001" / "history.json").read_text() == "old"
    assert folder.path == runs / "0002" and os.readlink(runs / "latest") == "0002"
    assert folder.notes == [f"moved the earlier run in {runs / 'latest'} to {runs / '0001'}"]


def test_runs_finishing_together_never_share_a_folder(tmp_path):
    runs = tmp_path / "runs"
    destination = check_destination(None, runs=runs)
    threads = [threading.Thread(target=write_run, args=(destination,), kwargs={"content": str(i)}) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    numbered = sorted(p for p in runs.iterdir() if p.name.isdigit())
    assert [p.name for p in numbered] == [f"{i:04d}" for i in range(1, 9)]
    assert sorted((p / "history.json").read_text() for p in numbered) == [str(i) for i in range(8)]
    assert os.readlink(runs / "latest") == "0008"


def test_a_run_that_lost_the_race_for_out_is_kept_beside_it(tmp_path):
    out = tmp_path / "run"
    destination = check_destination(out)
    write_run(check_destination(out), content="winner")
    loser = write_run(destination, content="loser")
    assert (out / "history.json").read_text() == "winner"
    assert loser.path == tmp_path / "run-2" and (loser.path / "history.json").read_text() == "loser"
    assert loser.notes == [f"{out} was written by another run meanwhile; this run is in {tmp_path / 'run-2'}"]


def test_hidden_folders_of_killed_runs_are_removed_by_the_next_run(tmp_path):
    dead = tmp_path / ".tinygraph-999999999-abcd.partial"  # no such process
    alive = tmp_path / f".tinygraph-{os.getpid()}-abcd.partial"
    for folder in (dead, alive):
        folder.mkdir()
        os.utime(folder, (0, 0))
    write_run(check_destination(tmp_path / "run"))
    assert visible(tmp_path) == {"run", alive.name}


def test_a_place_that_vanished_since_the_check_is_named_not_the_hidden_folder(tmp_path):
    (tmp_path / "parent").mkdir()
    destination = check_destination(tmp_path / "parent" / "run")
    (tmp_path / "parent").rmdir()
    (tmp_path / "parent").write_text("now a file")
    with pytest.raises(OutputError) as error, RunFolder(destination):
        pass
    assert str(error.value) == f"{tmp_path / 'parent' / 'run'}: could not write the run (File exists)"
