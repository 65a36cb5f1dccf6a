"""check_node: every local gradient of a node class against finite differences, over drawn inputs.

    from tinygraph.testing import check_node

    def test_my_tanh_gradient():
        report = check_node(MyTanh)
        assert report.passed, str(report)

hypothesis draws the node's inputs (their number from `forward`'s signature),
their shapes (broadcast-compatible ones for several inputs) and their float64
values, and tinygraph.gradcheck compares the node's local_grads with central
finite differences. A failure is shrunk to a small counterexample: the input and
entry, the analytic and numeric values there, and the docstring's formula.

Where the node is defined, it says with class attributes keyed by forward's
parameter names (all optional; docs/check.md shows each):

    domain = {"A": (0.05, 5.0)}        values drawn in [low, high]        (default [-3, 3])
    avoid = {"Z": [0.0]}               kinks, kept 0.01 away
    shapes = {"W": "m k", "A": "k n"}  letters shared between inputs, numbers fixed,
                                       "..." any leading dimensions, the same for each
    labels = {"Y": [0.0, 1.0]}         data drawn from these values; no gradient checked
    constant_inputs = ("X",)           data drawn as `domain` says; no gradient checked
    distinct = ("A",)                  entries at least 0.01 apart: no ties, for a max
    check_with = ({"slope": 0.1},)     keyword arguments of the constructor, each checked

Needs hypothesis (pip install hypothesis), imported when a check runs.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
import traceback
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from tinygraph.errors import GradcheckError, GradientShapeError, TinygraphError
from tinygraph.gradcheck import gradcheck
from tinygraph.node import Node
from tinygraph.tensor import Tensor

DEFAULT_DOMAIN = (-3.0, 3.0)
MAX_DIMS, MAX_SIDE = 3, 3  # shapes up to 3 x 3 x 3: every entry is checked, so small is quick
AVOID_MARGIN = 1e-2  # far wider than gradcheck's eps = 1e-6, so no difference straddles a kink


class DeclarationError(TinygraphError, TypeError):
    """A node's check declarations (domain, avoid, shapes, labels, constant_inputs, distinct, check_with) are wrong."""


class HypothesisMissingError(TinygraphError, ImportError):
    """check_node needs hypothesis, which is not installed."""


@dataclass(frozen=True)
class Declarations:
    """What check_node draws for a node class: its own declarations, and the defaults for the rest."""

    inputs: tuple[str, ...]
    domains: dict[str, tuple[float, float]]
    avoid: dict[str, tuple[float, ...]]
    shapes: dict[str, tuple[str, ...]] | None  # each input's dimensions, as tokens
    labels: dict[str, tuple[float, ...]]
    constants: frozenset[str]
    distinct: frozenset[str]
    check_with: tuple[dict[str, Any], ...]
    defaults: tuple[str, ...]  # in words, for the report


@dataclass(frozen=True)
class Location:
    """An exception in one line, and the line of the node's file it came from."""

    kind: str
    message: str
    file: str | None
    line: int | None

    def __str__(self) -> str:
        where = f" ({Path(self.file).name}:{self.line})" if self.file else ""
        return f"{self.kind}: {self.message}{where}"


@dataclass(frozen=True)
class Counterexample:
    """Where a node's gradient is wrong, for the smallest inputs hypothesis found."""

    input: str  # forward's parameter name
    shapes: dict[str, tuple[int, ...]]
    params: dict[str, Any]
    entry: tuple[int, ...] | None = None  # None when the gradient had the wrong shape
    value: float | None = None  # the input's value at `entry`
    analytic: float | None = None
    numeric: float | None = None
    kink: bool = False  # the slopes on either side of `value` differ
    tie: bool = False  # another entry of the input has the same value (a max's kink)
    reason: str = ""  # for a wrong shape, what was returned


@dataclass(frozen=True)
class NodeReport:
    """The outcome of check_node: `status` is "passed", "failed" or "errored"."""

    node: str
    file: str | None
    status: str
    examples: int
    defaults: tuple[str, ...] = ()
    formula: str = ""
    counterexample: Counterexample | None = None
    error: Location | None = None
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def details(self) -> list[str]:
        """What a lecturer reads under the node's name: why it failed or errored, and the defaults used."""
        lines = []
        c = self.counterexample
        if c is not None:
            if c.entry is None:
                lines.append(c.reason)
            else:
                at = f"{c.input}[{', '.join(map(str, c.entry))}]" if c.entry else c.input
                lines.append(
                    f"dL/d{c.input} at {at} = {c.value:.6g}: "
                    f"analytic {c.analytic:.6g}, numeric {c.numeric:.6g}"
                )
            lines.append("shapes: " + call_text(c.shapes, c.params))
            if c.kink:
                lines.append(
                    f"the slopes on either side of {c.input} = {c.value:.6g} differ: a kink there? "
                    f"declare it: avoid = {{{c.input!r}: [{c.value:.6g}]}}"
                    + (f", or distinct = ({c.input!r},) if it comes from the tie" if c.tie else "")
                )
            lines.append(f"formula: {self.formula or '(none in the docstring)'}")
        if self.error is not None:
            lines.append(str(self.error))
        lines.extend(self.notes)
        if self.defaults:
            lines.append("defaults: " + "; ".join(self.defaults))
        return lines

    def __str__(self) -> str:
        return "\n".join([f"{self.node}: {self.status}", *("    " + line for line in self.details())])

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "details": self.details()}


