"""Indexing and slicing: t[i, j], t[:, :5], t[[0, 2]] as a node of the graph."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygraph.errors import ShapeError
from tinygraph.node import Node
from tinygraph.tensor import Tensor


class Index(Node):
    """Z = A[index];  dL/dA = zeros shaped as A, with dL/dZ added at [index]

    Each picked entry gets its gradient back and the others get 0; an entry picked
    twice (t[[0, 0]]) gets both contributions added.
    """

    shapes = {"A": "m n"}
    check_with = ({"index": 0}, {"index": (slice(None), -1)}, {"index": [0, 0]})  # a row, a column, a row twice

    def __init__(self, index: Any):
        self.index = index

    def forward(self, A):
        self.input_shape = tuple(A.shape)
        try:
            return A[self.index]
        except IndexError as error:
            raise ShapeError(f"Index: cannot index shape {self.input_shape} with {self.index!r}: {error}") from None

    def local_grads(self, dZ):
        if self.xp is np:
            dA = np.zeros(self.input_shape, dtype=dZ.dtype)
            np.add.at(dA, self.index, dZ)  # adds, where `dA[index] += dZ` would keep one of repeated entries
            return (dA,)
        from array_api_compat import device

        # Other libraries: the standard's setitem, exact for slices and single entries (no repeats).
        dA = self.xp.zeros(self.input_shape, dtype=dZ.dtype, device=device(dZ))
        dA[self.index] = dZ
        return (dA,)


def index(A: Any, key: Any) -> Tensor:
    """A[key] as a node: integers, slices, Ellipsis, None and integer or boolean arrays, as numpy indexes."""
    return Index.apply(A, index=_plain_key(key))


def _plain_key(key: Any) -> Any:
    """The key with any Tensor in it replaced by its array (an index is data, not part of the graph)."""
    if isinstance(key, tuple):
        return tuple(_plain_key(k) for k in key)
    return key.data if isinstance(key, Tensor) else key
