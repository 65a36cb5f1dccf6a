"""CNN against an MLP of about as many parameters on scikit-learn's digits, centred and moved.

    python -m benchmarks.cnn_digits [--epochs N]

1,400 training and 397 validation digits (tinygraph.models.image_datasets.load_digits),
as they come (8 x 8, centred) and pasted at random places on a 16 x 16 canvas.
Each network: Adam at lr 0.01, batches of 32, seed 1. Prints a Markdown table of
parameter counts and validation accuracies, and the seconds each training took.
"""

from __future__ import annotations

import argparse
import time

from tinygraph.models.cnn import CNN
from tinygraph.models.image_datasets import load_digits
from tinygraph.models.mlp import MLP
from tinygraph.models.optimizers import Adam
from tinygraph.models.train import train


def networks(side: int) -> list:
    """A CNN of two blocks (8 and 16 filters) and an MLP with one hidden layer of about as many parameters."""
    cnn = CNN((side, side, 1), filters=(8, 16), outputs=10, seed=1)
    features = side * side
    hidden = round((cnn.parameter_count() - 10) / (features + 11))  # features h + h + 10 h + 10 parameters
    return [cnn, MLP([features, hidden, 10], "relu", init="he", seed=1)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cnn_digits", description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=15, help="passes over the training digits (default: 15)")
    args = parser.parse_args(argv)
    print("| digits | network | parameters | validation accuracy | seconds |")
    print("| --- | --- | --- | --- | --- |")
    for name, canvas in (("8 x 8, centred", None), ("on a 16 x 16 canvas, moved", 16)):
        split = load_digits(canvas=canvas)
        for model in networks(canvas or 8):
            start = time.perf_counter()
            train(model, *split, optimizer=Adam(model.parameters(), lr=0.01), epochs=args.epochs, batch_size=32)
            seconds = time.perf_counter() - start
            figures = f"{model.parameter_count():,} | {model.accuracy(*split[2:]):.3f} | {seconds:.0f}"
            print(f"| {name} | `{model!r}` | {figures} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
