"""gradcheck: the engine's gradients against central finite differences."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygraph.errors import DTypeError, GradcheckError
from tinygraph.modes import no_grad
from tinygraph.tensor import Tensor


def gradcheck(
    f: Callable[..., Tensor],
    inputs: Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check dL/d(input) from backward() against (L(x + eps) - L(x - eps)) / (2 eps), entry by entry.

    `f` takes tensors and returns a tensor. A non-scalar output is reduced to
    L = sum(output * R) with a fixed random R, so every output entry is checked.
    `inputs` are Tensors (those with requires_grad=True are checked) or arrays
    (all checked). They are copied first: the caller's arrays are never touched.
    Each entry passes when |analytic - numeric| <= atol + rtol * |numeric|.

    Returns True, or raises GradcheckError naming the input, the entry and both values.
    Finite differences need float64: float32 inputs are refused.
    """
    tensors = [_float64_copy(x, i) for i, x in enumerate(inputs)]
    weights = None

    def loss() -> Tensor:
        nonlocal weights
        out = f(*tensors)
        if weights is None:
            weights = np.random.default_rng(seed).standard_normal(out.shape)
        return (out * weights).sum()

    L = loss()
    for t in tensors:
        t.grad = None
    if L.requires_grad:
        L.backward()
    for i, t in enumerate(tensors):
        if t.requires_grad:
            _check_input(i, t, loss, eps, atol, rtol)
    return True


def _float64_copy(x: Any, position: int) -> Tensor:
    if isinstance(x, Tensor):
        data, requires_grad, name = x.data, x.requires_grad, x.name
    else:
        data, requires_grad, name = x, True, None
    data = np.array(data, copy=True)
    if data.dtype != np.float64:
        raise DTypeError(
            f"gradcheck: input {position} is {data.dtype}; finite differences need float64 "
            "(in float32 the rounding error swamps the difference)"
        )
    return Tensor(data, requires_grad=requires_grad, name=name)


def _check_input(position: int, t: Tensor, loss: Callable[[], Tensor], eps, atol, rtol) -> None:
    analytic = np.zeros_like(t.data) if t.grad is None else np.broadcast_to(t.grad, t.shape)
    label = f"input {position}" + (f" ({t.name!r})" if t.name else "") + f" of shape {t.shape}"
    for index in np.ndindex(*t.shape):
        plus, minus = _loss_at(t, index, eps, loss), _loss_at(t, index, -eps, loss)
        numeric = (plus - minus) / (2 * eps)
        if not abs(analytic[index] - numeric) <= atol + rtol * abs(numeric):
            # Only now, for the message: one-sided slopes that disagree betray a kink, not a wrong formula.
            middle = _loss_at(t, index, 0.0, loss)
            one_sided = ((plus - middle) / eps, (middle - minus) / eps)
            kink = abs(one_sided[0] - one_sided[1]) > atol + rtol * max(map(abs, one_sided))
            raise GradcheckError(
                f"gradcheck: {label}, entry {index}: analytic gradient {analytic[index]:.10g} "
                f"but finite differences give {numeric:.10g} (eps={eps}, atol={atol}, rtol={rtol})"
                + (f"; the slopes on either side differ ({one_sided[1]:.6g} left, {one_sided[0]:.6g} right): "
                   "a kink at this point?" if kink else ""),
                position, index, float(analytic[index]), float(numeric), kink,
            )  # fmt: skip


def _loss_at(t: Tensor, index: tuple[int, ...], step: float, loss: Callable[[], Tensor]) -> float:
    """The loss with t's entry `index` moved by `step`, the entry put back afterwards."""
    original = t.data[index]
    with no_grad():
        t.data[index] = original + step
        value = loss().item()
    t.data[index] = original
    return value
