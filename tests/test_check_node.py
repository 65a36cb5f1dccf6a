"""check_node catches the mistakes students make, names the entry, and passes every right node.

The wrong nodes live in tests/student_nodes/mistakes.py, one mistake each; the
right ones are the engine's own and those in tests/hand_ins/alice.py.
"""

import importlib
import importlib.util
import pkgutil
from pathlib import Path

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.checking import DeclarationError, declarations, node_classes
from tinygraph.testing import check_node

TESTS = Path(__file__).resolve().parent


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mistakes = load(TESTS / "student_nodes" / "mistakes.py")
alice = load(TESTS / "hand_ins" / "alice.py")


def engine_nodes():
    """Every Node subclass the engine defines, module by module: a new one is checked without being listed."""
    modules = [importlib.import_module(m.name) for m in pkgutil.walk_packages(tg.__path__, "tinygraph.")]
    return [node for module in modules for node in node_classes(vars(module), module.__name__)]


@pytest.mark.parametrize("node", engine_nodes(), ids=lambda node: node.__name__)
def test_every_engine_node_passes(node):
    report = check_node(node)
    assert report.passed, str(report)


def test_the_engine_nodes_include_each_family():
    names = {node.__name__ for node in engine_nodes()}
    assert {"Add", "Log", "MatMul", "Sum", "BCE", "SoftmaxCrossEntropy"} <= names
    assert "Broadcasting" not in names  # no forward of its own: a base class, not a node to check


@pytest.mark.parametrize("node", node_classes(vars(alice), alice.__name__), ids=lambda node: node.__name__)
def test_right_student_nodes_pass(node):
    report = check_node(node)
    assert report.passed, str(report)


def failure(node):
    report = check_node(node)
    assert report.status == "failed", report
    return report.counterexample


def test_a_missing_factor_of_2_is_caught_at_an_entry_with_half_the_numeric_value():
    c = failure(mistakes.SquareMissingTwo)
    assert c.input == "A" and c.entry is not None
    assert c.analytic == pytest.approx(c.numeric / 2, rel=1e-6)


def test_a_sign_error_is_caught_on_the_input_it_concerns():
    c = failure(mistakes.SubSignError)
    assert c.input == "B"
    assert c.analytic == pytest.approx(-c.numeric, rel=1e-6)


def test_a_forgotten_1_over_n_is_caught_n_times_too_large():
    c = failure(mistakes.MSEForgotOneOverN)
    n = int(np.prod(c.shapes["Yhat"]))
    assert c.input == "Yhat" and n > 1
    assert c.analytic == pytest.approx(n * c.numeric, rel=1e-6)


def test_a_sum_over_the_wrong_axis_is_caught_at_an_entry():
    c = failure(mistakes.SoftmaxWrongAxis)
    assert c.input == "A" and len(c.entry) == 2
    assert c.analytic != pytest.approx(c.numeric, abs=1e-5)


def test_a_missing_transpose_is_caught_as_a_wrong_value_on_square_shapes_not_only_as_an_exception():
    report = check_node(mistakes.MatMulMissingTranspose)
    c = report.counterexample
    assert report.status == "failed" and c.input == "W" and c.entry is not None
    assert c.shapes["A"][0] == c.shapes["A"][1]  # where dZ @ A has W's shape, but the wrong values
    assert "it also raises ValueError" in report.notes[0] and "mistakes.py:" in report.notes[0]


def test_a_gradient_of_the_wrong_broadcast_shape_is_caught_with_both_shapes():
    c = failure(mistakes.AddBiasWrongShape)
    assert c.input == "b" and c.entry is None
    assert c.reason.startswith("local_grads returned a gradient of shape (1, ")
    assert c.reason.endswith(f"for b of shape {c.shapes['b']}")


def test_an_undeclared_kink_is_caught_and_recognised_as_a_kink():
    report = check_node(mistakes.ReLUKinkNotDeclared)
    c = report.counterexample
    assert (c.input, c.value, c.kink) == ("Z", 0.0, True)
    assert "declare it: avoid = {'Z': [0]}" in str(report)


class MaxWithoutDistinct(tg.Node):
    """Z = max of A;  dL/dA = dL/dZ shared equally among the maxima"""

    shapes = {"A": "4"}  # and no distinct = ("A",): three or four of hypothesis' favourite zeros tie

    def forward(self, A):
        self.save_for_backward(A)
        return A.max()

    def local_grads(self, dZ):
        (A,) = self.saved
        is_max = A == A.max()
        return (dZ * is_max / is_max.sum(),)


def test_a_kink_at_a_tie_suggests_declaring_the_input_distinct():
    report = check_node(MaxWithoutDistinct)
    assert report.counterexample.tie and report.counterexample.kink
    assert "or distinct = ('A',) if it comes from the tie" in str(report)


