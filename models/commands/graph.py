"""`tinygraph graph`: the notebook's classifier drawn on a tiny input, for a lecture."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from models import graph_views
from models.commands.arguments import EXIT_BAD_INPUT


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
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        written = graph_views.write_graph_views(args.out)
    except ImportError as error:  # graphviz is an optional extra; the message says how to install it
        print(f"tinygraph: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"wrote {', '.join(p.relative_to(args.out).as_posix() for p in written)} to {args.out}")
    return 0
