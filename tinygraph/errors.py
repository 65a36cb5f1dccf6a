"""The errors tinygraph raises, so callers can catch them by kind."""


class TinygraphError(Exception):
    """Base class of every error raised by tinygraph."""


class ShapeError(TinygraphError, ValueError):
    """An operation was given arrays whose shapes do not fit together."""


class GradientShapeError(ShapeError):
    """A node's local_grads returned a gradient that cannot be summed back to its input's shape."""

    def __init__(self, message: str, position: int, returned: tuple[int, ...], expected: tuple[int, ...]):
        super().__init__(message)
        self.position, self.returned, self.expected = position, returned, expected  # which input, which shapes


class LabelError(TinygraphError, ValueError):
    """Labels that a loss cannot read (class indices out of range, not whole numbers)."""


class DTypeError(TinygraphError, TypeError):
    """An array does not hold real numbers (strings, objects, complex numbers)."""


class GraphReleasedError(TinygraphError, RuntimeError):
    """backward() went through a graph whose saved arrays were already released."""


class AnomalyError(TinygraphError, FloatingPointError):
    """Under detect_anomaly(), a node produced NaN or infinity."""


class GradcheckError(TinygraphError, AssertionError):
    """The engine's gradient disagrees with finite differences.

    Besides its message, it holds where: the input's `position`, the `entry` (an
    index into that input), the `analytic` and `numeric` values there, and whether
    the slopes on either side of the entry's value differ (`kink`).
    """

    def __init__(
        self, message: str, position: int, entry: tuple[int, ...], analytic: float, numeric: float, kink: bool
    ):
        super().__init__(message)
        self.position, self.entry, self.analytic, self.numeric, self.kink = position, entry, analytic, numeric, kink


class OptionError(TinygraphError, ValueError):
    """An option was given a value it cannot take (a convention, a view, a name not in the graph)."""


class NumericWarning(RuntimeWarning):
    """numpy's overflow, division by zero or invalid value, told by the node (or the code) that ran into it."""
