"""How long the documented CNN recipe takes per epoch, on the synthetic stand-in for the cat and dog files.

    python -m benchmarks.cnn_recipe [--epochs N]

The data are tinygraph.models.datasets.synthetic_images, 2,000 training and 500 validation
images of 64 x 64 x 3 drawn as `python -m tinygraph.models.datasets synthetic` draws them
(seed 1); the network and training are docs/cnn.md's recipe: blocks of 16, 32
and 64 filters, a dense layer of 64 with dropout 0.3, augmentation, Adam at
lr 0.001, batches of 64. Prints the wall-clock and CPU seconds (all threads),
the losses per epoch and the validation accuracy. The synthetic classes differ
by a disc's colour, which a one-hidden-layer net also learns: the accuracy here
says the recipe trains, not how it does on photos.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from tinygraph.models.cnn import CNN
from tinygraph.models.datasets import IMAGE_SHAPE, synthetic_images
from tinygraph.models.optimizers import Adam
from tinygraph.models.train import train


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cnn_recipe", description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=2, help="epochs to time (default: 2)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(1)
    (X, Y), (val_X, val_Y) = synthetic_images(2000, rng), synthetic_images(500, rng)
    model = CNN(IMAGE_SHAPE, (16, 32, 64), (64,), 1, dropout=0.3, augment=True, seed=1)
    start, start_cpu = time.perf_counter(), time.process_time()
    result = train(model, X, Y, val_X, val_Y, optimizer=Adam(model.parameters(), lr=0.001), epochs=args.epochs,
                   batch_size=64)  # fmt: skip
    wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    print(f"{model!r}, {model.parameter_count():,} parameters")
    print(f"{args.epochs} epochs: {wall:.0f} s wall clock, {cpu:.0f} s CPU ({cpu / args.epochs:.0f} s CPU per epoch)")
    print(f"train loss per epoch {np.round(result.history['train_loss'], 3).tolist()}, "
          f"validation loss {np.round(result.history['val_loss'], 3).tolist()}")  # fmt: skip
    print(f"validation accuracy {model.accuracy(val_X, val_Y):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
