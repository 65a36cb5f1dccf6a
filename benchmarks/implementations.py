"""One training iteration of a workload, written three ways.

Each implementation holds its own copy of the same initial parameters and shares
the (read-only) data; `step()` runs one iteration of the notebook's loop and
leaves the two losses in `losses`; `parameters()` returns the weights as numpy
arrays, so the three can be checked to compute the same thing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import tinygraph as tg
from benchmarks.workloads import LEARNING_RATE, Data, Workload, initial_parameters


def mlp(params: list[tuple[Any, Any]], X: Any, relu: Any, sigmoid: Any) -> Any:
    """Yhat = sigmoid(W_L relu(... relu(W1 X + b1) ...) + b_L), for tinygraph and PyTorch alike."""
    A = X
    for W, b in params[:-1]:
        A = relu(W @ A + b)
    W, b = params[-1]
    return sigmoid(W @ A + b)


class HandWrittenNumpy:
    """The notebook's code path: forward_pass, compute_loss, backward_pass, update_parameters.

    Written to keep float32 float32: the ReLU gradient multiplies by the boolean
    mask Z > 0 where the notebook's drelu, np.where(Z > 0, 1.0, 0.0), makes a
    float64 array (and then a float64 copy of every product it meets).
    """

    name = "numpy"

    def __init__(self, workload: Workload, data: Data, dtype: np.dtype):
        self.params = initial_parameters(workload, dtype)
        self.data = data
        self.losses: tuple[float, float] = (np.nan, np.nan)

    def forward(self, X: np.ndarray) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
        """Yhat, and the cache backward needs: each layer's input A and pre-activation Z."""
        As, Zs = [X], []
        for W, b in self.params[:-1]:
            Z = W @ As[-1] + b
            Zs.append(Z)
            As.append(np.maximum(0, Z))
        W, b = self.params[-1]
        Yhat = 1 / (1 + np.exp(-(W @ As[-1] + b)))
        return Yhat, As, Zs

    @staticmethod
    def loss(Y: np.ndarray, Yhat: np.ndarray) -> float:
        n = Y.shape[1]
        return float((-1 / n) * np.sum(Y * np.log(Yhat) + (1 - Y) * np.log(1 - Yhat)))

    def backward(self, Y: np.ndarray, Yhat: np.ndarray, As: list[np.ndarray], Zs: list[np.ndarray]) -> list:
        n = Y.shape[1]
        dsigmoid = Yhat * (1 - Yhat)
        dZ = (Yhat - Y) / dsigmoid * dsigmoid  # dBinaryLoss * dsigmoid, as the notebook chains them
        grads = []
        for layer in reversed(range(len(self.params))):
            grads.append(((1 / n * dZ) @ As[layer].T, 1 / n * np.sum(dZ, axis=1, keepdims=True)))
            if layer:
                dZ = (self.params[layer][0].T @ dZ) * (Zs[layer - 1] > 0)
        return grads[::-1]

    def step(self) -> None:
        d = self.data
        Yhat, As, Zs = self.forward(d.X)
        Yhat_val, _, _ = self.forward(d.X_val)
        self.losses = (self.loss(d.Y, Yhat), self.loss(d.Y_val, Yhat_val))
        grads = self.backward(d.Y, Yhat, As, Zs)
        self.params = [
            (W - LEARNING_RATE * dW, b - LEARNING_RATE * db) for (W, b), (dW, db) in zip(self.params, grads)
        ]

    def parameters(self) -> list[np.ndarray]:
        return [p for layer in self.params for p in layer]


class Tinygraph:
    """The same network as a tinygraph graph; the validation pass records no graph."""

    name = "tinygraph"

    def __init__(self, workload: Workload, data: Data, dtype: np.dtype):
        self.params = [
            (tg.Tensor(W, requires_grad=True, name=f"W{i}"), tg.Tensor(b, requires_grad=True, name=f"b{i}"))
            for i, (W, b) in enumerate(initial_parameters(workload, dtype), start=1)
        ]
        self.X, self.Y, self.X_val, self.Y_val = (tg.Tensor(a) for a in (data.X, data.Y, data.X_val, data.Y_val))
        self.losses: tuple[float, float] = (np.nan, np.nan)

    def step(self) -> None:
        L = tg.binary_cross_entropy(mlp(self.params, self.X, tg.relu, tg.sigmoid), self.Y)
        with tg.no_grad():
            L_val = tg.binary_cross_entropy(mlp(self.params, self.X_val, tg.relu, tg.sigmoid), self.Y_val)
        L.backward()
        for p in self.tensors():
            p.data = p.data - LEARNING_RATE * p.grad
            p.grad = None
        self.losses = (L.item(), L_val.item())

    def tensors(self) -> list[tg.Tensor]:
        return [p for layer in self.params for p in layer]

    def parameters(self) -> list[np.ndarray]:
        return [p.data for p in self.tensors()]


class PyTorchEager:
    """The same network in PyTorch, eager mode on the CPU; the data is shared with numpy, not copied."""

    name = "pytorch"

    def __init__(self, workload: Workload, data: Data, dtype: np.dtype):
        import torch

        self.torch = torch
        self.params = [
            (torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))
            for W, b in initial_parameters(workload, dtype)
        ]
        self.X, self.Y, self.X_val, self.Y_val = (
            torch.from_numpy(a) for a in (data.X, data.Y, data.X_val, data.Y_val)
        )
        self.losses: tuple[float, float] = (np.nan, np.nan)

    def step(self) -> None:
        torch = self.torch
        bce = torch.nn.functional.binary_cross_entropy
        L = bce(mlp(self.params, self.X, torch.relu, torch.sigmoid), self.Y)
        with torch.no_grad():
            L_val = bce(mlp(self.params, self.X_val, torch.relu, torch.sigmoid), self.Y_val)
        L.backward()
        with torch.no_grad():
            for p in self.tensors():
                p -= LEARNING_RATE * p.grad
                p.grad = None
        self.losses = (L.item(), L_val.item())

    def tensors(self) -> list[Any]:
        return [p for layer in self.params for p in layer]

    def parameters(self) -> list[np.ndarray]:
        return [p.detach().numpy() for p in self.tensors()]


def pytorch_available() -> str | None:
    """None when PyTorch can be imported, else why not (shown in the table)."""
    try:
        import torch  # noqa: F401
    except ImportError as error:
        return f"PyTorch skipped: {error}"
    return None
