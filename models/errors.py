"""The errors models/ raises: one family under tinygraph's TinygraphError, so one `except` catches them all.

Each also derives from the built-in error of its kind (ValueError, ImportError, ...),
so code written against those keeps working.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from tinygraph.errors import TinygraphError

T = TypeVar("T")


class DataError(TinygraphError, ValueError):
    """A data file that does not hold the notebook's layout; the message names the file, row and column."""


class ParameterError(TinygraphError, ValueError):
    """Parameters that do not make the network asked for (a name missing, a wrong shape, an unreadable file)."""


class ConfigError(TinygraphError, ValueError):
    """Settings of a network or of training that cannot work (a layer of 0 units, an unknown activation)."""


class UsageError(ConfigError):
    """Command-line options that do not go together; the message names them."""


class TrainingDivergedError(TinygraphError, ArithmeticError):
    """A loss became NaN or infinite, and training cannot go on from there."""


class MissingPackageError(TinygraphError, ImportError):
    """An optional package that a feature needs is not installed; the message says how to install it."""


class BackendUnavailableError(MissingPackageError):
    """The array library a backend needs is not installed (or, for a GPU backend, has no GPU)."""


def lookup(registry: Mapping[str, T], name: str, kind: str) -> T:
    """registry[name], e.g. an activation or an optimiser by name; a ConfigError listing the names otherwise."""
    if name not in registry:
        raise ConfigError(f"unknown {kind} {name!r}; choose one of {', '.join(registry)}")
    return registry[name]
