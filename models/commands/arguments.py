"""What the subcommands share: exit codes, option types that say what they accept, one-line error text."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Iterable
from typing import Any

EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 1
EXIT_INTERRUPTED = 130  # the shell's code for a program stopped by Ctrl-C
EXIT_TERMINATED = 143  # the shell's code for a program stopped by SIGTERM


def positive_int(text: str) -> int:
    return _number(text, int, lambda v: v > 0, "a whole number above 0")


def non_negative_int(text: str) -> int:
    return _number(text, int, lambda v: v >= 0, "a whole number, 0 or more")


def seed(text: str) -> int:
    """A seed that numpy's generators take, as the notebook's np.random.seed does: 0 to 2**32 - 1."""
    return _number(text, int, lambda v: 0 <= v < 2**32, "a seed from 0 to 4294967295 (2**32 - 1)")


def positive_float(text: str) -> float:
    return _number(text, float, lambda v: 0 < v < float("inf"), "a number above 0")


def non_negative_float(text: str) -> float:
    return _number(text, float, lambda v: 0 <= v < float("inf"), "a number, 0 or more")


def probability(text: str) -> float:
    return _number(text, float, lambda v: 0 <= v <= 1, "a number from 0 to 1")


def dropout_rate(text: str) -> float:
    return _number(text, float, lambda v: 0 <= v < 1, "a probability from 0 up to (not including) 1")


def decay_factor(text: str) -> float:
    return _number(text, float, lambda v: 0 < v <= 1, "a factor above 0, at most 1")


def layer_sizes(text: str) -> list[int]:
    """'64,32' -> [64, 32]: the hidden layers' sizes."""
    try:
        return [positive_int(size) for size in text.split(",")]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"{text!r} is not hidden layer sizes such as 64,32") from None


def _number(text: str, kind: type, ok: Callable[[Any], bool], what: str) -> Any:
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not ok(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
    return value


def tell_warnings(caught: Iterable[warnings.WarningMessage], command: str) -> None:
    """Each distinct warning caught while a command ran, in one line on stderr (numpy's name no source line)."""
    for message in dict.fromkeys(str(w.message) for w in caught):
        print(f"{command}: warning: {message}", file=sys.stderr)


def describe(error: Exception) -> str:
    """One line for the user: the OS's errors name the file themselves only in their filename field."""
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or error}"
    return str(error)
