"""Inputs read from '-' (standard input) or a named pipe work like files, and errors name the argument."""

import io
import os
import threading

import numpy as np
import pytest

from tinygraph.models.data import DataError, load_csv, write_csv
from tinygraph.models.streams import StreamError, is_stream, regular_file


@pytest.fixture
def csv_text(tmp_path) -> bytes:
    X = np.arange(6.0).reshape(2, 3)
    write_csv(tmp_path / "source.csv", X, np.array([[0.0, 1.0, 1.0]]))
    return (tmp_path / "source.csv").read_bytes()


@pytest.fixture
def stdin(monkeypatch):
    """Standard input replaced by bytes the test chooses."""

    def feed(content: bytes) -> None:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(content)))

    return feed


def named_pipe(tmp_path, content: bytes):
    """A FIFO that a thread fills with `content` once a reader opens it."""
    path = tmp_path / "pipe"
    os.mkfifo(path)

    def write() -> None:
        with open(path, "wb") as pipe:
            pipe.write(content)

    threading.Thread(target=write, daemon=True).start()
    return path


def test_a_regular_file_is_used_as_it_is(tmp_path, csv_text):
    with regular_file(tmp_path / "source.csv", "--train") as path:
        assert path == tmp_path / "source.csv"


def test_standard_input_is_read_whole_and_the_copy_removed(stdin, csv_text):
    stdin(csv_text)
    with regular_file("-", "--train") as path:
        X, Y = load_csv(path)
        copy_folder = path.parent
    assert X.shape == (2, 3) and Y.tolist() == [[0.0, 1.0, 1.0]]
    assert not copy_folder.exists()


def test_a_named_pipe_is_read_whole(tmp_path, csv_text):
    pipe = named_pipe(tmp_path, csv_text)
    assert is_stream(pipe)
    with regular_file(pipe, "--train") as path:
        X, _ = load_csv(path)
    assert X.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_an_error_about_the_data_names_standard_input_not_the_copy(stdin):
    stdin(b"1,2\n0,7\n")
    with pytest.raises(DataError) as error, regular_file("-", "--data") as path:
        load_csv(path)
    assert str(error.value) == "<stdin>, row 2 (the label row), column 2: the label 7.0 is not 0 or 1"


def test_an_error_about_a_pipe_names_the_pipe(tmp_path):
    pipe = named_pipe(tmp_path, b"")
    with pytest.raises(DataError) as error, regular_file(pipe, "--train") as path:
        load_csv(path)
    assert str(error.value) == f"{pipe}: the file is empty"


def test_a_folder_is_refused_naming_the_option(tmp_path):
    with pytest.raises(IsADirectoryError) as error, regular_file(tmp_path, "--params"):
        pass
    assert (error.value.filename, error.value.strerror) == (str(tmp_path), "--params needs a file, not a folder")


def test_no_room_for_the_copy_says_where_and_what_to_do(stdin, tmp_path, monkeypatch):
    stdin(b"1,2\n0,1\n")
    folder = tmp_path / "copies"
    folder.mkdir()
    (folder / "stdin").symlink_to("/dev/full")  # every write there fails: no space left on device
    monkeypatch.setattr("tempfile.mkdtemp", lambda **options: str(folder))
    with pytest.raises(StreamError) as error, regular_file("-", "--train"):
        pass
    assert str(error.value) == (
        f"--train <stdin>: could not copy the stream to a temporary file in {tmp_path} "
        "(No space left on device); set TMPDIR to a folder with room"
    )


def test_a_stream_that_fails_while_read_is_named(monkeypatch):
    class Broken(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            raise OSError(5, "Input/output error")

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BufferedReader(Broken())))
    with pytest.raises(StreamError) as error, regular_file("-", "--val"):
        pass
    assert str(error.value) == "--val <stdin>: could not be read (Input/output error)"
