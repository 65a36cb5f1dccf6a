"""The lecture notebook's network: one ReLU hidden layer, one sigmoid output, mean BCE loss.

    Z1 = W1 X + b1      nh x n
    A1 = relu(Z1)       nh x n
    Z2 = W2 A1 + b2     1 x n
    Yhat = sigmoid(Z2)  1 x n
    L = -1/n sum(Y log(Yhat) + (1 - Y) log(1 - Yhat))

Examples are columns, as in the notebook. Every gradient comes from the engine:
there is no hand-written backward pass here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

import tinygraph as tg
from tinygraph.backend import as_array, is_foreign_array, namespace_of

PARAMETER_NAMES = ("W1", "b1", "W2", "b2")


class ParameterError(tg.TinygraphError, ValueError):
    """Saved parameters that do not make a classifier (a name missing, an unreadable file)."""


class Classifier:
    """W1 (nh x nx), b1 (nh x 1), W2 (1 x nh), b2 (1 x 1) as leaf tensors that require gradients.

    Build one with `Classifier.initialize(nx, nh)` (the notebook's
    initialize_parameters) or `Classifier.from_arrays(params)` (e.g. a saved params.npz).
    """

    def __init__(self, W1: tg.Tensor, b1: tg.Tensor, W2: tg.Tensor, b2: tg.Tensor):
        nh, nx = W1.shape if W1.ndim == 2 else (-1, -1)
        expected = {"W1": (nh, nx), "b1": (nh, 1), "W2": (1, nh), "b2": (1, 1)}
        given = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
        wrong = [name for name, t in given.items() if t.shape != expected[name]]
        if nh < 1 or wrong:
            shapes = ", ".join(f"{name} {t.shape}" for name, t in given.items())
            raise tg.ShapeError(
                f"Classifier: parameters must be W1 (nh, nx), b1 (nh, 1), W2 (1, nh), b2 (1, 1); got {shapes}"
            )
        dtypes = {t.dtype for t in given.values()}
        if len(dtypes) != 1:
            raise tg.DTypeError(f"Classifier: parameters must share one dtype, not {sorted(map(str, dtypes))}")
        self.W1, self.b1, self.W2, self.b2 = W1, b1, W2, b2

    @classmethod
    def initialize(cls, nx: int, nh: int, seed: int = 1, dtype: Any = np.float64) -> Classifier:
        """Small uniform weights in [-0.01, 0.01) and zero biases, exactly as the notebook draws them.

        The notebook calls np.random.seed(1), then draws W1 and then W2 from the
        global generator; RandomState(seed) yields the same stream without touching
        global state. Values are drawn in float64 and then cast, so float32 weights
        are the notebook's numbers rounded.
        """
        if nx < 1 or nh < 1:
            raise tg.ShapeError(f"Classifier: needs at least one feature and one hidden unit, not nx={nx}, nh={nh}")
        rng = np.random.RandomState(seed)
        W1 = rng.uniform(-0.01, 0.01, (nh, nx))
        W2 = rng.uniform(-0.01, 0.01, (1, nh))
        return cls.from_arrays({"W1": W1, "b1": np.zeros((nh, 1)), "W2": W2, "b2": np.zeros((1, 1))}, dtype)

    @classmethod
    def from_arrays(cls, params: Mapping[str, Any], dtype: Any = None) -> Classifier:
        """A classifier holding copies of params["W1"], ..., params["b2"] (cast to `dtype` if given)."""
        missing = [name for name in PARAMETER_NAMES if name not in params]
        if missing:
            raise ParameterError(f"Classifier: parameters {missing} are missing (found {sorted(params)})")
        return cls(
            *(
                tg.Tensor(np.array(params[name], dtype=dtype, copy=True), requires_grad=True, name=name)
                for name in PARAMETER_NAMES
            )
        )

    def __repr__(self) -> str:
        return f"Classifier(nx={self.nx}, nh={self.nh}, {self.dtype})"

    # ---- what it holds ------------------------------------------------------------
    @property
    def nx(self) -> int:
        return self.W1.shape[1]

    @property
    def nh(self) -> int:
        return self.W1.shape[0]

    @property
    def dtype(self) -> np.dtype:
        return self.W1.dtype

    def parameters(self) -> list[tg.Tensor]:
        return [self.W1, self.b1, self.W2, self.b2]

    def arrays(self) -> dict[str, np.ndarray]:
        """The parameters as plain arrays by name, ready for np.savez."""
        return {t.name: t.numpy() for t in self.parameters()}

    def with_arrays(self, convert: Callable[[Any], Any]) -> Classifier:
        """A copy whose parameters hold `convert` of this model's arrays (e.g. the same numbers on a GPU)."""
        return Classifier(*(tg.Tensor(convert(p.data), requires_grad=True, name=p.name) for p in self.parameters()))

    # ---- the forward pass -----------------------------------------------------------
    def as_input(self, X: Any, what: str = "X") -> tg.Tensor:
        """X (nx x n) as a constant tensor of the model's dtype; cast once here, not in every forward pass."""
        X = self.as_constant(X, what)
        if X.ndim != 2 or X.shape[0] != self.nx:
            raise tg.ShapeError(
                f"{what} has shape {X.shape}, but the model takes {self.nx} features: "
                f"{what} must be {self.nx} x n (one example per column)"
            )
        return X

    def forward(self, X: tg.Tensor | np.ndarray) -> tg.Tensor:
        """Yhat = sigmoid(W2 relu(W1 X + b1) + b2), 1 x n; each intermediate tensor carries its name."""
        X = self.as_input(X)
        # The products get names too, so that a picture labels MatMul's edge into W1 dL/dW1 = dL/dW1X X^T.
        Z1 = named(named(self.W1 @ X, "W1X") + self.b1, "Z1")
        A1 = named(tg.relu(Z1), "A1")
        Z2 = named(named(self.W2 @ A1, "W2A1") + self.b2, "Z2")
        return named(tg.sigmoid(Z2), "Yhat")

    def loss(self, X: tg.Tensor | np.ndarray, Y: tg.Tensor | np.ndarray, training: bool = False) -> tg.Tensor:
        """L = BCE(Yhat, Y), the notebook's compute_loss; Y is 1 x n of 0s and 1s.

        `training` is there to match models.mlp.MLP.loss: this network has no dropout,
        so training and evaluation compute the same thing.
        """
        Yhat = self.forward(X)
        return named(tg.binary_cross_entropy(Yhat, self.as_labels(Y, Yhat.shape[1])), "L")

    def as_labels(self, Y: Any, n: int, what: str = "Y") -> tg.Tensor:
        """Y (1 x n, one 0/1 label per example) as a constant tensor of the model's dtype."""
        Y = self.as_constant(Y, what)
        if Y.shape != (1, n):
            raise tg.ShapeError(f"{what} has shape {Y.shape}, but the examples need labels of shape (1, {n})")
        return Y

    def as_constant(self, value: Any, what: str) -> tg.Tensor:
        """`value` as a constant tensor of the model's dtype, held by the same library as the parameters."""
        return input_constant(self.W1, value, what)

    def predict(self, X: tg.Tensor | np.ndarray, threshold: float = 0.5) -> np.ndarray:
        """1 where the predicted probability Yhat exceeds `threshold`, else 0 (1 x n integers)."""
        with tg.no_grad():
            Yhat = self.forward(X)
        return to_labels(Yhat.numpy(), threshold)


