"""Optimisers: how a parameter W moves, given its gradient dW = dL/dW.

They share one small interface, as in PyTorch:

    optimizer = Adam(model.parameters(), lr=1e-3)
    L = model.loss(X, Y)
    L.backward()          # fills each parameter's .grad
    optimizer.step()      # moves every parameter that has a gradient
    optimizer.zero_grad() # gradients accumulate otherwise

Each optimiser writes only its update rule, `update(W, dW, state)`, which reads
like its formula; the base class supplies the rest. Defaults are PyTorch's
(torch.optim), except where noted.

L2 weight decay (`weight_decay=lam`) is added to the gradient before the rule,
dW <- dW + lam W, as torch's weight_decay does: for SGD this is gradient descent
on L + lam/2 ||W||^2. It applies to every parameter handed to the optimiser.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import tinygraph as tg
from tinygraph.models.errors import ConfigError, lookup

State = dict[str, Any]


class Optimizer:
    """Holds the parameters, the learning rate `lr` (a schedule may change it) and each parameter's state.

    step() computes every new value from the plain arrays p.data and p.grad (no graph
    to record) and only then assigns them, each as a new array (p.data = ...): gradients
    may be shared or read-only views, and an interrupted step leaves all parameters as
    they were. State arrays have the parameter's dtype, so float32 parameters stay float32.
    """

    default_lr: float  # each optimiser's own, used when no lr is given

    def __init__(self, parameters: Iterable[tg.Tensor], lr: float | None = None, weight_decay: float = 0.0):
        self.parameters = list(parameters)
        lr = self.default_lr if lr is None else lr
        if not self.parameters:
            raise ConfigError(f"{self.name}: there are no parameters to optimise")
        check_range(self.name, "learning rate lr", lr, low=0.0, low_open=True)
        check_range(self.name, "weight_decay", weight_decay, low=0.0)
        self.lr = lr
        self.weight_decay = weight_decay
        self.state: list[State] = [{} for _ in self.parameters]

    @property
    def name(self) -> str:
        return type(self).__name__

    def step(self) -> None:
        updated = [
            self.update(p.data, self.gradient(p), state) if p.grad is not None else p.data
            for p, state in zip(self.parameters, self.state)
        ]
        for p, data in zip(self.parameters, updated):
            p.data = data

    def zero_grad(self) -> None:
        for p in self.parameters:
            p.zero_grad()

    def gradient(self, p: tg.Tensor) -> Any:
        """dW + lam W: the gradient with L2 weight decay folded in."""
        return p.grad + self.weight_decay * p.data if self.weight_decay else p.grad

    def update(self, W: Any, dW: Any, state: State) -> Any:
        """The new value of W; may keep arrays in `state` (this parameter's own) for the next step."""
        raise NotImplementedError


class SGD(Optimizer):
    """W <- W - lr dW: plain gradient descent, the notebook's update_parameters. Default lr 0.01 (Keras's)."""

    default_lr = 0.01

    def update(self, W, dW, state):
        return W - self.lr * dW


class Momentum(Optimizer):
    """v <- beta v + dW;  W <- W - lr v   (v starts at 0)

    v is a running sum of past gradients that fades by beta per step, so steps grow
    along directions the gradient keeps pointing to and cancel where it zigzags.
    torch.optim.SGD(momentum=beta) in this form; beta defaults to the customary 0.9.
    """

    default_lr = 0.01

    def __init__(
        self, parameters: Iterable[tg.Tensor], lr: float | None = None, beta: float = 0.9, weight_decay: float = 0.0
    ):
        super().__init__(parameters, lr, weight_decay)
        check_range(self.name, "beta", beta, low=0.0, high=1.0)
        self.beta = beta

    def update(self, W, dW, state):
        v = state["v"] = self.beta * state.get("v", 0.0) + dW
        return W - self.lr * v


class RMSprop(Optimizer):
    """s <- rho s + (1 - rho) dW^2;  W <- W - lr dW / (sqrt(s) + eps)   (s starts at 0)

    s is a running mean of squared gradients: each entry's step is divided by the
    typical size of its own gradient. torch.optim.RMSprop defaults (lr 0.01, rho 0.99, eps 1e-8).
    """

    default_lr = 0.01

    def __init__(
        self,
        parameters: Iterable[tg.Tensor],
        lr: float | None = None,
        rho: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(parameters, lr, weight_decay)
        check_range(self.name, "rho", rho, low=0.0, high=1.0)
        check_range(self.name, "eps", eps, low=0.0, low_open=True)
        self.rho, self.eps = rho, eps

    def update(self, W, dW, state):
        s = state["s"] = self.rho * state.get("s", 0.0) + (1 - self.rho) * dW * dW
        return W - self.lr * dW / (s**0.5 + self.eps)


class Adam(Optimizer):
    """Momentum and RMSprop together, with their zero start corrected (Kingma & Ba, 2015):

        m <- beta1 m + (1 - beta1) dW          v <- beta2 v + (1 - beta2) dW^2
        mhat = m / (1 - beta1^t)               vhat = v / (1 - beta2^t)
        W <- W - lr mhat / (sqrt(vhat) + eps)

    t counts this parameter's steps from 1; dividing by 1 - beta^t undoes the pull
    of the zero start in early steps. torch.optim.Adam defaults (lr 1e-3, betas 0.9
    and 0.999, eps 1e-8).
    """

    default_lr = 1e-3

    def __init__(
        self,
        parameters: Iterable[tg.Tensor],
        lr: float | None = None,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(parameters, lr, weight_decay)
        check_range(self.name, "beta1", beta1, low=0.0, high=1.0)
        check_range(self.name, "beta2", beta2, low=0.0, high=1.0)
        check_range(self.name, "eps", eps, low=0.0, low_open=True)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps

    def update(self, W, dW, state):
        t = state["t"] = state.get("t", 0) + 1
        m = state["m"] = self.beta1 * state.get("m", 0.0) + (1 - self.beta1) * dW
        v = state["v"] = self.beta2 * state.get("v", 0.0) + (1 - self.beta2) * dW * dW
        mhat = m / (1 - self.beta1**t)
        vhat = v / (1 - self.beta2**t)
        return W - self.lr * mhat / (vhat**0.5 + self.eps)


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "momentum": Momentum, "rmsprop": RMSprop, "adam": Adam}


def get_optimizer(name: str) -> type[Optimizer]:
    """The optimiser class called `name` (sgd, momentum, rmsprop, adam); a ConfigError lists them otherwise."""
    return lookup(OPTIMIZERS, name, "optimiser")


class StepDecay:
    """lr = lr0 * gamma^(k // every) after k calls of step(): the learning rate drops by gamma every `every` steps.

    Works with any optimiser (it sets optimizer.lr). Call step() once per epoch or
    once per update, as you choose `every`; torch.optim.lr_scheduler.StepLR.
    """

    def __init__(self, optimizer: Optimizer, every: int, gamma: float = 0.1):
        if not isinstance(every, int) or every < 1:
            raise ConfigError(f"StepDecay: `every` must be a whole number of steps of at least 1, not {every!r}")
        check_range("StepDecay", "gamma", gamma, low=0.0, high=1.0, low_open=True, high_open=False)
        self.optimizer, self.every, self.gamma = optimizer, every, gamma
        self.initial_lr = optimizer.lr
        self.steps = 0

    def step(self) -> None:
        self.steps += 1
        self.optimizer.lr = self.initial_lr * self.gamma ** (self.steps // self.every)


def check_range(
    owner: str,
    what: str,
    value: float,
    low: float,
    high: float = float("inf"),
    low_open: bool = False,
    high_open: bool = True,
) -> None:
    """A ValueError naming `owner` and `what` unless low <= value < high (bounds open or closed as asked)."""
    above = value > low if low_open else value >= low
    below = value < high if high_open else value <= high
    if not (above and below):
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ConfigError(f"{owner}: {what} must lie in {interval}, not {value!r}")
