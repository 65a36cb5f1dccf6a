"""numpy's floating-point warnings come out as NumericWarnings naming the node that ran into them."""

import warnings

import numpy as np
import pytest

import tinygraph as tg


@pytest.fixture
def caught():
    """Every warning raised inside the test, shown always (not once per place)."""
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        yield records


def messages(records) -> list[tuple[str, str]]:
    return [(record.category.__name__, str(record.message)) for record in records]


def huge(name: str = "W") -> tg.Tensor:
    return tg.Tensor(np.array([[1e308]]), requires_grad=True, name=name)


def test_an_overflow_in_a_forward_names_the_node_and_its_inputs(caught):
    Z = huge() @ tg.Tensor(np.array([[10.0]]), name="X")
    assert messages(caught) == [("NumericWarning", "MatMul: forward: overflow (inputs: W (1, 1), X (1, 1))")]
    assert Z.data[0, 0] == np.inf  # numpy's result, unchanged


def test_the_warning_points_at_the_users_line(caught):
    huge() * 10.0
    assert caught[0].filename == __file__


def test_a_division_by_zero_in_a_backward_names_the_node_and_the_pass(caught):
    X = tg.Tensor(np.array([[0.0]]), requires_grad=True, name="X")
    tg.log(X).sum().backward()  # dL/dX = 1 / X
    assert messages(caught) == [
        ("NumericWarning", "Log: forward: divide by zero (inputs: X (1, 1))"),
        ("NumericWarning", "Log: backward: divide by zero (inputs: X (1, 1))"),
    ]


def test_a_sum_of_gradients_that_overflows_names_backward(caught):
    V = tg.Tensor(np.array([[1.0]]), requires_grad=True, name="V")
    L = (V * 1e308 + (V - 2.0) * 1e308).sum()  # 1e308 - 1e308: finite, but each path's gradient is 1e308
    assert messages(caught) == []
    L.backward()
    assert messages(caught) == [
        ("NumericWarning", "backward(): summing the gradients of a tensor used more than once: overflow")
    ]
    assert V.grad[0, 0] == np.inf


def test_no_raw_numpy_runtime_warning_escapes_a_node(caught):
    (huge() * 10.0 / tg.Tensor(np.array([[0.0]]))).sum().backward()
    assert {category for category, _ in messages(caught)} == {"NumericWarning"}


def test_detect_anomaly_puts_numpys_word_in_its_error_and_warns_nothing(caught):
    with tg.detect_anomaly(), pytest.raises(tg.AnomalyError) as error:
        huge() @ tg.Tensor(np.array([[10.0]]), name="X")
    assert str(error.value) == "MatMul: forward produced infinity (overflow) (inputs: W (1, 1), X (1, 1))"
    assert caught == []


def test_numeric_problems_names_code_outside_the_nodes(caught):
    with tg.numeric_problems("SGD's update of W1"):
        np.array([1e308]) * 10
    assert messages(caught) == [("NumericWarning", "SGD's update of W1: overflow")]


def test_a_node_inside_numeric_problems_still_names_itself(caught):
    with tg.numeric_problems("the forward pass"):
        huge() * 10.0
    assert messages(caught) == [("NumericWarning", "Mul: forward: overflow (inputs: W (1, 1), unnamed ())")]


def test_numeric_warnings_can_be_made_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error", tg.NumericWarning)
        with pytest.raises(tg.NumericWarning, match="Mul: forward: overflow"):
            huge() * 10.0


def test_numpys_own_error_state_is_restored_after_a_node_and_after_an_error():
    before = np.geterr()
    huge() * 1.0
    with pytest.raises(tg.ShapeError):
        tg.Tensor(np.ones((2, 3))) @ tg.Tensor(np.ones((2, 3)))
    assert np.geterr() == before


def test_a_callers_ignore_is_respected_inside_nodes(caught):
    with np.errstate(over="ignore"):
        huge() * 10.0
    assert caught == []


def test_a_callers_raise_raises_naming_the_node():
    with np.errstate(over="raise"), pytest.raises(FloatingPointError, match=r"^Mul: forward: overflow \(inputs: W"):
        huge() * 10.0


def test_underflow_stays_silent_as_in_numpy(caught):
    tg.Tensor(np.array([1e-308]), requires_grad=True) * 1e-300
    assert caught == []
