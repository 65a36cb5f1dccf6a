"""What a node declares about where it is defined, and the inputs drawn from that for check_node.

Class attributes keyed by forward's parameter names, all optional (docs/check.md):

    domain = {"A": (0.05, 5.0)}        values drawn in [low, high]        (default [-3, 3])
    avoid = {"Z": [0.0]}               kinks, kept 0.01 away
    shapes = {"W": "m k", "A": "k n"}  letters shared between inputs, numbers fixed,
                                       "..." any leading dimensions, the same for each
    labels = {"Y": [0.0, 1.0]}         data drawn from these values; no gradient checked
    constant_inputs = ("X",)           data drawn as `domain` says; no gradient checked
    distinct = ("A",)                  entries at least 0.01 apart: no ties, for a max
    check_with = ({"slope": 0.1},)     keyword arguments of the constructor, each checked

The number of inputs comes from forward's signature (an input with a default
joins when `shapes` names it). Drawing needs hypothesis, imported when it starts.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygraph.errors import TinygraphError
from tinygraph.node import Node

DEFAULT_DOMAIN = (-3.0, 3.0)
MAX_DIMS, MAX_SIDE = 3, 3  # shapes up to 3 x 3 x 3: every entry is checked, so small is quick
AVOID_MARGIN = 1e-2  # far wider than gradcheck's eps = 1e-6, so no difference straddles a kink


class DeclarationError(TinygraphError, TypeError):
    """A node's declarations (domain, avoid, shapes, labels, constant_inputs, distinct, check_with) are wrong."""


@dataclass(frozen=True)
class Declarations:
    """What check_node draws for a node class: its own declarations, and the defaults for the rest."""

    inputs: tuple[str, ...]
    domains: dict[str, tuple[float, float]]
    avoid: dict[str, tuple[float, ...]]
    shapes: dict[str, tuple[str, ...]] | None  # each input's dimensions, as tokens
    labels: dict[str, tuple[float, ...]]
    constant_inputs: frozenset[str]
    distinct: frozenset[str]
    check_with: tuple[dict[str, Any], ...]
    defaults: tuple[str, ...]  # in words, for the report


def declarations(node_class: type[Node]) -> Declarations:
    """The node's declarations, checked against forward's parameters, with defaults for the rest."""
    inputs = _input_names(node_class)
    name = node_class.__name__

    def declared(attribute: str) -> dict[str, Any]:
        value = getattr(node_class, attribute, None) or {}
        if not isinstance(value, Mapping):
            raise DeclarationError(f"{name}.{attribute} must be a dict keyed by forward's parameters {inputs}")
        unknown = [key for key in value if key not in inputs]
        if unknown:
            raise DeclarationError(f"{name}.{attribute} names {unknown[0]!r}, but forward takes {', '.join(inputs)}")
        return dict(value)

    domains = {key: _interval(name, key, value) for key, value in declared("domain").items()}
    avoid = {key: _numbers(name, "avoid", key, value) for key, value in declared("avoid").items()}
    labels = {key: _numbers(name, "labels", key, value) for key, value in declared("labels").items()}
    constants, distinct = _names(node_class, "constant_inputs", inputs), _names(node_class, "distinct", inputs)
    shapes = declared("shapes")
    if shapes and set(shapes) != set(inputs):
        raise DeclarationError(f"{name}.shapes must give a shape for each of {', '.join(inputs)}")
    parsed = {key: _shape_tokens(name, key, value) for key, value in shapes.items()} or None
    if not set(inputs) - constants - set(labels):
        raise DeclarationError(f"{name}: every input is a label or a constant; no gradient is left to check")
    check_with = getattr(node_class, "check_with", ({},))
    if not check_with or not all(isinstance(params, Mapping) for params in check_with):
        raise DeclarationError(f"{name}.check_with must be a tuple of dicts of the constructor's arguments")
    needed = _required_arguments(node_class.__init__)
    missing = [argument for params in check_with for argument in needed if argument not in params]
    if missing:
        raise DeclarationError(f"{name}() needs {missing[0]!r}: declare check_with = ({{{missing[0]!r}: ...}},)")
    defaults = [f"{key} in [{DEFAULT_DOMAIN[0]:g}, {DEFAULT_DOMAIN[1]:g}]"
                for key in inputs if key not in domains and key not in labels]  # fmt: skip
    if not avoid:
        defaults.append("no kinks avoided")
    if parsed is None:
        defaults.append(f"shapes {'broadcast-compatible' if len(inputs) > 1 else 'any'}, up to {MAX_DIMS}-D")
    return Declarations(inputs, domains, avoid, parsed, labels, constants, distinct,
                        tuple(dict(p) for p in check_with), tuple(defaults))  # fmt: skip


def _input_names(node_class: type[Node]) -> tuple[str, ...]:
    parameters = list(inspect.signature(node_class.forward).parameters.values())[1:]
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.KEYWORD_ONLY) for p in parameters):
        raise DeclarationError(f"{node_class.__name__}.forward must name each input (A, B, ...), not take *args")
    # An input with a default (Conv2D's bias b) is checked when `shapes` gives its shape.
    optional = [p.name for p in parameters if p.default is not p.empty and p.name in getattr(node_class, "shapes", {})]
    names = _required_arguments(node_class.forward) + tuple(optional)
    if not names:
        raise DeclarationError(f"{node_class.__name__}.forward takes no input")
    return names


def _required_arguments(method: Callable[..., Any]) -> tuple[str, ...]:
    """The named parameters of `method` after self that have no default."""
    parameters = list(inspect.signature(method).parameters.values())[1:]
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return tuple(p.name for p in parameters if p.default is p.empty and p.kind in named)


