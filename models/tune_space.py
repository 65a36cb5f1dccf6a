"""The search space of `tinygraph tune --space`: options of `tinygraph train`, each a range, choices or one value.

    lr=1e-4..1:log          a range of numbers, sampled on a log scale
    hidden=10..200          whole numbers, as --hidden takes them
    hidden=10..200:10       ... in steps of 10 (a step also lets --sampler grid walk a range)
    optimizer=sgd,adam      choices
    layers=64|64,32         choices separated by |, for a value that holds commas itself
    epochs=20               one value, the same in every trial

Entries are separated by spaces. Each value is read by `tinygraph train`'s own
parser, so a space accepts what train accepts and refuses it with train's words.
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
from dataclasses import dataclass
from typing import Any

from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

from tinygraph.models.commands.tune import DATA_OPTIONS, train_parser
from tinygraph.models.errors import ConfigError

NOT_SEARCHED = {*DATA_OPTIONS, "out", "backend", "scheduler", "print_every", "seed", "help"}


class SpaceError(ConfigError):
    """A --space entry that tinygraph train cannot take, or a space a sampler cannot walk."""


@dataclass(frozen=True)
class Space:
    """Optuna distributions of the searched options, and the fixed ones (as train's command-line words)."""

    distributions: dict[str, BaseDistribution]
    fixed: tuple[str, ...]

    def argv(self, params: dict[str, Any]) -> list[str]:
        """train's options for a trial's parameters (the fixed ones first)."""
        return [*self.fixed, *(f"--{name}={as_text(value)}" for name, value in params.items())]

    def grid(self, seed: int) -> list[dict[str, Any]]:
        """Every combination of the searched values, in an order shuffled by `seed` (as Optuna's GridSampler)."""
        names = list(self.distributions)
        values = [grid_values(name, self.distributions[name]) for name in names]
        points = [dict(zip(names, combination)) for combination in itertools.product(*values)]
        random.Random(seed).shuffle(points)
        return points


def parse_space(text: str) -> Space:
    """The Space of --space TEXT: entries NAME=VALUES separated by spaces (see the module's docstring)."""
    parser, distributions, fixed, seen = train_parser(), {}, [], set()
    if not text.split():
        raise SpaceError("--space is empty: give entries such as 'lr=1e-3..1:log hidden=10..200'")
    for entry in text.split():
        name, _, values = entry.partition("=")
        name = name.replace("_", "-")
        if name in seen:
            raise SpaceError(f"--space {entry!r}: {name} is given twice")
        seen.add(name)
        if not values:
            raise SpaceError(f"--space {entry!r}: write NAME=VALUES, e.g. lr=1e-3..1:log or optimizer=sgd,adam")
        check_name(parser, entry, name)
        distribution = parse_values(parser, entry, name, values)
        if distribution is None:
            read(parser, entry, name, values)
            fixed.append(f"--{name}={values}")
        else:
            distributions[name] = distribution
    return Space(distributions, tuple(fixed))


def check_name(parser: argparse.ArgumentParser, entry: str, name: str) -> None:
    if name.replace("-", "_") in NOT_SEARCHED:
        raise SpaceError(f"--space {entry!r}: {name} is not a hyperparameter (give data options to tune itself)")
    if f"--{name}" not in parser._option_string_actions:  # argparse's table of options; no public lookup exists
        raise SpaceError(f"--space {entry!r}: tinygraph train has no option --{name}")


def parse_values(parser: argparse.ArgumentParser, entry: str, name: str, values: str) -> BaseDistribution | None:
    """The distribution of a range or of choices; None for a single value."""
    low, is_range, high = values.partition("..")
    if is_range:
        return parse_range(parser, entry, name, low, *high.partition(":")[::2])
    # --layers 64,32 is one value: its choices are separated by |
    holds_commas = isinstance(read(parser, entry, name, "1", check=False), list)
    choices = values.split("|" if "|" in values or holds_commas else ",")
    if len(choices) == 1:
        return None
    if len(set(choices)) < len(choices):
        raise SpaceError(f"--space {entry!r}: a choice is listed twice")
    read_choices = [read(parser, entry, name, choice) for choice in choices]
    # Optuna stores str, int and float choices; a list (--layers) is kept as train's text.
    return CategoricalDistribution(
        [value if isinstance(value, (int, float, str)) else text for value, text in zip(read_choices, choices)]
    )


def parse_range(
    parser: argparse.ArgumentParser, entry: str, name: str, low_text: str, high_text: str, scale: str
) -> BaseDistribution:
    """LOW..HIGH, LOW..HIGH:log or LOW..HIGH:STEP: whole numbers when train reads both ends as whole numbers."""
    low, high = read(parser, entry, name, low_text), read(parser, entry, name, high_text)
    if not all(isinstance(end, (int, float)) for end in (low, high)):
        raise SpaceError(f"--space {entry!r}: {name} takes no range of values; list choices, e.g. {name}=a,b")
    if low > high:
        raise SpaceError(f"--space {entry!r}: the low end {low} is above the high end {high}")
    whole = isinstance(low, int) and isinstance(high, int)
    log, step = False, None
    if scale == "log":
        log = True
        if low <= 0:
            raise SpaceError(f"--space {entry!r}: a log scale needs a low end above 0")
    elif scale:
        try:
            step = int(scale) if whole else float(scale)
        except ValueError:
            step = None
        if step is None or not 0 < step < math.inf:
            raise SpaceError(f"--space {entry!r}: after ':' write log or a step above 0, not {scale!r}")
    if whole:
        return IntDistribution(low, high, log=log, step=step or 1)
    return FloatDistribution(float(low), float(high), log=log, step=step)


def read(parser: argparse.ArgumentParser, entry: str, name: str, text: str, check: bool = True) -> Any:
    """`text` as tinygraph train reads --NAME (with train's type and choices); a SpaceError names the entry."""
    try:
        namespace, _ = parser.parse_known_args([f"--{name}={text}"])
    except argparse.ArgumentError as error:
        if not check:
            return None
        raise SpaceError(f"--space {entry!r}: {error}") from None
    return getattr(namespace, name.replace("-", "_"))


def grid_values(name: str, distribution: BaseDistribution) -> list[Any]:
    if isinstance(distribution, CategoricalDistribution):
        return list(distribution.choices)
    if distribution.step is None:  # a continuous range has no grid
        raise SpaceError(
            f"--sampler grid: --space {name} is a range without a step; list values ({name}=a,b,c) "
            f"or give a step ({name}=LOW..HIGH:STEP)"
        )
    count = math.floor((distribution.high - distribution.low) / distribution.step + 1e-9) + 1
    return [distribution.low + i * distribution.step for i in range(count)]


def as_text(value: Any) -> str:
    """A parameter as train reads it back exactly (repr keeps every digit of a float)."""
    return repr(value) if isinstance(value, float) else str(value)
