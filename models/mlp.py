"""A multi-layer perceptron: the notebook's network with any number of hidden layers.

Examples are columns, as in the notebook. For layer sizes [nx, n1, ..., nL]:

    A0 = X                       nx x n
    Zl = Wl A(l-1) + bl          nl x n      Wl is nl x n(l-1), bl is nl x 1
    Al = g_l(Zl)                 hidden layers, l < L; relu, sigmoid, tanh or leaky_relu
    ZL                           the logits: 1 x n for two classes, K x n for K >= 2 classes

One output unit means binary labels (0/1) and Yhat = sigmoid(ZL) with binary
cross-entropy, the notebook's choice (fused with the sigmoid, exact for any logit);
K output units mean class labels 0..K-1 and softmax cross-entropy. Dropout, when
asked for, multiplies each hidden Al by a fresh constant mask in training mode.
The notebook's own network is tinygraph.models.classifier.Classifier, a named case of this one.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

import tinygraph as tg
from tinygraph.models.errors import ConfigError, ParameterError, lookup
from tinygraph.models.initializers import initialize
from tinygraph.backend import as_array, is_foreign_array, namespace_of, to_numpy
from tinygraph.losses import log_softmax

ACTIVATIONS: dict[str, Callable[[tg.Tensor], tg.Tensor]] = {
    "relu": tg.relu,
    "sigmoid": tg.sigmoid,
    "tanh": tg.tanh,
    "leaky_relu": tg.leaky_relu,
}


class MLP:
    """Parameters W1, b1, W2, b2, ... as leaf tensors that require gradients, in `params` (in layer order).

    layer_sizes  [nx, n1, ..., nL]: features, each hidden layer's units, outputs (1, or K classes)
    activation   one name for every hidden layer, or one name per hidden layer
    init         the weights' initialiser: uniform (the notebook's), xavier (Keras's default) or he; biases start at 0
    seed         seeds the initialiser (np.random.RandomState, as the notebook) and the dropout masks
    dropout      the probability of dropping each hidden unit in training mode (inverted dropout)
    dtype        of the parameters; inputs are cast to it

    MLP([nx, nh, 1], "relu", init="uniform", seed=1) is the notebook's network, to the last digit.
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        activation: str | Sequence[str] = "relu",
        init: str = "xavier",
        seed: int = 1,
        dropout: float = 0.0,
        dtype: Any = np.float64,
    ):
        self.layer_sizes = check_layer_sizes(self.kind, layer_sizes)
        self.activations = check_activations(self.kind, activation, hidden_layers=len(self.layer_sizes) - 2)
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"{self.kind}: dropout is the probability of dropping a unit, in [0, 1), not {dropout!r}")
        self.dropout = dropout
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise tg.DTypeError(f"{self.kind}: parameters must be floating point, not {self.dtype}")
        self.params = {
            name: tg.Tensor(array.astype(self.dtype), requires_grad=True, name=name)
            for name, array in initialize(self.layer_sizes, init, seed).items()
        }
        self.dropout_rng = np.random.default_rng(seed)

    @classmethod
    def from_architecture(
        cls, architecture: Mapping[str, Any], arrays: Mapping[str, Any], seed: int = 1, dtype: Any = None
    ) -> MLP:
        """The network that `architecture()` described, holding copies of `arrays` (e.g. a saved params.npz).

        `dtype` defaults to that of arrays["W1"].
        """
        missing = [key for key in ("layer_sizes", "activations") if key not in architecture]
        if missing:
            raise ParameterError(f"MLP: the architecture lacks {missing} (found {sorted(architecture)})")
        if dtype is None:
            dtype = np.asarray(arrays["W1"]).dtype if "W1" in arrays else np.float64
        model = MLP(
            architecture["layer_sizes"],
            architecture["activations"],
            seed=seed,
            dropout=architecture.get("dropout", 0.0),
            dtype=dtype,
        )
        model.load_arrays(arrays)
        return model

    # ---- what it holds --------------------------------------------------------------
    @property
    def kind(self) -> str:
        """The network's class name, which errors and saved files carry."""
        return type(self).__name__

    @property
    def nx(self) -> int:
        """The number of features: the rows of X."""
        return self.layer_sizes[0]

    @property
    def depth(self) -> int:
        """L, the number of layers with weights (hidden layers and the output layer)."""
        return len(self.layer_sizes) - 1

    @property
    def output(self) -> str:
        """'sigmoid' for one output unit (binary labels), 'softmax' for K >= 2 (class labels)."""
        return "sigmoid" if self.layer_sizes[-1] == 1 else "softmax"

    def parameters(self) -> list[tg.Tensor]:
        return list(self.params.values())

    def parameter_count(self) -> int:
        """How many numbers training adjusts: every entry of every weight and bias."""
        return sum(math.prod(p.shape) for p in self.parameters())

    def summary(self) -> str:
        """The layers with their shapes and parameter counts, and the total, as a small table."""
        rows = [("layer", "W", "b", "activation", "parameters")]
        for layer, activation in enumerate([*self.activations, self.output], start=1):
            W, b = self.params[f"W{layer}"].shape, self.params[f"b{layer}"].shape
            count = math.prod(W) + math.prod(b)
            rows.append((str(layer), " x ".join(map(str, W)), " x ".join(map(str, b)), activation, f"{count:,}"))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
        return "\n".join([repr(self), *lines, f"{self.parameter_count():,} parameters, {self.dtype}"])

    def architecture(self) -> dict[str, Any]:
        """What rebuilds this network: JSON-able, saved beside the parameters by tinygraph.models.checkpoint."""
        return {
            "network": self.kind,
            "layer_sizes": list(self.layer_sizes),
            "activations": list(self.activations),
            "output": self.output,
            "dropout": self.dropout,
        }

    def arrays(self) -> dict[str, np.ndarray]:
        """Copies of the parameters as numpy arrays by name, ready for np.savez."""
        return {name: np.array(to_numpy(p.data), copy=True) for name, p in self.params.items()}

    def load_arrays(self, arrays: Mapping[str, Any]) -> None:
        """Give every parameter a copy of arrays[name], cast to the model's dtype (e.g. a saved params.npz).

        The arrays must all be there, of the parameters' shapes and of one dtype.
        """
        missing = [name for name in self.params if name not in arrays]
        if missing:
            raise ParameterError(f"{self.kind}: parameters {missing} are missing (found {sorted(arrays)})")
        wrong = [
            f"{name} is {np.shape(arrays[name])} but should be {p.shape}"
            for name, p in self.params.items()
            if np.shape(arrays[name]) != p.shape
        ]
        if wrong:
            raise tg.ShapeError(f"{self.kind} {self.layer_sizes}: parameters of the wrong shape: {'; '.join(wrong)}")
        dtypes = {np.asarray(arrays[name]).dtype for name in self.params}
        if len(dtypes) != 1:
            raise tg.DTypeError(f"{self.kind}: parameters must share one dtype, not {sorted(map(str, dtypes))}")
        for name, p in self.params.items():
            p.data = np.array(arrays[name], dtype=self.dtype, copy=True)

    def to(self, library: str, device: Any = None) -> MLP:
        """Move every parameter to `library` (numpy, dask, cupy or torch) in place, and return the model.

        The parameters stay the same Tensor objects holding the same numbers, so an
        optimiser built afterwards serves any library; `device` is torch's (CUDA by
        default when there is one). Moving to numpy needs none of tinygraph.models.backends.
        """
        if library == "numpy":
            convert = to_numpy
        else:
            from tinygraph.models.backends import to_backend

            convert = functools.partial(to_backend, backend=library, device=device)
        for p in self.parameters():
            p.set_data(convert(p.data))
        return self

    def __repr__(self) -> str:
        sizes = "-".join(map(str, self.layer_sizes))
        return f"MLP({sizes}, activations={'/'.join(self.activations) or 'none'}, output={self.output})"

    # ---- the forward pass ---------------------------------------------------------------
    def forward_steps(self, X: Any, training: bool = False, retain_grad: bool = False) -> dict[str, tg.Tensor]:
        """Every named intermediate tensor, in order: Z1, A1, Z2, A2, ..., ZL (for pictures and inspection).

        In training mode with dropout, each hidden Al is followed by Al_dropout = Al * maskl,
        where maskl is 0 for a dropped unit and 1 / (1 - dropout) for a kept one, so that
        its expected value is Al and evaluation mode needs no rescaling. With
        `retain_grad`, each keeps its gradient after backward(), like the notebook's cache.
        """
        A = self.as_input(X)
        steps: dict[str, tg.Tensor] = {}
        for layer, activation in enumerate([*self.activations, None], start=1):
            Z = steps[f"Z{layer}"] = named(self.params[f"W{layer}"] @ A + self.params[f"b{layer}"], f"Z{layer}")
            if activation is None:  # the output layer: its Z is the logits
                break
            A = steps[f"A{layer}"] = named(ACTIVATIONS[activation](Z), f"A{layer}")
            if training and self.dropout:
                A = steps[f"A{layer}_dropout"] = named(A * self.dropout_mask(A, layer), f"A{layer}_dropout")
        return retained(steps) if retain_grad else steps

    def layer_of(self, steps: Mapping[str, tg.Tensor]) -> Callable[[tg.Tensor], str | None]:
        """For Tensor.draw(clusters=...): each tensor's layer, "hidden layer 1 (relu)" for W1, b1, W1 A0, Z1, A1, ...

        `steps` is what forward_steps returned for the drawn graph: Zl starts layer l,
        and the steps after it are of that layer. Tensors outside the layers (X,
        labels, the loss) get None and are drawn outside every frame.
        """
        titles = [f"hidden layer {layer} ({g})" for layer, g in enumerate(self.activations, start=1)]
        titles.append(f"output layer ({self.output})")
        members: list[list[tg.Tensor]] = [[] for _ in titles]
        layer = 0
        for name, step in steps.items():
            layer += name == f"Z{layer + 1}"
            # A step's node inputs are of its layer too: W A before the bias, b, the mask.
            members[layer - 1] += [step, *(step.node.inputs if step.node is not None else ())]
        labels = {}
        for layer, (title, tensors) in enumerate(zip(titles, members), start=1):
            for tensor in [self.params[f"W{layer}"], self.params[f"b{layer}"], *tensors]:
                labels[id(tensor)] = title
        return lambda tensor: labels.get(id(tensor))

    def forward(self, X: Any, training: bool = False) -> tg.Tensor:
        """The last step: the logits ZL (1 x n or K x n)."""
        steps = self.forward_steps(X, training)
        return steps[next(reversed(steps))]

    def dropout_mask(self, A: tg.Tensor, layer: int) -> tg.Tensor:
        """A fresh mask for A: 0 for a dropped unit, 1 / (1 - dropout) for a kept one, of A's dtype and library."""
        keep = 1.0 - self.dropout
        mask = (self.dropout_rng.random(tuple(A.shape)) < keep) / keep
        return named(A.constant_like(mask), f"mask{layer}")

    def loss(self, X: Any, Y: Any, training: bool = False) -> tg.Tensor:
        """L: mean binary cross-entropy of sigmoid(ZL) for 0/1 labels Y (1 x n), or softmax
        cross-entropy of ZL for class labels 0..K-1 (1 x n or n)."""
        return self.loss_of(self.forward_steps(X, training), Y)

    def loss_of(self, steps: Mapping[str, tg.Tensor], Y: Any) -> tg.Tensor:
        """The loss of the forward pass `steps` (from forward_steps, e.g. to draw the graph with its layers)."""
        Z = steps[f"Z{self.depth}"]
        Y = self.as_labels(Y, n=Z.shape[1])
        if self.output == "sigmoid":
            return named(tg.binary_cross_entropy_with_logits(Z, Y), "L")
        return named(tg.softmax_cross_entropy(Z, Y), "L")

    # ---- predictions (evaluation mode, no graph) ------------------------------------------
    def probabilities(self, X: Any) -> np.ndarray:
        """Yhat = sigmoid(ZL) (1 x n, the probability of class 1), or softmax(ZL) (K x n, columns sum to 1)."""
        with tg.no_grad():
            return self.probabilities_of(self.forward_steps(X))

    def predict(self, X: Any, threshold: float = 0.5) -> np.ndarray:
        """Predicted labels, 1 x n integers: 1 where Yhat > threshold (binary), else the most probable class."""
        with tg.no_grad():
            return self.labels_of(self.forward_steps(X), threshold)

    def probabilities_of(self, steps: Mapping[str, tg.Tensor]) -> np.ndarray:
        """The probabilities of the forward pass `steps`, as numpy arrays (see probabilities); records no graph."""
        Z = steps[f"Z{self.depth}"]
        if self.output == "sigmoid":
            with tg.no_grad():
                return tg.sigmoid(Z).numpy()
        return np.exp(log_softmax(Z.numpy(), np))

    def labels_of(self, steps: Mapping[str, tg.Tensor], threshold: float = 0.5) -> np.ndarray:
        """The labels the forward pass `steps` predicts (see predict)."""
        P = self.probabilities_of(steps)
        if self.output == "sigmoid":
            return to_labels(P, threshold)
        return P.argmax(axis=0).reshape(1, -1)

    def accuracy(self, X: Any, Y: Any) -> float:
        """The fraction of examples (columns of X) whose predicted label equals Y's (1 x n or n)."""
        return accuracy(np.reshape(to_numpy(Y), (1, -1)), self.predict(X))

    # ---- checking what comes in ---------------------------------------------------------
    def as_input(self, X: Any, what: str = "X") -> tg.Tensor:
        """X (nx x n) as a constant tensor of the model's dtype and library; cast once here, not in every pass."""
        X = input_constant(self.params["W1"], X, what, f"{self.kind}: {what}")
        if X.ndim != 2 or X.shape[0] != self.nx:
            raise tg.ShapeError(
                f"{self.kind}: {what} has shape {X.shape}, but the network takes {self.nx} x n "
                f"({self.nx} features, one example per column)"
            )
        return X

    def as_labels(self, Y: Any, n: int, what: str = "Y") -> tg.Tensor:
        """Y as a 1 x n constant tensor of the model's dtype: 0/1 labels, or class indices 0..K-1."""
        Y = input_constant(self.params["W1"], Y, what, f"{self.kind}: {what}")
        if Y.shape not in ((1, n), (n,)):
            raise tg.ShapeError(
                f"{self.kind}: {what} has shape {Y.shape}, but {n} examples need labels of shape (1, {n})"
            )
        return Y.reshape(1, n) if Y.shape == (n,) else Y


