"""`tinygraph train`'s options for a convolutional network: its blocks, the images' shape, augmentation."""

from __future__ import annotations

import argparse
from typing import Any

from tinygraph.models.commands.arguments import layer_sizes, positive_int


def image_shape(text: str) -> tuple[int, int, int]:
    """'64,64,3' -> (64, 64, 3): height, width and channels of each image column."""
    try:
        sizes = tuple(positive_int(size) for size in text.split(","))
    except argparse.ArgumentTypeError:
        sizes = ()
    if len(sizes) != 3:
        raise argparse.ArgumentTypeError(f"{text!r} is not an image shape such as 64,64,3 (height,width,channels)")
    return sizes


def add_arguments(group: Any) -> None:
    group.add_argument(
        "--conv", type=layer_sizes, metavar="F,F,...",
        help="a CNN: one block of 3x3 convolution, relu and 2x2 max pooling per entry, with that many filters "
        "(e.g. 16,32,64), then the --layers dense layers",
    )  # fmt: skip
    group.add_argument(
        "--image-shape", type=image_shape, metavar="H,W,C",
        help="with --conv: each column of X is an H x W x C image flattened as numpy reshapes it (default: 64,64,3)",
    )  # fmt: skip
    group.add_argument(
        "--augment", action="store_true", default=None,
        help="with --conv: flip each training image left-right at random and shift it by up to 1/16 of its side",
    )  # fmt: skip
