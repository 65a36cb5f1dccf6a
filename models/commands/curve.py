"""`tinygraph curve`: a run's learning curve, with a second history laid over it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from tinygraph.models import data, plots


ABOUT = (
    "Draw the training and validation losses of a run's history.json, with a second history (another run's "
    "history.json, or the notebook's printed 'iteration 0 :train_loss:... val_loss...' lines) dashed over it."
)


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("curve", help="draw a learning curve, with a second history over it", description=ABOUT)
    p.add_argument("history", type=Path, metavar="HISTORY", help="history.json written by tinygraph train")
    p.add_argument("--compare", type=Path, metavar="FILE", help="a second history.json, or the notebook's log")
    p.add_argument("--label", default=None, metavar="TEXT", help="the second history's name in the legend")
    p.add_argument("--out", type=Path, required=True, metavar="FILE", help="the picture to write (.png, .svg, .pdf)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    history = plots.read_history(args.history)
    per = "iteration"  # what one entry is; a run's history.json says
    if args.history.suffix == ".json":
        per = json.loads(args.history.read_text()).get("per", per)
    compare = None if args.compare is None else plots.read_history(args.compare)
    label = args.label or (args.compare.stem if args.compare is not None else "")
    figure = plots.learning_curve(history, per, compare=compare, compare_label=label)
    data.write_atomically(args.out, lambda f: figure.savefig(f, format=args.out.suffix.lstrip(".") or "png"))
    print(f"wrote {args.out}")
    return 0
