"""The notebook's classifier: its initial weights, its forward pass, its gradients and its errors."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinygraph as tg
from tinygraph.models.classifier import Classifier
from tinygraph.models.errors import ConfigError, ParameterError
from tinygraph.models.mlp import MLP, accuracy
from tinygraph.testing import arrays, binary_labels


def test_initial_weights_are_the_notebooks_draws():
    np.random.seed(1)  # the notebook's initialize_parameters, word for word
    W1 = np.random.uniform(size=(7, 5), low=-0.01, high=0.01)
    W2 = np.random.uniform(size=(1, 7), low=-0.01, high=0.01)
    model = Classifier(nx=5, nh=7)
    assert np.array_equal(model.W1.data, W1)
    assert np.array_equal(model.W2.data, W2)


def test_initial_biases_are_zero():
    model = Classifier(nx=5, nh=7)
    assert np.array_equal(model.b1.data, np.zeros((7, 1)))
    assert np.array_equal(model.b2.data, np.zeros((1, 1)))


def test_initialize_leaves_numpy_global_random_state_alone():
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    Classifier(nx=3, nh=4)
    assert np.random.random() == expected


def test_parameters_are_named_leaves_that_require_gradients():
    model = Classifier(nx=3, nh=4)
    assert [p.name for p in model.parameters()] == ["W1", "b1", "W2", "b2"]
    assert all(p.is_leaf and p.requires_grad for p in model.parameters())


def test_intermediate_tensors_carry_the_notebooks_names():
    model = Classifier(nx=3, nh=4)
    L = model.loss(np.ones((3, 2)), np.array([[0.0, 1.0]]))
    names = [t.name for t in tg.topological_order(L)]
    for name in ("W1", "b1", "Z1", "A1", "W2", "b2", "Z2", "Yhat", "L"):
        assert name in names


def test_forward_computes_the_notebooks_formulas():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3, 6))
    model = Classifier.from_arrays(
        {"W1": rng.normal(size=(4, 3)), "b1": rng.normal(size=(4, 1)), "W2": rng.normal(size=(1, 4)), "b2": [[0.3]]}
    )
    A1 = np.maximum(0, model.W1.data @ X + model.b1.data)
    expected = 1 / (1 + np.exp(-(model.W2.data @ A1 + model.b2.data)))
    np.testing.assert_allclose(model.forward(X).data, expected, rtol=1e-14)


def test_float32_model_computes_in_float32():
    model = Classifier(nx=3, nh=4, dtype=np.float32)
    L = model.loss(np.ones((3, 2)), np.array([[0.0, 1.0]]))
    L.backward()
    assert L.dtype == np.float32
    assert all(p.data.dtype == np.float32 and p.grad.dtype == np.float32 for p in model.parameters())


@st.composite
def model_and_data(draw):
    """Parameters, X and Y of hypothesis-drawn sizes, with every Z1 entry away from relu's kink at 0."""
    nx, nh, n = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 5))
    params = [draw(arrays(shape, min_value=-1, max_value=1)) for shape in ((nh, nx), (nh, 1), (1, nh), (1, 1))]
    X = draw(arrays((nx, n), min_value=-2, max_value=2))
    assume(np.all(np.abs(params[0] @ X + params[1]) > 1e-3))
    return params, X, draw(binary_labels((1, n)))


@given(model_and_data())
def test_model_gradients_match_finite_differences(case):
    params, X, Y = case
    model = Classifier(*params[0].shape[::-1])

    def loss(*parameters):
        model.params.update(zip(["W1", "b1", "W2", "b2"], parameters))
        return model.loss(X, Y)

    assert tg.gradcheck(loss, params)


def test_the_classifier_is_the_mlp_of_one_relu_layer_with_the_notebooks_weights():
    model, mlp = Classifier(3, 5), MLP([3, 5, 1], "relu", init="uniform", seed=1)
    assert isinstance(model, MLP) and model.architecture()["layer_sizes"] == mlp.layer_sizes
    for name, array in mlp.arrays().items():
        np.testing.assert_array_equal(model.arrays()[name], array)


def test_forward_steps_are_the_notebooks_cache_and_keep_their_gradients_when_asked():
    model = Classifier(nx=3, nh=4)
    X, Y = np.ones((3, 2)), np.array([[0.0, 1.0]])
    steps = model.forward_steps(X, retain_grad=True)
    assert list(steps) == ["Z1", "A1", "Z2", "Yhat"] and [t.name for t in steps.values()] == list(steps)
    model.loss_of(steps, Y).backward()
    assert all(t.grad is not None and t.grad.shape == t.shape for t in steps.values())


def test_forward_steps_keep_no_gradients_unless_asked():
    model = Classifier(nx=3, nh=4)
    steps = model.forward_steps(np.ones((3, 2)))
    model.loss_of(steps, np.array([[0.0, 1.0]])).backward()
    assert all(t.grad is None for t in steps.values())


def test_predict_labels_one_where_probability_exceeds_threshold():
    # nx = nh = 1 with unit weights: Yhat = sigmoid(relu(x)) = 0.5, 0.62, 0.88 for x = -1, 0.5, 2
    model = Classifier.from_arrays({"W1": [[1.0]], "b1": [[0.0]], "W2": [[1.0]], "b2": [[0.0]]})
    X = np.array([[-1.0, 0.5, 2.0]])
    assert model.predict(X).tolist() == [[0, 1, 1]]
    assert model.predict(X, threshold=0.7).tolist() == [[0, 0, 1]]


def test_accuracy_is_the_fraction_of_matching_labels():
    assert accuracy(np.array([[1.0, 0.0, 1.0, 1.0]]), np.array([[1, 1, 1, 0]])) == 0.5


def test_accuracy_refuses_labels_and_predictions_of_different_shapes():
    with pytest.raises(tg.ShapeError, match=r"\(1, 3\).*\(1, 2\)"):
        accuracy(np.zeros((1, 3)), np.zeros((1, 2)))


def test_input_with_the_wrong_number_of_features_names_both_counts():
    model = Classifier(nx=3, nh=4)
    with pytest.raises(tg.ShapeError, match=r"X has shape \(2, 5\).*3 features"):
        model.forward(np.ones((2, 5)))


def test_labels_must_be_one_per_example():
    model = Classifier(nx=3, nh=4)
    with pytest.raises(tg.ShapeError, match=r"Y has shape \(5, 1\).*\(1, 5\)"):
        model.loss(np.ones((3, 5)), np.ones((5, 1)))


def test_parameters_of_inconsistent_shapes_are_refused_with_their_shapes():
    with pytest.raises(tg.ShapeError, match=r"W2 is \(1, 3\)"):
        Classifier.from_arrays({"W1": np.ones((4, 2)), "b1": np.ones((4, 1)), "W2": np.ones((1, 3)), "b2": [[0.0]]})


def test_parameters_of_mixed_dtypes_are_refused():
    params = {"W1": np.ones((4, 2)), "b1": np.ones((4, 1)), "W2": np.ones((1, 4)), "b2": np.zeros((1, 1), np.float32)}
    with pytest.raises(tg.DTypeError, match="one dtype"):
        Classifier.from_arrays(params)


def test_missing_parameters_are_named():
    with pytest.raises(ParameterError, match="b2"):
        Classifier.from_arrays({"W1": np.ones((4, 2)), "b1": np.ones((4, 1)), "W2": np.ones((1, 4))})


def test_a_model_needs_features_and_hidden_units():
    with pytest.raises(ConfigError, match=r"Classifier: layer_sizes .* not \[3, 0, 1\]"):
        Classifier(nx=3, nh=0)
