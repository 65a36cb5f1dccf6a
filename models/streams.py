"""Input files that may be streams: `-` for standard input, or a named pipe such as bash's `<(cat train.csv)`.

The CSV loader reads a file several times over (to find the lines, then in parts
on several threads) and a .npz archive is read by seeking, so a stream is first
copied whole into a private temporary file, removed afterwards. Messages about
the copy name the argument the user gave (`<stdin>`, `/dev/fd/63`), never the copy.

    with regular_file(args.train, "--train") as path:
        X, Y = data.load_csv(path)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from tinygraph.errors import TinygraphError

STDIN = "-"
STDIN_NAME = "<stdin>"


class StreamError(TinygraphError, OSError):
    """A stream that could not be read or copied; the message names the argument."""


def name_of(argument: str | os.PathLike[str]) -> str:
    """What messages call an input argument: '<stdin>' for '-', else the path as given."""
    return STDIN_NAME if str(argument) == STDIN else str(argument)


def is_stream(argument: str | os.PathLike[str]) -> bool:
    """Whether `argument` is '-' or names a pipe, socket or character device (not a file that can be read again)."""
    if str(argument) == STDIN:
        return True
    try:
        mode = os.stat(argument).st_mode
    except OSError:
        return False  # opening it will say what is wrong, naming it
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)


@contextlib.contextmanager
def regular_file(argument: str | os.PathLike[str], option: str) -> Iterator[Path]:
    """A path that can be opened again and again holding what `argument` holds (the argument of `option`).

    A regular file is itself; '-' and pipes are copied into a temporary file,
    removed when the block ends. An error inside the block that names the copy
    is raised again naming the argument.
    """
    path = Path(argument)
    if not is_stream(argument):
        if path.is_dir():
            raise IsADirectoryError(21, f"{option} needs a file, not a folder", str(path))
        yield path
        return
    name = name_of(argument)
    folder = Path(tempfile.mkdtemp(prefix="tinygraph-stream-"))
    copy = folder / (path.name if str(argument) != STDIN else "stdin")
    try:
        try:
            with contextlib.ExitStack() as stack:
                source = sys.stdin.buffer if str(argument) == STDIN else stack.enter_context(open(path, "rb"))
                target = stack.enter_context(open(copy, "wb"))
                while chunk := _read(source, option, name):
                    target.write(chunk)
        except StreamError:
            raise
        except OSError as error:  # writing the copy (a full disk shows when it is closed)
            raise StreamError(
                f"{option} {name}: could not copy the stream to a temporary file in {folder.parent} "
                f"({error.strerror or error}); set TMPDIR to a folder with room"
            ) from None
        try:
            yield copy
        except Exception as error:  # noqa: BLE001 (raised again, as it was or naming the argument)
            renamed = _renamed(error, str(copy), name)
            if renamed is error:
                raise
            raise renamed from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _read(source: IO[bytes], option: str, name: str) -> bytes:
    try:
        return source.read(1 << 20)
    except OSError as error:
        raise StreamError(f"{option} {name}: could not be read ({error.strerror or error})") from None


def _renamed(error: Exception, copy: str, name: str) -> Exception:
    """`error` with the path of the copy replaced by the argument's name; `error` itself if it does not name it."""
    if isinstance(error, OSError) and error.filename == copy:
        return type(error)(error.errno, error.strerror, name)
    if copy not in str(error) or len(error.args) != 1:
        return error
    try:
        return type(error)(str(error).replace(copy, name))
    except TypeError:  # an error class that is not made from its message alone
        return error
