"""Switches that change how the graph is recorded, as context managers.

Each switch is a `contextvars.ContextVar`, so it is local to a thread or task and
always restored on exit: there is no module flag for callers to flip.
"""

from contextvars import ContextVar

_grad_enabled: ContextVar[bool] = ContextVar("grad_enabled", default=True)
_anomaly_detection: ContextVar[bool] = ContextVar("anomaly_detection", default=False)


# grad_enabled(): whether operations are recorded in a graph right now.
# anomaly_detection_enabled(): whether nodes check their results for NaN and infinity right now.
# Every operation asks both, so they are the variables' own get methods, not wrappers around them.
grad_enabled = _grad_enabled.get
anomaly_detection_enabled = _anomaly_detection.get


class _Switch:
    """Sets `var` to `value` inside a with-block and restores it on exit, however the block ends.

    A class rather than @contextmanager: a validation pass enters one every
    iteration, and a generator-based manager costs several microseconds more.
    """

    __slots__ = ("var", "value", "token")

    def __init__(self, var: ContextVar[bool], value: bool) -> None:
        self.var, self.value = var, value

    def __enter__(self) -> None:
        self.token = self.var.set(self.value)

    def __exit__(self, *exc_info: object) -> None:
        self.var.reset(self.token)


def no_grad() -> _Switch:
    """Record no graph inside the block: for validation passes and parameter updates.

    >>> with no_grad():
    ...     Yhat_val = model(X_val)   # no nodes are kept, nothing to backpropagate
    """
    return _Switch(_grad_enabled, False)


def detect_anomaly() -> _Switch:
    """Check every forward result and every gradient for NaN or infinity inside the block.

    The first node that produces one raises AnomalyError naming the node and its inputs.
    It costs a pass over each array, so it is off unless asked for.
    """
    return _Switch(_anomaly_detection, True)
