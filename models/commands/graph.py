"""`tinygraph graph`: the notebook's classifier drawn on a tiny input, for a lecture."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tinygraph.viz import GraphvizNotFoundError
from models import graph_views
from models.commands.arguments import EXIT_BAD_INPUT, layer_sizes
from models.run_folder import RunFolder, check_destination

VIEWS = {"forward.svg", "local_grads.svg", "backward.svg", "step-through"}  # what write_graph_views writes


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "graph",
        help="draw the notebook's classifier, for a lecture",
        description=(
            "Draw the notebook's classifier on a tiny input into --out: forward.svg, local_grads.svg, "
            "backward.svg, and step-through/step-through.html, the backward pass step by step. "
            "Needs the graphviz package (pip install graphviz) and Graphviz's dot program."
        ),
    )
    p.add_argument("--out", type=Path, default=Path("runs/graph"), metavar="DIR", help="default: runs/graph")
    p.add_argument("--conv", type=layer_sizes, metavar="F,F,...", help="draw a tiny CNN with these blocks instead")
    p.add_argument("--overwrite", action="store_true", help="replace an --out that holds other files")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # A folder holding only these pictures (an earlier `tinygraph graph`) is replaced without asking.
    ours = args.out.is_dir() and {p.name for p in args.out.iterdir()} <= VIEWS
    folder = RunFolder(check_destination(args.out, overwrite=args.overwrite or ours))
    missing_dot = None
    try:
        with folder as staging:
            try:
                written = [p.relative_to(staging).as_posix() for p in graph_views.write_graph_views(staging, args.conv)]
            except GraphvizNotFoundError as error:  # the pictures' sources are published, to render later
                missing_dot = str(error).replace(str(staging), str(args.out))
    except ImportError as error:  # graphviz is an optional extra; the message says how to install it
        print(f"tinygraph: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if missing_dot is not None:
        print(f"tinygraph: error: {missing_dot}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"wrote {', '.join(written)} to {folder.path}")
    return 0
