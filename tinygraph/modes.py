"""Switches that change how the graph is recorded, as context managers.

Each switch is a `contextvars.ContextVar`, so it is local to a thread or task and
always restored on exit: there is no module flag for callers to flip.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_grad_enabled: ContextVar[bool] = ContextVar("grad_enabled", default=True)
_anomaly_detection: ContextVar[bool] = ContextVar("anomaly_detection", default=False)


def grad_enabled() -> bool:
    """Whether operations are recorded in a graph right now."""
    return _grad_enabled.get()


def anomaly_detection_enabled() -> bool:
    """Whether nodes check their results for NaN and infinity right now."""
    return _anomaly_detection.get()


@contextmanager
def _switch(var: ContextVar[bool], value: bool) -> Iterator[None]:
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)


def no_grad():
    """Record no graph inside the block: for validation passes and parameter updates.

    >>> with no_grad():
    ...     Yhat_val = model(X_val)   # no nodes are kept, nothing to backpropagate
    """
    return _switch(_grad_enabled, False)


def detect_anomaly():
    """Check every forward result and every gradient for NaN or infinity inside the block.

    The first node that produces one raises AnomalyError naming the node and its inputs.
    It costs a pass over each array, so it is off unless asked for.
    """
    return _switch(_anomaly_detection, True)
