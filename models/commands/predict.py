"""`tinygraph predict`: labels for a CSV from a trained params.npz, and their accuracy."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from models import checkpoint, data
from models.mlp import accuracy
from models.commands.arguments import probability


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "predict",
        help="predict labels with trained parameters and report the accuracy",
        description="Predict the labels of a CSV in the notebook's layout with a trained params.npz.",
    )
    p.add_argument("--params", type=Path, required=True, metavar="FILE", help="params.npz written by tinygraph train")
    p.add_argument(
        "--data", type=Path, required=True, metavar="FILE",
        help="CSV: feature rows, then a row of labels (0/1, or 0..K-1 for a network of K classes)",
    )  # fmt: skip
    p.add_argument(
        "--threshold", type=probability, default=0.5, help="two classes: predict 1 above this probability (0.5)"
    )
    p.add_argument("--out", type=Path, metavar="FILE", help="write the predictions here: one row of labels")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    model = checkpoint.load(args.params)
    labels = "classes" if model.output == "softmax" else "binary"
    X, Y = data.load_csv(args.data, dtype=model.dtype, labels=labels)
    predicted = model.predict(model.as_input(X, what=str(args.data)), threshold=args.threshold)
    print(f"accuracy on {args.data}: {accuracy(Y, predicted):.4f} ({X.shape[1]} examples)")
    if args.out is not None:
        data.write_atomically(args.out, lambda f: np.savetxt(f, predicted, fmt="%d", delimiter=","))
        print(f"wrote the predictions to {args.out}")
    return 0
