"""The `tinygraph` command: train the notebook's classifier or a deeper net, predict with it, draw it.

    tinygraph train                                      # the built-in two moons
    tinygraph predict --params runs/latest/params.npz --data validation.csv
    tinygraph graph --out runs/graph                     # the classifier's graph, for a lecture
    tinygraph curve runs/latest/history.json --compare notebook-log.txt --out curve.png
    tinygraph check hand_ins/                            # gradient-check the students' nodes

Each subcommand is a module of models/commands with `add_parser(subparsers)` and
`run(args) -> int`. Bad paths and bad data end with one line on stderr and exit
code 2; every file is written whole or not at all.
"""

from __future__ import annotations

import argparse
import signal
import sys
import warnings
from collections.abc import Sequence
from typing import NoReturn

import tinygraph as tg
from tinygraph.models.commands import check, curve, graph, predict, train, tune
from tinygraph.models.commands.arguments import (
    EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_TERMINATED, describe, tell_warnings,
)  # fmt: skip
from tinygraph.models.errors import UsageError

COMMANDS = (train, predict, graph, tune, curve, check)


class Parser(argparse.ArgumentParser):
    """argparse's parser, whose errors are one line (argparse's own also print the whole usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="tinygraph", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"tinygraph {tg.__version__}")
    subparsers = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def terminate(signum: int, frame: object) -> NoReturn:
    """SIGTERM (kill's default): unwind from where the program is, as Ctrl-C does, so nothing half-written is left.

    SystemExit, not KeyboardInterrupt: training does not stop to save what it learned, as it does for Ctrl-C.
    """
    raise SystemExit(EXIT_TERMINATED)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        with warnings.catch_warnings(record=True) as caught:  # told in one line each, not with source lines
            try:
                return args.run(args)
            finally:
                tell_warnings(caught, "tinygraph")
    except SystemExit as stop:
        if stop.code != EXIT_TERMINATED:
            raise
        print("tinygraph: terminated; an unfinished run was not written", file=sys.stderr)
        return EXIT_TERMINATED
    except UsageError as error:
        parser.error(str(error))  # argparse's usage line, and exit code 2
    except (OSError, tg.TinygraphError) as error:  # every error of models/ is a TinygraphError
        print(f"tinygraph: error: {describe(error)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except MemoryError as error:  # one the memory estimate did not foresee
        print(f"tinygraph: error: not enough memory ({error or 'an allocation failed'})", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:  # outside training, e.g. while loading a large CSV
        print("tinygraph: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