def test_a_wrong_value_is_not_taken_for_a_kink():
    assert not failure(mistakes.SquareMissingTwo).kink


def test_the_report_quotes_the_docstring_formula_of_the_wrong_input():
    report = check_node(mistakes.SubSignError)
    assert report.formula == "dL/dB = -dL/dZ"
    assert "formula: dL/dB = -dL/dZ" in str(report)


class RaisesInForward(tg.Node):
    """Z = A + a missing entry"""

    def forward(self, A):
        return A + {}["missing"]  # KeyError, raised on this very line

    def local_grads(self, dZ):
        return (dZ,)


def test_an_exception_is_reported_in_one_line_with_the_file_and_line_it_came_from():
    report = check_node(RaisesInForward)
    line = RaisesInForward.forward.__code__.co_firstlineno + 1
    assert report.status == "errored"
    assert str(report.error) == f"KeyError: 'missing' (test_check_node.py:{line})"


class Exits(tg.Node):
    def forward(self, A):
        raise SystemExit(3)


def test_a_node_that_calls_sys_exit_is_errored_instead_of_ending_the_run():
    report = check_node(Exits)
    assert report.status == "errored" and report.error.message == "the node called sys.exit(3)"


def test_the_report_lists_the_defaults_used_for_what_the_node_leaves_undeclared():
    report = check_node(alice.Tanh)
    assert report.defaults == ("Z in [-3, 3]", "no kinks avoided", "shapes any, up to 3-D")
    assert check_node(alice.Dense).defaults == ("W in [-3, 3]", "X in [-3, 3]", "b in [-3, 3]", "no kinks avoided")


class Declared(tg.Node):
    """Z = A B, declared with every attribute the check reads."""

    domain = {"A": (0.5, 2.0)}
    avoid = {"B": [1.0]}
    shapes = {"A": "... 2", "B": "n 1", "C": "n"}
    distinct = ("C",)
    check_with = ({"scale": 3.0},)

    def __init__(self, scale):
        self.scale = scale

    def forward(self, A, B, C=None, D=None):
        return A


def test_an_input_with_a_default_is_checked_only_when_shapes_gives_its_shape():
    assert declarations(Declared).inputs == ("A", "B", "C")


def test_declared_shapes_and_values_are_what_the_examples_draw():
    from hypothesis import given, settings

    from tinygraph.checking import _examples  # the strategy check_node draws from
    from hypothesis import strategies as st

    @settings(max_examples=30, database=None)
    @given(_examples(declarations(Declared), st))
    def draws(example):
        A, B, C = example.arrays["A"], example.arrays["B"], example.arrays["C"]
        assert A.shape[-1] == 2 and B.shape[1] == 1 and C.shape == B.shape[:1] and len(A.shape) <= 3
        assert np.all((0.5 <= A) & (A <= 2.0)) and np.all(np.abs(B - 1.0) >= 1e-2)
        assert np.all(np.abs(C[:, None] - C[None, :]) + np.eye(len(C)) >= 1e-2 - 1e-12)  # no two entries closer
        assert example.params == {"scale": 3.0} and example.checked <= {"A", "B", "C"} and example.checked

    draws()


@pytest.mark.parametrize(
    "attribute, value, message",
    [
        ("domain", {"X": (0, 1)}, "Bad.domain names 'X', but forward takes A, B"),
        ("domain", {"A": (1, 0)}, "Bad.domain['A'] must be (low, high) with low < high, not (1, 0)"),
        ("avoid", {"A": 0.0}, "Bad.avoid['A'] must be a list of numbers, not 0.0"),
        ("shapes", {"A": "m n"}, "Bad.shapes must give a shape for each of A, B"),
        ("shapes", {"A": "m ...", "B": "n"}, "Bad.shapes['A'] must be a string such as"),
        ("constant_inputs", ("A", "B"), "Bad: every input is a label or a constant; no gradient is left to check"),
        ("__init__", lambda self, slope: None, "Bad() needs 'slope': declare check_with = ({'slope': ...},)"),
    ],
)
def test_a_declaration_that_makes_no_sense_is_reported_as_errored_at_the_class(attribute, value, message):
    Bad = type("Bad", (RaisesInForward,), {attribute: value, "forward": lambda self, A, B: A})
    with pytest.raises(DeclarationError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        declarations(Bad)
    assert check_node(Bad).status == "errored"


def test_on_failure_hears_of_each_failing_example_before_the_shrunk_one_is_returned():
    heard = []
    report = check_node(mistakes.SquareMissingTwo, on_failure=heard.append)
    assert heard and all(r.status == "failed" for r in heard)
    assert heard[-1].counterexample == report.counterexample  # hypothesis replays the smallest one last
