"""The errors tinygraph raises, so callers can catch them by kind."""


class TinygraphError(Exception):
    """Base class of every error raised by tinygraph."""


class ShapeError(TinygraphError, ValueError):
    """An operation was given arrays whose shapes do not fit together."""


class LabelError(TinygraphError, ValueError):
    """Labels that a loss cannot read (class indices out of range, not whole numbers)."""


class DTypeError(TinygraphError, TypeError):
    """An array does not hold real numbers (strings, objects, complex numbers)."""


class GraphReleasedError(TinygraphError, RuntimeError):
    """backward() went through a graph whose saved arrays were already released."""


class AnomalyError(TinygraphError, FloatingPointError):
    """Under detect_anomaly(), a node produced NaN or infinity."""


class GradcheckError(TinygraphError, AssertionError):
    """The engine's gradient disagrees with finite differences."""


class OptionError(TinygraphError, ValueError):
    """An option was given a value it cannot take (a convention, a view, a name not in the graph)."""


class NumericWarning(RuntimeWarning):
    """numpy's overflow, division by zero or invalid value, told by the node (or the code) that ran into it."""
