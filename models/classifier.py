"""The lecture notebook's network: one ReLU hidden layer, one sigmoid output, mean BCE loss.

    Z1 = W1 X + b1      nh x n
    A1 = relu(Z1)       nh x n
    Z2 = W2 A1 + b2     1 x n
    Yhat = sigmoid(Z2)  1 x n
    L = -1/n sum(Y log(Yhat) + (1 - Y) log(1 - Yhat))

It is MLP([nx, nh, 1], "relu", init="uniform"), drawn as the lecture draws it: the
products keep their names (W1X, W2A1) and the loss is the notebook's sigmoid
followed by BCE, two nodes in the pictures, where the MLP fuses them. Examples
are columns; every gradient comes from the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

import tinygraph as tg
from tinygraph.models.errors import ParameterError
from tinygraph.models.mlp import MLP, named, retained


class Classifier(MLP):
    """W1 (nh x nx), b1 (nh x 1), W2 (1 x nh), b2 (1 x 1), drawn exactly as the notebook's
    initialize_parameters draws them from np.random.seed(seed) (without touching numpy's global state)."""

    def __init__(self, nx: int, nh: int, seed: int = 1, dtype: Any = np.float64):
        super().__init__([nx, nh, 1], "relu", init="uniform", seed=seed, dtype=dtype)

    W1 = property(lambda self: self.params["W1"])
    b1 = property(lambda self: self.params["b1"])
    W2 = property(lambda self: self.params["W2"])
    b2 = property(lambda self: self.params["b2"])

    @classmethod
    def from_arrays(cls, params: Mapping[str, Any], dtype: Any = None) -> Classifier:
        """A classifier holding copies of params["W1"], ..., params["b2"] (cast to `dtype` if given)."""
        if "W1" not in params or np.ndim(params["W1"]) != 2:
            raise ParameterError(f"Classifier: parameters need a matrix W1 (found {sorted(params)})")
        nh, nx = np.shape(params["W1"])
        model = cls(nx, nh, dtype=np.asarray(params["W1"]).dtype if dtype is None else dtype)
        model.load_arrays(params)
        return model

    @property
    def nh(self) -> int:
        return self.layer_sizes[1]

    def __repr__(self) -> str:
        return f"Classifier(nx={self.nx}, nh={self.nh}, {self.dtype})"

    def forward_steps(self, X: Any, training: bool = False, retain_grad: bool = False) -> dict[str, tg.Tensor]:
        """The notebook's cache: Z1, A1, Z2 and Yhat, each named (the products too, for the pictures)."""
        X = self.as_input(X)
        Z1 = named(named(self.W1 @ X, "W1X") + self.b1, "Z1")  # a picture labels W1's edge dL/dW1 = dL/dW1X X^T
        A1 = named(tg.relu(Z1), "A1")
        Z2 = named(named(self.W2 @ A1, "W2A1") + self.b2, "Z2")
        steps = {"Z1": Z1, "A1": A1, "Z2": Z2, "Yhat": named(tg.sigmoid(Z2), "Yhat")}
        return retained(steps) if retain_grad else steps

    def loss_of(self, steps: Mapping[str, tg.Tensor], Y: Any) -> tg.Tensor:
        """L = BCE(Yhat, Y), the notebook's compute_loss; Y is 1 x n of 0s and 1s."""
        Yhat = steps["Yhat"]
        return named(tg.binary_cross_entropy(Yhat, self.as_labels(Y, Yhat.shape[1])), "L")

    def probabilities_of(self, steps: Mapping[str, tg.Tensor]) -> np.ndarray:
        """Yhat, 1 x n: the probability of class 1 for each example."""
        return steps["Yhat"].numpy()
