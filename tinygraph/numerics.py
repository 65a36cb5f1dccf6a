"""numpy's floating-point warnings (overflow, division by zero, invalid values), told by who caused them.

numpy says "RuntimeWarning: overflow encountered in matmul" and points at a line
inside tinygraph. The engine knows better: while a node computes its forward
(Node.apply) and while backward() runs, numpy's error state calls `_complaint`,
which finds the node at work on the call stack and warns with a NumericWarning
naming the node, the pass and the inputs, at the user's line. Under
detect_anomaly() the node keeps numpy's word for its AnomalyError instead. The
results are unchanged: an overflow still gives infinity, as numpy's would.

Code outside the nodes (an optimiser's update) can be watched the same way:

    with tg.numeric_problems("SGD's update"):
        p.data = p.data - lr * p.grad

Where numpy keeps its error state in a context variable (numpy >= 2), the watch
sets it directly: that adds about 0.25 microseconds to a node that takes 2
(tg.relu of a 16 x 4 array), where np.errstate would add 1.1. Finding the node
on the call stack is done only when numpy complains.
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np

from tinygraph.errors import NumericWarning
from tinygraph.modes import anomaly_detection_enabled

# Underflow is left alone, as numpy leaves it: a result rounded to zero is seldom a problem.
_STATE = {"divide": "call", "over": "call", "invalid": "call", "under": "ignore"}
_DEFAULT = {"divide": "warn", "over": "warn", "invalid": "warn", "under": "ignore"}  # numpy's own defaults
_CATEGORY = {"divide by zero": "divide", "overflow": "over", "invalid value": "invalid", "underflow": "under"}
PACKAGE = str(Path(__file__).resolve().parent)


def _complaint(what: str, outer: dict[str, str] | None, kind: str, flag: int) -> None:
    """numpy's callback: `kind` (e.g. "overflow") happened in the node at work, or else in `what`.

    What the caller's own numpy error state says for `kind` is respected: "ignore"
    stays silent and "raise" raises FloatingPointError, now naming the node.
    """
    node, stage, inputs, token = _at_work(sys._getframe(1))
    if outer is None:  # a node's or backward()'s watch: the caller's state is the one the watch replaced
        outer = _outer_state(token)
    action = outer[_CATEGORY.get(kind, "invalid")]
    if action == "ignore":
        return
    if node is not None and anomaly_detection_enabled():  # the node's AnomalyError will say it
        node.numpy_said += (kind,)
        return
    if node is not None:
        names = ", ".join(f"{t.name or 'unnamed'} {t.shape}" for t in inputs)
        what = f"{node.name}: {stage}"
        kind = f"{kind} (inputs: {names})"
    if action == "raise":
        raise FloatingPointError(f"{what}: {kind}")
    warnings.warn(f"{what}: {kind}", NumericWarning, stacklevel=_user_level())


def _at_work(frame: FrameType | None) -> tuple[Any, str, tuple[Any, ...], Any]:
    """(node, "forward" or "backward", its inputs, the token of the watch): found on the call stack."""
    from tinygraph.engine import backward
    from tinygraph.node import Node

    node, stage, inputs = None, "", ()
    while frame is not None:
        code = frame.f_code
        if code is Node.input_grads.__code__ and node is None:
            node = frame.f_locals["self"]
            stage, inputs = "backward", node.inputs
        elif code is Node.apply.__func__.__code__:
            node, stage, inputs = frame.f_locals["node"], "forward", frame.f_locals.get("tensors") or ()
            return node, stage, inputs, frame.f_locals.get("token")
        elif code is backward.__code__:
            return node, stage, inputs, frame.f_locals.get("token")
        frame = frame.f_back
    return node, stage, inputs, None


def _user_level() -> int:
    """warnings.warn's stacklevel for the first frame outside tinygraph (and numpy): the user's line."""
    frame, level = sys._getframe(1), 1
    while frame is not None and (frame.f_code.co_filename.startswith(PACKAGE) or frame.f_globals.get(
        "__name__", ""
    ).startswith("numpy")):
        frame, level = frame.f_back, level + 1
    return level


_SUMS = "backward(): summing the gradients of a tensor used more than once"

try:  # numpy >= 2: the error state is a context variable, set with a state made once
    from contextvars import Token

    from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj

    def _calling(what: str, outer: dict[str, str] | None) -> Any:
        """A numpy error state that calls _complaint(what, outer, ...) on each floating-point problem."""
        return _make_extobj(call=functools.partial(_complaint, what, outer), **_STATE)

    # _enter(state) sets an error state and returns a token; _leave(token) restores what was there before.
    _enter: Callable[[Any], Any] = _extobj_contextvar.set
    _leave: Callable[[Any], None] = _extobj_contextvar.reset

    def _outer_state(token: Token | None) -> dict[str, str]:
        """The caller's numpy error state, which the watch of `token` replaced."""
        if token is None or token.old_value is Token.MISSING:
            return _DEFAULT
        inner = _extobj_contextvar.set(token.old_value)
        try:
            return np.geterr()
        finally:
            _extobj_contextvar.reset(inner)

except ImportError:  # older numpy: its public context manager, slower but the same

    def _calling(what: str, outer: dict[str, str] | None) -> Any:
        """A numpy error state that calls _complaint(what, outer, ...) on each floating-point problem."""
        return functools.partial(np.errstate, call=functools.partial(_complaint, what, outer or _DEFAULT), **_STATE)

    def _enter(state: Any) -> Any:
        errstate = state()
        errstate.__enter__()
        return errstate

    def _leave(token: Any) -> None:
        token.__exit__(None, None, None)


# watch() starts watching the nodes at work and returns a token; unwatch(token) ends it.
watch: Callable[[], Any] = functools.partial(_enter, _calling(_SUMS, None))
unwatch = _leave


class numeric_problems:  # noqa: N801 (used as a function, like no_grad)
    """Inside the block, numpy's floating-point warnings become NumericWarnings naming `what`.

    Nodes and backward() name themselves; this is for code of your own around them.
    numpy's error state when this is made decides, as it would have, what is
    ignored or raised; one instance may be entered again and again (not nested).
    """

    __slots__ = ("state", "token")

    def __init__(self, what: str) -> None:
        self.state = _calling(what, np.geterr())

    def __enter__(self) -> None:
        self.token = _enter(self.state)

    def __exit__(self, *exc_info: object) -> None:
        _leave(self.token)