def to_labels(Yhat: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """The notebook's rule: class 1 where the probability Yhat exceeds `threshold`, else class 0."""
    return (Yhat > threshold).astype(np.int64)


def accuracy(Y: Any, predicted: Any) -> float:
    """The fraction of examples whose predicted label equals the observed one."""
    Y, predicted = np.asarray(Y), np.asarray(predicted)
    if Y.shape != predicted.shape:
        raise tg.ShapeError(f"accuracy: labels of shape {Y.shape} but predictions of shape {predicted.shape}")
    if Y.size == 0:
        raise tg.ShapeError("accuracy: there are no examples")
    return float(np.count_nonzero(Y == predicted)) / Y.size


def input_constant(parameter: tg.Tensor, value: Any, name: str, what: str | None = None) -> tg.Tensor:
    """An input (data or labels) as a constant tensor `name` of `parameter`'s dtype, of the same array library.

    Errors name `what` (by default `name`).
    """
    if isinstance(value, tg.Tensor):
        return value
    what = what or name
    library = namespace_of(value) if is_foreign_array(value) else np
    if library is not parameter.xp:
        raise tg.DTypeError(
            f"{what} is an array of {library.__name__} but the parameters are arrays of {parameter.xp.__name__}; "
            "move both to one library (models.backends.move)"
        )
    return tg.Tensor(as_array(value, parameter.dtype, what), name=name)


def named(tensor: tg.Tensor, name: str) -> tg.Tensor:
    """`tensor`, labelled `name` for pictures and errors (returned, so it names a result in place)."""
    tensor.name = name
    return tensor