def _names(node_class: type[Node], attribute: str, inputs: tuple[str, ...]) -> frozenset[str]:
    value = getattr(node_class, attribute, ())
    if not isinstance(value, tuple | list | set | frozenset) or not all(key in inputs for key in value):
        raise DeclarationError(f"{node_class.__name__}.{attribute} must be a tuple of forward's parameters {inputs}")
    return frozenset(value)


def _interval(node: str, key: str, value: Any) -> tuple[float, float]:
    if not (isinstance(value, tuple) and len(value) == 2 and all(map(_is_number, value)) and value[0] < value[1]):
        raise DeclarationError(f"{node}.domain[{key!r}] must be (low, high) with low < high, not {value!r}")
    return float(value[0]), float(value[1])


def _numbers(node: str, attribute: str, key: str, value: Any) -> tuple[float, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence) or not value or not all(map(_is_number, value)):
        raise DeclarationError(f"{node}.{attribute}[{key!r}] must be a list of numbers, not {value!r}")
    return tuple(map(float, value))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _shape_tokens(node: str, key: str, spec: Any) -> tuple[str, ...]:
    tokens = tuple(str(spec).replace(",", " ").split()) if isinstance(spec, str) else ()
    valid = all(t.isidentifier() or t.isdigit() for t in tokens if t != "...") and "..." not in tokens[1:]
    if not isinstance(spec, str) or not valid:
        raise DeclarationError(
            f'{node}.shapes[{key!r}] must be a string such as "m k", "1 n" or "...", not {spec!r}'
        )
    return tokens


@dataclass(frozen=True)
class Example:
    """One drawn call: the constructor's arguments, each input's array, and which inputs get a gradient."""

    params: dict[str, Any]
    arrays: dict[str, np.ndarray]
    checked: frozenset[str]


def examples(declared: Declarations) -> Any:
    """The hypothesis strategy of the calls check_node makes: each an Example."""
    from hypothesis import strategies as st

    from tinygraph import testing

    shapes_strategy = _shapes(declared, st, testing)
    # One strategy per input and shape, made once: making them anew for each example doubled the time.
    values = functools.cache(lambda name, shape: _values(declared, name, shape, st, testing))

    @st.composite
    def example(draw: Any) -> Example:
        params = draw(st.sampled_from(declared.check_with))
        shapes = draw(shapes_strategy)
        arrays = {name: draw(values(name, shapes[name])) for name in declared.inputs}
        candidates = [n for n in declared.inputs if n not in declared.constant_inputs and n not in declared.labels]
        # Some inputs may be constants, as the notebook's X: the node must skip their gradients.
        flags = draw(st.lists(st.booleans(), min_size=len(candidates), max_size=len(candidates)).filter(any))
        return Example(params, arrays, frozenset(n for n, flag in zip(candidates, flags) if flag))

    return example()


def _shapes(declared: Declarations, st: Any, testing: Any) -> Any:
    inputs = declared.inputs
    if declared.shapes is None:
        many = testing.broadcastable_shapes(len(inputs), max_dims=MAX_DIMS, max_side=MAX_SIDE)
        one = testing.shapes(max_dims=MAX_DIMS, max_side=MAX_SIDE).map(lambda shape: (shape,))
        return (many if len(inputs) > 1 else one).map(lambda shapes: dict(zip(inputs, shapes)))
    specs = declared.shapes
    symbols = sorted({t for spec in specs.values() for t in spec if t.isidentifier()})
    named = max(len(spec) - (spec[:1] == ("...",)) for spec in specs.values())
    leading = testing.shapes(max_dims=max(0, MAX_DIMS - named), max_side=MAX_SIDE)
    # A letter takes a side of its own or, first and most often, one side shared by all letters: square
    # matrices are where a missing transpose gives wrong values rather than an exception.
    common = st.integers(2, MAX_SIDE) if symbols else st.just(0)
    sides = st.fixed_dictionaries({symbol: st.one_of(st.none(), st.integers(1, MAX_SIDE)) for symbol in symbols})

    def shape(spec: tuple[str, ...], batch: tuple[int, ...], common: int, sides: dict[str, int | None]) -> tuple:
        dims: list[int] = []
        for t in spec:
            dims.extend(batch if t == "..." else [int(t) if t.isdigit() else sides[t] or common])
        return tuple(dims)

    drawn = st.tuples(leading, common, sides)
    return drawn.map(lambda drawn: {k: shape(spec, *drawn) for k, spec in specs.items()})


def _values(declared: Declarations, name: str, shape: tuple[int, ...], st: Any, testing: Any) -> Any:
    from hypothesis.extra import numpy as hnp

    if name in declared.labels:
        return hnp.arrays(np.float64, shape, elements=st.sampled_from(declared.labels[name]))
    low, high = declared.domains.get(name, DEFAULT_DOMAIN)
    avoid = declared.avoid.get(name, ())
    if name in declared.distinct:  # distinct whole numbers of steps, so no two entries come closer than a step
        steps = st.integers(math.ceil(low / AVOID_MARGIN), math.floor(high / AVOID_MARGIN))
        steps = steps.filter(lambda k: all(abs(k * AVOID_MARGIN - point) >= AVOID_MARGIN for point in avoid))
        return hnp.arrays(np.int64, shape, elements=steps, unique=True).map(lambda k: k * AVOID_MARGIN)
    return testing.arrays(shape, low, high, avoid, AVOID_MARGIN, every_entry_drawn=True)
