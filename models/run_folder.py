"""Run folders that are whole or absent: written in private, made visible in one rename.

A run's files are written into a hidden folder beside where the run will live
(`.tinygraph-<pid>-<random>.partial`, on the same file system), and only when
every file is complete does one rename make the folder visible:

    destination = check_destination(out, overwrite)      # before any work: may fail, creates nothing
    with RunFolder(destination) as folder:               # after training
        write the files into folder
    print("wrote the run to", destination_path)          # RunFolder.path, once published

Without --out, each run gets the next number under runs/ (runs/0001, runs/0002,
...) and the symbolic link runs/latest is switched to it; a lock file serialises
runs that finish at the same moment, so numbers are never shared and latest ends
at the highest. An explicit --out that already holds something needs overwrite,
and is then replaced by exchanging the two folders in one step (Linux's
renameat2), so it never shows a mix. Any failure or interruption while writing
removes the hidden folder; one left by a killed process (SIGKILL, power loss) is
removed by the next run that publishes in the same place.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import secrets
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import tinygraph as tg

RUNS = Path("runs")
LATEST = "latest"
NUMBER_WIDTH = 4  # runs/0001: sorts by name up to 9999 runs, and keeps counting past that
PARTIAL = re.compile(r"\.tinygraph-(\d+)-[0-9a-f]+\.partial")
RENAME_EXCHANGE = 2  # linux/fs.h: swap two paths atomically
ABANDONED_AFTER_S = 600
HELD = (signal.SIGINT, signal.SIGTERM)  # what signals_held() holds back


class OutputError(tg.TinygraphError, OSError):
    """An output location that cannot be used; the message names the option and the place."""


@dataclass(frozen=True)
class Destination:
    """Where a run will be published: an explicit folder (`out`), or the next number under `runs`."""

    out: Path | None
    overwrite: bool = False
    runs: Path = RUNS
    option: str = "--out"

    @property
    def parent(self) -> Path:
        """The folder in which the run's folder appears (and is staged)."""
        return self.runs if self.out is None else self.out.parent


def check_destination(
    out: Path | None, overwrite: bool = False, runs: Path = RUNS, option: str = "--out"
) -> Destination:
    """Check, before any work, that a run can be published at `out` (or under `runs`); create nothing.

    Refuses a path that exists and is not a folder, a folder that holds something
    unless `overwrite`, and a place where this process cannot create files (tried
    by creating and removing one, so read-only mounts, permissions and full inode
    tables all show up now rather than after training).
    """
    destination = Destination(out, overwrite, runs, option)
    if out is not None:
        named = f"{option} {out}"
        if out.exists() and not out.is_dir():
            raise OutputError(f"{named}: exists and is not a folder")
        if out.is_dir() and any(out.iterdir()):
            if not overwrite:
                raise OutputError(f"{named}: already holds files (an earlier run?); give --overwrite to replace it")
            check_writable(out, named)  # its files will be removed: a folder kept read-only is refused now
    check_writable(destination.parent, f"{option} {out}" if out is not None else f"{runs}/ (runs without {option})")
    return destination


def check_output_file(path: Path, option: str) -> None:
    """Check, before any work, that a file can be written at `path` (replacing a file there, never a folder)."""
    if path.is_dir():
        raise OutputError(f"{option} {path}: is a folder; give the name of a file to write")
    if not path.parent.is_dir():
        raise OutputError(f"{option} {path}: the folder {path.parent} does not exist")
    check_writable(path.parent, f"{option} {path}")


