"""The `tinygraph` subcommands, one module each.

Every module exposes `add_parser(subparsers) -> None`, which declares the
subcommand and its options (and sets `run` as its default), and `run(args) -> int`,
which does the work and returns the exit code. models/cli.py lists the modules.
"""