def check_node(
    node_class: type[Node],
    *,
    max_examples: int | None = None,
    on_failure: Callable[[NodeReport], None] | None = None,
) -> NodeReport:
    """Check `node_class`'s local gradients against finite differences on `max_examples` drawn inputs.

    Returns a NodeReport (it never raises for the node's own mistakes): passed;
    failed, with hypothesis' shrunk counterexample; or errored, with the exception
    and the line of the node's file it came from. Wrong values are looked for
    first, passing over inputs on which the node raises, because a wrong value (a
    transpose missing shows only on square matrices) says more than the exception;
    only when none is found is the exception shrunk and reported. `max_examples`
    defaults to the current hypothesis profile's. `on_failure` is called with the
    report of each failing example as it is found, before shrinking finishes, for
    callers that may have to stop early. Runs are reproducible: the same node
    draws the same examples, and nothing is written to disk.
    """
    hypothesis, st = _import_hypothesis()
    file = _source_file(node_class)
    try:
        declared = declarations(node_class)
    except DeclarationError as error:
        return NodeReport(node_class.__name__, file, "errored", 0, error=locate(error, file, _class_line(node_class)))
    search = functools.partial(_search, node_class, declared, file, hypothesis, st, max_examples, on_failure)
    passed_over: list[NodeReport] = []  # the first input on which the node raised, if any
    with warnings.catch_warnings(), np.errstate(all="ignore"):  # a NaN shows as a failure, not a warning
        warnings.simplefilter("ignore")
        values = search(passed_over)
        if not passed_over:
            return values
        if values.status == "failed":
            raised = passed_over[0]
            return dataclasses.replace(values, notes=(f"it also raises {raised.error} {' '.join(raised.notes)}",))
        return search(None)


def _search(
    node_class: type[Node], declared: Declarations, file: str | None, hypothesis: Any, st: Any,
    max_examples: int | None, on_failure: Callable[[NodeReport], None] | None,
    passed_over: list[NodeReport] | None,
) -> NodeReport:  # fmt: skip
    """One hypothesis search. Given a list `passed_over`, inputs on which the node raises count as
    passing, and the first of them is kept there; without it, they fail."""
    count = 0

    @hypothesis.settings(
        **({} if max_examples is None else {"max_examples": max_examples}),
        deadline=None,
        database=None,  # writes nothing to disk
        derandomize=True,
        report_multiple_bugs=False,
        suppress_health_check=list(hypothesis.HealthCheck),
        verbosity=hypothesis.Verbosity.quiet,
        print_blob=False,
    )
    @hypothesis.given(_examples(declared, st))
    def check(example: Example) -> None:
        nonlocal count
        count += 1
        try:
            _run(node_class, declared, example)
        except (GradcheckError, GradientShapeError) as wrong:
            failing(wrong, example)
        except Exception as error:
            if passed_over is None:
                failing(error, example)
            elif not passed_over:
                passed_over.append(_report(node_class, declared, file, error, example, count))

    def failing(error: Exception, example: Example) -> NoReturn:
        error.tinygraph_example = example  # type: ignore[attr-defined]  # read back once shrunk
        if on_failure is not None:
            on_failure(_report(node_class, declared, file, error, example, count))
        raise error

    try:
        check()
    except Exception as error:
        return _report(node_class, declared, file, error, getattr(error, "tinygraph_example", None), count)
    return NodeReport(node_class.__name__, file, "passed", count, declared.defaults)


def node_classes(namespace: Mapping[str, Any], module: str) -> list[type[Node]]:
    """The Node subclasses defined in `module` (not imported into it) that write a forward, in order."""
    return [
        value
        for value in namespace.values()
        if isinstance(value, type) and issubclass(value, Node) and value.__module__ == module
        and value.forward is not Node.forward
    ]  # fmt: skip


# ---- declarations ------------------------------------------------------------------


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


# ---- examples ------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """One drawn call: the constructor's arguments, each input's array, and which inputs get a gradient."""

    params: dict[str, Any]
    arrays: dict[str, np.ndarray]
    checked: frozenset[str]