def check_writable(folder: Path, named: str) -> None:
    """Create and remove a file in `folder`, or in the nearest folder above it that exists."""
    existing = next(p for p in (folder, *folder.parents) if p.exists() or p == Path(p.anchor))
    if not existing.is_dir():
        raise OutputError(f"{named}: {existing} is not a folder")
    try:
        fd, probe = tempfile.mkstemp(dir=existing, prefix=".tinygraph-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        where = f"the working folder {Path.cwd()}" if existing == Path(".") else existing
        raise OutputError(f"{named}: cannot write in {where} ({error.strerror})") from None


class RunFolder:
    """`with RunFolder(destination) as folder:` write into `folder`; on success it is published at `self.path`.

    On any exception (KeyboardInterrupt included) the hidden folder is removed and
    the exception goes on; an OSError then names the run's folder, not the hidden one.
    `self.notes` says anything the user should know (an older runs/latest folder moved).
    """

    def __init__(self, destination: Destination) -> None:
        self.destination = destination
        self.path: Path | None = None
        self.notes: list[str] = []
        self._staging = Path()
        self._made: list[Path] = []  # folders above the run that this run created, removed again on failure

    def __enter__(self) -> Path:
        parent = self.destination.parent
        self._made = [p for p in reversed((parent, *parent.parents)) if not p.exists()]
        self._staging = parent / f".tinygraph-{os.getpid()}-{secrets.token_hex(4)}.partial"
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self._staging.mkdir()
        except OSError as error:  # e.g. the place was made read-only while the run trained
            self._discard()
            raise self._visible(error) from None
        return self._staging

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: object) -> None:
        if kind is None:
            try:
                with signals_held():  # a Ctrl-C now would come between the rename and runs/latest
                    self.path = self._publish(self._staging)
                    fsync(self.destination.parent)  # the rename itself, on disk
            except BaseException as failure:
                if self.path is None:  # not published (a Ctrl-C held back above arrives after it was)
                    self._discard()
                raise self._visible(failure) from None
            remove_abandoned(self.destination.parent)
            return
        self._discard()
        if error is not None and self._visible(error) is not error:
            raise self._visible(error) from None

    def _discard(self) -> None:
        """Remove the hidden folder, and the folders above it that this run created."""
        with signals_held():
            shutil.rmtree(self._staging, ignore_errors=True)
            for folder in reversed(self._made):
                with contextlib.suppress(OSError):
                    folder.rmdir()

    def _visible(self, error: BaseException) -> BaseException:
        """`error`, but an OSError about a file in the hidden folder names the run's folder instead."""
        if isinstance(error, OSError) and not isinstance(error, OutputError):  # a write's own error names no file
            visible = self.destination.out or self.destination.runs
            return OutputError(f"{visible}: could not write the run ({error.strerror or error})")
        return error

    def _publish(self, staging: Path) -> Path:
        sync_tree(staging)  # on disk before the rename, so that even a power cut cannot publish empty files
        out = self.destination.out
        if out is None:
            return self._publish_numbered(staging)
        if self.destination.overwrite and out.exists():
            replace_folder(staging, out)
            return out
        try:
            os.rename(staging, out)  # also onto an empty folder; never onto one that holds files
            return out
        except OSError as error:
            if error.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
                raise
        # Another process published at `out` while this one ran: keep both runs.
        kept = _rename_to_free_name(staging, lambda i: out.with_name(f"{out.name}-{i}"), first=2)
        self.notes.append(f"{out} was written by another run meanwhile; this run is in {kept}")
        return kept

    def _publish_numbered(self, staging: Path) -> Path:
        runs = self.destination.runs
        with _locked(runs / ".lock"):
            latest = runs / LATEST
            if latest.is_dir() and not latest.is_symlink():  # an older tinygraph's default --out
                moved = _rename_to_free_name(latest, lambda i: runs / f"{i:0{NUMBER_WIDTH}d}", first=next_number(runs))
                self.notes.append(f"moved the earlier run in {latest} to {moved}")
            path = _rename_to_free_name(staging, lambda i: runs / f"{i:0{NUMBER_WIDTH}d}", first=next_number(runs))
            link = runs / f".{LATEST}-{secrets.token_hex(4)}"
            os.symlink(path.name, link)
            os.replace(link, latest)
        return path


def sync_tree(folder: Path) -> None:
    """fsync every file under `folder`, and the folders themselves."""
    for path in sorted(folder.rglob("*"), key=lambda p: -len(p.parts)) + [folder]:
        fsync(path)


def fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def next_number(runs: Path) -> int:
    """One more than the highest numbered run under `runs`."""
    numbers = [int(p.name) for p in runs.iterdir() if p.name.isdigit()] if runs.is_dir() else []
    return max(numbers, default=0) + 1


def _rename_to_free_name(source: Path, name: Callable[[int], Path], first: int) -> Path:
    """Rename `source` to name(first), name(first + 1), ...: the first that is free (or an empty folder)."""
    i = first
    while True:
        target = name(i)
        try:
            os.rename(source, target)
            return target
        except OSError as error:
            if error.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
                raise
        i += 1


def replace_folder(new: Path, old: Path) -> None:
    """Put the folder `new` where `old` is, in one step where the system allows it; remove the old one.

    Linux's renameat2(RENAME_EXCHANGE) swaps the two atomically. Elsewhere (or on a
    file system without it) `old` is renamed aside first: there is then a moment
    when neither is there, but never a mix of the two.
    """
    if not _exchange(new, old):
        aside = old.with_name(f".{old.name}.{secrets.token_hex(4)}.replaced")
        os.rename(old, aside)
        os.rename(new, old)
        new = aside
    if new.is_symlink() or not new.is_dir():
        new.unlink()
    else:  # the new run is in place: an old file that cannot be removed leaves a hidden folder, not an error
        shutil.rmtree(new, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap the paths `a` and `b` atomically; False where the system or file system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_cwd = -100  # AT_FDCWD
    if renameat2(at_cwd, os.fsencode(a), at_cwd, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def remove_abandoned(parent: Path) -> None:
    """Remove hidden run folders left in `parent` by processes killed while writing.

    Only those of processes that no longer exist and untouched for ABANDONED_AFTER_S
    seconds: a process in another PID namespace may look dead from here, but
    writing a run takes seconds, not minutes.
    """
    now = time.time()
    for entry in parent.iterdir():
        match = PARTIAL.fullmatch(entry.name)
        if match and not process_exists(int(match.group(1))):
            with contextlib.suppress(OSError):
                if now - entry.stat().st_mtime > ABANDONED_AFTER_S:
                    shutil.rmtree(entry, ignore_errors=True)


def process_exists(pid: int) -> bool:
    """Whether a process `pid` is running on this machine (another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file `path` (created if need be) inside the block."""
    try:
        import fcntl
    except ImportError:  # not POSIX: runs finishing at the same moment may pick one number; the rename tells them apart
        yield
        return
    with open(path, "a") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold back Ctrl-C and SIGTERM for the block and deliver them after it, so that a few renames finish together.

    Python's handlers run in the main thread, whichever thread the system hands a
    signal to (numpy's BLAS threads would take it despite a blocked mask); so the
    handlers are swapped for one that notes the signal, then restored and the
    signal raised again. Outside the main thread signals cannot be handled: the block just runs.
    """
    held: list[int] = []
    try:
        previous = {number: signal.signal(number, lambda number, frame: held.append(number)) for number in HELD}
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if held:
            signal.raise_signal(held[0])
