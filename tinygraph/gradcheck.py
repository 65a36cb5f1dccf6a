"""Finite differences: numerical_grad computes them, gradcheck compares backward() with them."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygraph.errors import DTypeError, GradcheckError, ShapeError
from tinygraph.modes import no_grad
from tinygraph.tensor import Tensor


def numerical_grad(f: Callable[..., Any], inputs: Sequence[Any], *, eps: float = 1e-6) -> list[np.ndarray | None]:
    """dL/d(input) by central finite differences: (L(x + eps) - L(x - eps)) / (2 eps), entry by entry.

    `f` takes tensors and returns the scalar L (a one-element tensor or a number).
    `inputs` are Tensors (those with requires_grad=True are differentiated) or arrays
    (all differentiated); they are copied first, so the caller's are never touched.
    Returns one float64 array per input, shaped like it, or None for a constant:

        dW1_numeric, = tg.numerical_grad(lambda W1: loss(W1, b1, W2, b2), [W1])

    Finite differences need float64: float32 inputs are refused.
    """
    tensors = [_float64_copy(x, i, "numerical_grad") for i, x in enumerate(inputs)]
    return [_differences(f, tensors, t, eps) if t.requires_grad else None for t in tensors]


def gradcheck(
    f: Callable[..., Tensor],
    inputs: Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check dL/d(input) from backward() against numerical_grad, entry by entry.

    `f` takes tensors and returns a tensor. A non-scalar output is reduced to
    L = sum(output * R) with a fixed random R, so every output entry is checked.
    `inputs` are as for numerical_grad. Each entry passes when
    |analytic - numeric| <= atol + rtol * |numeric|.

    Returns True, or raises GradcheckError naming the input, the entry and both values.
    """
    tensors = [_float64_copy(x, i, "gradcheck") for i, x in enumerate(inputs)]
    weights = None

    def loss(*args: Tensor) -> Tensor:
        nonlocal weights
        out = f(*args)
        if weights is None:
            weights = np.random.default_rng(seed).standard_normal(out.shape)
        return (out * weights).sum()

    L = loss(*tensors)
    if L.requires_grad:
        L.backward()
    numeric = numerical_grad(loss, tensors, eps=eps)
    for i, (t, expected) in enumerate(zip(tensors, numeric)):
        if expected is not None:
            analytic = np.zeros_like(t.data) if t.grad is None else np.broadcast_to(t.grad, t.shape)
            _compare(i, t, analytic, expected, eps, atol, rtol, loss, tensors)
    return True


def _float64_copy(x: Any, position: int, caller: str) -> Tensor:
    if isinstance(x, Tensor):
        data, requires_grad, name = x.data, x.requires_grad, x.name
    else:
        data, requires_grad, name = x, True, None
    data = np.array(data, copy=True)
    if data.dtype != np.float64:
        raise DTypeError(
            f"{caller}: input {position} is {data.dtype}; finite differences need float64 "
            "(in float32 the rounding error swamps the difference)"
        )
    return Tensor(data, requires_grad=requires_grad, name=name)


def _scalar(value: Any) -> float:
    if isinstance(value, Tensor) and math.prod(value.shape) != 1:
        raise ShapeError(f"numerical_grad: f must return a scalar loss, not a tensor of shape {value.shape}")
    return float(value)


def _differences(f: Callable[..., Any], tensors: list[Tensor], t: Tensor, eps: float) -> np.ndarray:
    numeric = np.zeros(t.shape)
    for index in np.ndindex(*t.shape):
        numeric[index] = (_loss_at(f, tensors, t, index, eps) - _loss_at(f, tensors, t, index, -eps)) / (2 * eps)
    return numeric


def _loss_at(f: Callable[..., Any], tensors: list[Tensor], t: Tensor, index: tuple[int, ...], step: float) -> float:
    """f's scalar with t's entry `index` moved by `step`, the entry put back afterwards."""
    original = t.data[index]
    with no_grad():
        t.data[index] = original + step
        value = _scalar(f(*tensors))
    t.data[index] = original
    return value


def _compare(
    position: int, t: Tensor, analytic: np.ndarray, numeric: np.ndarray, eps: float, atol: float, rtol: float,
    f: Callable[..., Any], tensors: list[Tensor],
) -> None:  # fmt: skip
    """Raises GradcheckError at the first entry (in row-major order) outside the tolerance."""
    wrong = np.argwhere(~(np.abs(analytic - numeric) <= atol + rtol * np.abs(numeric)))
    if len(wrong):
        index = tuple(int(i) for i in wrong[0])
        label = f"input {position}" + (f" ({t.name!r})" if t.name else "") + f" of shape {t.shape}"
        # Only now, for the message: one-sided slopes that disagree betray a kink, not a wrong formula.
        plus, middle, minus = (_loss_at(f, tensors, t, index, step) for step in (eps, 0.0, -eps))
        right, left = (plus - middle) / eps, (middle - minus) / eps
        kink = abs(right - left) > atol + rtol * max(abs(right), abs(left))
        raise GradcheckError(
            f"gradcheck: {label}, entry {index}: analytic gradient {analytic[index]:.10g} "
            f"but finite differences give {numeric[index]:.10g} (eps={eps}, atol={atol}, rtol={rtol})"
            + (f"; the slopes on either side differ ({left:.6g} left, {right:.6g} right): a kink at this point?"
               if kink else ""),
            position, index, float(analytic[index]), float(numeric[index]), kink,
        )  # fmt: skip
