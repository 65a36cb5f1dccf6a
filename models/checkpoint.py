"""Saving a trained network and loading it back: one .npz file, no pickle.

    save(model, "params.npz")
    model = load("params.npz")

The file holds each parameter as an array under its name (W1, b1, W2, b2, ...),
which `np.load(path, allow_pickle=False)` reads anywhere, and an `architecture`
entry: JSON text saying which network the arrays make. A file without that entry
(the notebook's own W1, b1, W2, b2) loads as the notebook's classifier.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

import tinygraph as tg
from models.classifier import Classifier
from models.data import write_atomically
from models.errors import ParameterError
from models.mlp import MLP

ARCHITECTURE = "architecture"  # the entry that says which network the arrays make
NOTEBOOK = {"network": "Classifier"}  # the architecture of a file without one: the notebook's W1, b1, W2, b2


def save(model: MLP, path: str | os.PathLike[str]) -> None:
    """Write the model's parameters and architecture to `path` (.npz), whole or not at all."""
    arrays = {**model.arrays(), ARCHITECTURE: np.array(json.dumps(model.architecture()))}
    write_atomically(Path(path), lambda f: np.savez(f, **arrays))


def load(path: str | os.PathLike[str]) -> MLP:
    """The network saved in `path`; anything else is a ParameterError naming the file."""
    try:  # a missing file raises FileNotFoundError, which names it already
        saved = np.load(path, allow_pickle=False)
    except (ValueError, EOFError, zipfile.BadZipFile) as error:
        raise ParameterError(f"{path}: not a .npz file of parameters ({error})") from None
    if not isinstance(saved, np.lib.npyio.NpzFile):
        raise ParameterError(f"{path}: holds a single array, not a .npz file of parameters")
    try:
        with saved:
            arrays = {name: saved[name] for name in saved.files if name != ARCHITECTURE}
            architecture = json.loads(str(saved[ARCHITECTURE])) if ARCHITECTURE in saved.files else NOTEBOOK
            if architecture.get("network") == "Classifier":
                return Classifier.from_arrays(arrays)
            return MLP.from_architecture(architecture, arrays)
    except (ValueError, tg.TinygraphError, zipfile.BadZipFile) as error:  # the models' errors too
        raise ParameterError(f"{path}: {error}") from None

