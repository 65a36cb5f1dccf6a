"""`tinygraph predict`: labels (or probabilities) for a CSV from a trained params.npz, and their accuracy."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from tinygraph.models import checkpoint, data
from tinygraph.models.commands.arguments import probability
from tinygraph.models.errors import UsageError
from tinygraph.models.mlp import accuracy
from tinygraph.models.resources import memory_errors
from tinygraph.models.run_folder import OutputError, check_output_file
from tinygraph.models.streams import name_of, regular_file


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "predict",
        help="predict labels with trained parameters, and report the accuracy when the data have labels",
        description="Predict the labels of a CSV in the notebook's layout with a trained params.npz. The CSV "
        "may end with a label row (then the accuracy is reported) or hold the feature rows only.",
    )
    p.add_argument(
        "--params", type=Path, required=True, metavar="FILE",
        help="params.npz written by tinygraph train ('-': standard input)",
    )  # fmt: skip
    p.add_argument(
        "--data", type=Path, required=True, metavar="FILE",
        help="CSV: feature rows, perhaps then a row of labels (0/1, or 0..K-1 for a network of K classes); "
        "'-': standard input",
    )  # fmt: skip
    p.add_argument(
        "--threshold", type=probability, default=0.5, help="two classes: predict 1 above this probability (0.5)"
    )
    p.add_argument("--out", type=Path, metavar="FILE", help="write the predictions here: one row of labels")
    p.add_argument(
        "--proba", action="store_true",
        help="--out holds probabilities instead: one row (of class 1) for two classes, K rows for K classes",
    )  # fmt: skip
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.proba and args.out is None:
        raise UsageError("--proba says what --out holds: give --out FILE too")
    if str(args.params) == str(args.data) == "-":
        raise UsageError("--params and --data cannot both read standard input ('-')")
    if args.out is not None:  # before any work: a folder, or a place this process cannot write, fails now
        check_output_file(args.out, "--out")
    with regular_file(args.params, "--params") as params:
        model = checkpoint.load(params, name=name_of(args.params))
    labels = "classes" if model.output == "softmax" else "binary"
    data_name = name_of(args.data)
    with regular_file(args.data, "--data") as path, memory_errors(f"--data {data_name}"):
        X, Y = data.load_examples(path, model.nx, dtype=model.dtype, labels=labels)
        found = "a label row" if Y is not None else "no label row: predictions only"
        print(f"{data_name}: {X.shape[1]} examples of {model.nx} features, {found}")
        predicted = model.predict(X, threshold=args.threshold)
        if Y is not None:
            print(f"accuracy on {data_name}: {accuracy(Y, predicted):.4f} ({X.shape[1]} examples)")
        values, fmt = (model.probabilities(X), "%.17g") if args.proba else (predicted, "%d")
    if args.out is not None:
        try:
            data.write_atomically(args.out, lambda f: np.savetxt(f, values, fmt=fmt, delimiter=","))
        except OSError as error:  # named by --out, not by the temporary file it was written through
            raise OutputError(f"--out {args.out}: could not write them ({error.strerror or error})") from None
        print(f"wrote the {'probabilities' if args.proba else 'predictions'} to {args.out}")
    return 0