def check_layer_sizes(kind: str, layer_sizes: Sequence[int]) -> list[int]:
    sizes = list(layer_sizes)
    if len(sizes) < 2 or not all(isinstance(size, (int, np.integer)) and size >= 1 for size in sizes):
        raise ConfigError(
            f"{kind}: layer_sizes must be whole numbers of at least 1, inputs first and outputs last "
            f"(e.g. [2, 64, 32, 1]), not {layer_sizes!r}"
        )
    return [int(size) for size in sizes]


def check_activations(kind: str, activation: str | Sequence[str], hidden_layers: int) -> list[str]:
    """One activation name per hidden layer; a single name serves them all."""
    names = [activation] * hidden_layers if isinstance(activation, str) else list(activation)
    if len(names) != hidden_layers:
        raise ConfigError(f"{kind}: {len(names)} activations {names} for {hidden_layers} hidden layers")
    for name in names:
        lookup(ACTIVATIONS, name, "activation")
    return names


# ---- helpers of every network ------------------------------------------------------------
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
            "move both to one library (model.to, tinygraph.models.backends.to_backend)"
        )
    return tg.Tensor(as_array(value, parameter.dtype, what), name=name)


def named(tensor: tg.Tensor, name: str) -> tg.Tensor:
    """`tensor`, labelled `name` for pictures and errors (returned, so it names a result in place)."""
    tensor.name = name
    return tensor


def retained(steps: dict[str, tg.Tensor]) -> dict[str, tg.Tensor]:
    """`steps`, each asked to keep its gradient after backward()."""
    for tensor in steps.values():
        tensor.retain_grad()
    return steps