def _examples(declared: Declarations, st: Any) -> Any:
    from tinygraph import testing

    shapes_strategy = _shapes(declared, st, testing)
    # One strategy per input and shape, made once: making them anew for each example doubled the time.
    values = functools.cache(lambda name, shape: _values(declared, name, shape, st, testing))

    @st.composite
    def example(draw: Any) -> Example:
        params = draw(st.sampled_from(declared.check_with))
        shapes = draw(shapes_strategy)
        arrays = {name: draw(values(name, shapes[name])) for name in declared.inputs}
        candidates = [n for n in declared.inputs if n not in declared.constants and n not in declared.labels]
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
    sides = st.fixed_dictionaries({symbol: st.integers(1, MAX_SIDE) for symbol in symbols})

    def shape(spec: tuple[str, ...], batch: tuple[int, ...], sides: dict[str, int]) -> tuple[int, ...]:
        dims: list[int] = []
        for t in spec:
            dims.extend(batch if t == "..." else [int(t) if t.isdigit() else sides[t]])
        return tuple(dims)

    return st.tuples(leading, sides).map(lambda drawn: {k: shape(spec, *drawn) for k, spec in specs.items()})


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


def _run(node_class: type[Node], declared: Declarations, example: Example) -> None:
    tensors = [Tensor(example.arrays[name], requires_grad=name in example.checked) for name in declared.inputs]
    try:
        gradcheck(lambda *inputs: node_class.apply(*inputs, **example.params), tensors)
    except SystemExit as error:  # hypothesis would let it end the whole run
        raise RuntimeError(f"the node called sys.exit({error.code!r})") from error


# ---- reports ---------------------------------------------------------------------------


def _report(
    node_class: type[Node], declared: Declarations, file: str | None, error: BaseException,
    example: Example | None, count: int,
) -> NodeReport:  # fmt: skip
    """The report for the example that raised `error`: failed for a wrong gradient, errored for anything else."""
    name = node_class.__name__
    shapes = {k: tuple(a.shape) for k, a in example.arrays.items()} if example is not None else {}
    if example is not None and isinstance(error, GradcheckError | GradientShapeError):
        wrong = declared.inputs[error.position]
        c = Counterexample(wrong, shapes, example.params)
        if isinstance(error, GradcheckError):
            array = example.arrays[wrong]
            value = float(array[error.entry])
            tie = int(np.sum(array == value)) > 1
            c = dataclasses.replace(c, entry=tuple(map(int, error.entry)), value=value, analytic=error.analytic,
                                    numeric=error.numeric, kink=error.kink, tie=tie)  # fmt: skip
        else:
            c = dataclasses.replace(c, reason=f"local_grads returned a gradient of shape {error.returned} "
                                              f"for {wrong} of shape {error.expected}")  # fmt: skip
        formula = _formula(node_class, wrong)
        return NodeReport(name, file, "failed", count, declared.defaults, formula, counterexample=c)
    notes = ("with shapes: " + call_text(shapes, example.params),) if example is not None else ()
    return NodeReport(name, file, "errored", count, declared.defaults, error=locate(error, file),
                      notes=notes)  # fmt: skip


def call_text(shapes: dict[str, tuple[int, ...]], params: dict[str, Any]) -> str:
    """`A (2, 3), B (3,), slope=0.1`: the shapes of a call, and the constructor's arguments."""
    arguments = [f"{key}={value!r}" for key, value in params.items()]
    return ", ".join([f"{name} {shape}" for name, shape in shapes.items()] + arguments)


def locate(error: BaseException, file: str | None, fallback_line: int | None = None) -> Location:
    """The exception in one line, and the deepest line of `file` in its traceback (or its causes').

    A syntax error names its own line; `fallback_line` serves when `file` is nowhere in the traceback.
    """
    line = error.lineno if isinstance(error, SyntaxError) and error.filename == file else None
    chain: list[BaseException] = [error]
    while (cause := chain[-1].__cause__ or chain[-1].__context__) is not None and cause not in chain:
        chain.append(cause)
    for exc in chain if line is None else ():
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == file]
        if frames:
            line = frames[-1].lineno
            break
    line = fallback_line if line is None else line
    text = error.msg if isinstance(error, SyntaxError) else str(error).strip()
    message = text.splitlines()[0] if text else ""
    return Location(type(error).__name__, message, file if line is not None else None, line)


def _class_line(node_class: type[Node]) -> int | None:
    try:
        return inspect.getsourcelines(node_class)[1]
    except (OSError, TypeError):
        return None


def _formula(node_class: type[Node], input_name: str) -> str:
    """dL/d(input) as the docstring writes it, or the docstring's first line."""
    from tinygraph.viz.labels import formulas

    found = formulas(node_class)
    if found is not None and input_name in found.grads:
        return f"dL/d{input_name} = {found.grads[input_name]}"
    return (inspect.getdoc(node_class) or "").split("\n", 1)[0]


def _source_file(node_class: type[Node]) -> str | None:
    try:
        return inspect.getsourcefile(node_class)
    except (OSError, TypeError):  # a module loaded from a path, a notebook cell: forward's code knows its file
        return node_class.forward.__code__.co_filename


def _import_hypothesis() -> tuple[Any, Any]:
    try:
        import hypothesis
        from hypothesis import strategies as st
    except ImportError as error:
        raise HypothesisMissingError(
            "check_node draws its examples with hypothesis, which is not installed: pip install hypothesis"
        ) from error
    return hypothesis, st
