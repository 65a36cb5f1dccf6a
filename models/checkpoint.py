"""Saving a trained network and loading it back: one .npz file, no pickle.

    save(model, "params.npz")
    model = load("params.npz")

The file holds each parameter as an array under its name (W1, b1, W2, b2, ...),
which `np.load(path, allow_pickle=False)` reads anywhere, and an `architecture`
entry: JSON text saying which network the arrays make. A file without that entry
(the notebook's own W1, b1, W2, b2) loads as the notebook's classifier. Loading
trusts nothing in the file: tinygraph.models.untrusted checks it all first.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO

import numpy as np

from tinygraph.models.classifier import Classifier
from tinygraph.models.cnn import CNN
from tinygraph.models.data import write_atomically
from tinygraph.models.mlp import MLP
from tinygraph.models.untrusted import ARCHITECTURE, read_params



def save(model: MLP, path: str | os.PathLike[str]) -> None:
    """Write the model's parameters and architecture to `path` (.npz), whole or not at all."""
    arrays = {**model.arrays(), ARCHITECTURE: np.array(json.dumps(model.architecture()))}
    write_atomically(Path(path), lambda f: np.savez(f, **arrays))


def load(source: str | os.PathLike[str] | IO[bytes], name: str | None = None) -> MLP:
    """The network saved in `source` (a path, or a binary file such as standard input read into memory).

    The file is checked whole by tinygraph.models.untrusted before any network is built:
    anything else is a ParameterError naming the file (`name`, default the path) and the key.
    """
    saved = read_params(source, name)
    if saved.architecture is None or saved.architecture.get("network") == "Classifier":
        return Classifier.from_arrays(saved.arrays)
    if saved.architecture.get("network") == "CNN":
        return CNN.from_architecture(saved.architecture, saved.arrays)
    return MLP.from_architecture(saved.architecture, saved.arrays)
