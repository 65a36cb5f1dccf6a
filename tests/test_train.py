"""Gradient descent on the classifier: parity with the notebook's hand-derived backward pass, and how training ends."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygraph as tg
from tinygraph.models.classifier import Classifier
from tinygraph.models.datasets import load_builtin
from tinygraph.models.mlp import MLP
from tinygraph.models.optimizers import SGD, Adam, StepDecay
from tinygraph.models.train import TrainingDivergedError, batches, train
from tinygraph.testing import arrays, binary_labels


# ---- the notebook's own code (sections 1.2 to 1.5), as the oracle ----------------------
def notebook_create_nn_model(train_X, train_Y, nh, val_X, val_Y, num_iterations, learning_rate):
    rng = np.random.RandomState(1)  # the notebook's np.random.seed(1), without global state
    nx = train_X.shape[0]
    W1 = rng.uniform(size=(nh, nx), low=-0.01, high=0.01)
    W2 = rng.uniform(size=(1, nh), low=-0.01, high=0.01)
    b1, b2 = np.zeros((nh, 1)), np.zeros((1, 1))

    def forward_pass(X):
        Z1 = W1 @ X + b1
        A1 = np.maximum(0, Z1)
        Z2 = W2 @ A1 + b2
        return 1 / (1 + np.exp(-Z2)), (Z1, A1, Z2)

    def compute_loss(Y, Yhat):
        n = Y.shape[1]
        return (-1 / n) * np.sum(Y * np.log(Yhat) + (1 - Y) * np.log(1 - Yhat))

    def dBinaryLoss(Y, Yhat):
        return (Yhat - Y) / (Yhat * (1 - Yhat))

    def dsigmoid(Z):
        A = 1 / (1 + np.exp(-Z))
        return A * (1 - A)

    train_loss, val_loss = [], []
    for _ in range(num_iterations):
        Yhat_train, (Z1, A1, Z2) = forward_pass(train_X)
        Yhat_val, _ = forward_pass(val_X)
        train_loss.append(compute_loss(train_Y, Yhat_train))
        val_loss.append(compute_loss(val_Y, Yhat_val))
        n = train_X.shape[1]
        dZ2 = dBinaryLoss(train_Y, Yhat_train) * dsigmoid(Z2)
        dW2 = 1 / n * dZ2 @ A1.T
        db2 = 1 / n * np.sum(dZ2, axis=1, keepdims=True)
        dA1 = W2.T @ dZ2
        dZ1 = dA1 * np.where(Z1 > 0, 1.0, 0.0)
        dW1 = 1 / n * dZ1 @ train_X.T
        db1 = 1 / n * np.sum(dZ1, axis=1, keepdims=True)
        W1, W2 = W1 - learning_rate * dW1, W2 - learning_rate * dW2
        b1, b2 = b1 - learning_rate * db1, b2 - learning_rate * db2
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}, {"train_loss": train_loss, "val_loss": val_loss}


def assert_relatively_close(actual, expected):
    """Equal to 1e-12 relative, entry by entry.

    The absolute floor of 1e-14 is for entries such as b2 that are sums of O(1)
    terms cancelling to nearly zero (Yhat - Y over examples labelled 0 and 1):
    float64 resolves such terms only to about 1e-16 each, whatever the order of
    the arithmetic, so no two correct implementations agree more closely there.
    """
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-14)


@st.composite
def small_problems(draw):
    nx, nh = draw(st.integers(1, 5)), draw(st.integers(1, 6))
    n, n_val = draw(st.integers(1, 8)), draw(st.integers(1, 5))
    X, X_val = (draw(arrays((nx, m), min_value=-3, max_value=3)) for m in (n, n_val))
    Y, Y_val = (draw(binary_labels((1, m))) for m in (n, n_val))
    return X, Y, X_val, Y_val, nh, draw(st.floats(0.1, 2.0))


def run(X, Y, X_val, Y_val, nh, lr, iterations, **options):
    model = Classifier(X.shape[0], nh)
    optimizer = options.pop("optimizer", SGD(model.parameters(), lr))
    return train(model, X, Y, X_val, Y_val, iterations=iterations, optimizer=optimizer, **options)


# ---- parity ------------------------------------------------------------------------------
@given(small_problems())
def test_training_matches_the_notebooks_hand_derived_gradient_descent(problem):
    X, Y, X_val, Y_val, nh, lr = problem
    params, history = notebook_create_nn_model(X, Y, nh, X_val, Y_val, num_iterations=6, learning_rate=lr)
    result = run(X, Y, X_val, Y_val, nh, lr, iterations=6)
    for key in ("train_loss", "val_loss"):
        for actual, expected in zip(result.history[key], history[key], strict=True):
            assert_relatively_close(actual, expected)
    for name, array in result.model.arrays().items():
        assert_relatively_close(array, params[name])


def test_history_records_the_losses_before_each_update():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(3, 10)), (rng.random((1, 10)) > 0.5).astype(float)
    initial = Classifier(3, 4)
    result = run(X, Y, X[:, :4], Y[:, :4], 4, 0.5, iterations=5)
    assert len(result.history["train_loss"]) == len(result.history["val_loss"]) == result.iterations == 5
    assert result.history["train_loss"][0] == initial.loss(X, Y).item()
    assert result.history["val_loss"][0] == initial.loss(X[:, :4], Y[:, :4]).item()
    assert not result.interrupted


def test_float32_training_keeps_float32_parameters():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(3, 10)).astype(np.float32), np.ones((1, 10), np.float32)
    model = Classifier(3, 4, dtype=np.float32)
    train(model, X, Y, X, Y, iterations=3, optimizer=SGD(model.parameters(), 0.1))
    assert all(p.data.dtype == np.float32 for p in model.parameters())


def test_parameters_hold_no_gradient_after_training():
    result = run(np.ones((2, 3)), np.ones((1, 3)), np.ones((2, 2)), np.ones((1, 2)), 3, 0.1, iterations=2)
    assert all(p.grad is None for p in result.model.parameters())


# ---- how training ends -----------------------------------------------------------------
def test_a_loss_that_becomes_nan_stops_training_with_an_error_naming_the_iteration():
    X, Y = np.array([[1.0, np.nan, 2.0]]), np.array([[1.0, 0.0, 1.0]])
    with pytest.raises(TrainingDivergedError, match=r"iteration 0: the loss became nan"):
        run(X, Y, X, Y, 2, 0.1, iterations=20)


def test_ctrl_c_in_a_callback_returns_what_was_learned_so_far():
    X, Y = np.random.default_rng(0).normal(size=(2, 6)), np.array([[0.0, 1.0, 1.0, 0.0, 1.0, 0.0]])

    def interrupt_at_third(i, logs):
        if i == 2:
            raise KeyboardInterrupt

    result = run(X, Y, X, Y, 3, 0.5, iterations=10, on_iteration=interrupt_at_third)
    three = run(X, Y, X, Y, 3, 0.5, iterations=3)
    assert result.interrupted and result.iterations == 3
    assert result.history == three.history
    for name, array in three.model.arrays().items():
        assert np.array_equal(result.model.arrays()[name], array)


def test_ctrl_c_during_an_update_drops_the_losses_of_that_unfinished_iteration():
    X, Y = np.random.default_rng(0).normal(size=(2, 6)), np.array([[0.0, 1.0, 1.0, 0.0, 1.0, 0.0]])
    model = Classifier(2, 3)

    class InterruptedSGD(SGD):
        def step(self):
            if len(self.steps) == 2:
                raise KeyboardInterrupt
            self.steps.append(1)
            super().step()

    optimizer = InterruptedSGD(model.parameters(), 0.5)
    optimizer.steps = []
    result = train(model, X, Y, X, Y, iterations=10, optimizer=optimizer)
    two = run(X, Y, X, Y, 3, 0.5, iterations=2)
    assert result.interrupted and result.iterations == 2
    assert result.history == two.history
    assert all(p.grad is None for p in model.parameters())
    for name, array in two.model.arrays().items():
        assert np.array_equal(model.arrays()[name], array)


# ---- the notebook's safety checks ---------------------------------------------------
@pytest.mark.parametrize(
    ("shapes", "message"),
    [
        (((3, 5), (1, 5), (2, 4), (1, 4)), r"same number of features.*\(3, 5\).*\(2, 4\)"),
        (((3, 5), (1, 4), (3, 4), (1, 4)), r"train_X and train_Y.*\(1, 5\), not \(1, 4\)"),
        (((3, 5), (1, 5), (3, 4), (4, 1)), r"val_X and val_Y.*\(1, 4\), not \(4, 1\)"),
        (((3, 0), (1, 0), (3, 4), (1, 4)), r"train_X must be nx x n with at least one example"),
        (((15,), (1, 5), (3, 4), (1, 4)), r"train_X must be nx x n"),
    ],
    ids=["features", "train labels", "val labels", "no examples", "not a matrix"],
)
def test_data_that_do_not_fit_together_are_refused_with_their_shapes(shapes, message):
    model = Classifier(3, 4)
    data = [np.zeros(shape) for shape in shapes]
    with pytest.raises(tg.ShapeError, match=message):
        train(model, *data, iterations=1, optimizer=SGD(model.parameters(), 0.1))


def test_data_with_other_features_than_the_model_are_refused():
    model = Classifier(2, 4)
    with pytest.raises(tg.ShapeError, match=r"train_X has shape \(3, 5\).*2 features"):
        train(model, np.zeros((3, 5)), np.zeros((1, 5)), np.zeros((3, 2)), np.zeros((1, 2)), iterations=1,
              optimizer=SGD(model.parameters(), 0.1))  # fmt: skip



# ---- mini-batches, epochs, dropout, early stopping (deeper nets) ----------------------------
def mlp_problem(n=12, n_val=6, seed=0):
    rng = np.random.default_rng(seed)
    X, X_val = rng.normal(size=(2, n)), rng.normal(size=(2, n_val))
    return X, (X[:1] > 0).astype(float), X_val, (X_val[:1] > 0).astype(float)


def test_an_epochs_batches_hold_every_example_once_in_an_order_drawn_afresh_each_epoch():
    X = tg.Tensor(np.arange(10.0).reshape(1, 10))
    shuffle = np.random.default_rng(0)
    epochs = [np.concatenate([Xb.numpy()[0] for Xb, _ in batches(X, X, 4, shuffle)]) for _ in range(2)]
    assert [len(Xb.numpy()[0]) for Xb, _ in batches(X, X, 4, shuffle)] == [4, 4, 2]
    assert all(sorted(order) == list(range(10)) for order in epochs)
    assert not np.array_equal(*epochs)


def test_an_epoch_of_mini_batches_is_one_update_per_batch_in_the_seeded_order():
    X, Y, X_val, Y_val = mlp_problem()
    model, expected = MLP([2, 3, 1], seed=2), MLP([2, 3, 1], seed=2)
    train(model, X, Y, X_val, Y_val, optimizer=SGD(model.parameters(), 0.5), epochs=1, batch_size=5, shuffle_seed=7)
    optimizer, order = SGD(expected.parameters(), 0.5), np.random.default_rng(7).permutation(12)
    for columns in (order[:5], order[5:10], order[10:]):
        expected.loss(X[:, columns], Y[:, columns]).backward()
        optimizer.step()
        optimizer.zero_grad()
    for name, array in expected.arrays().items():
        np.testing.assert_array_equal(model.arrays()[name], array)


def test_the_history_has_one_entry_per_epoch_holding_the_mean_of_its_batch_losses():
    X, Y, X_val, Y_val = mlp_problem()
    model = MLP([2, 3, 1], seed=2)
    initial = MLP([2, 3, 1], seed=2)
    result = train(model, X, Y, X_val, Y_val, optimizer=SGD(model.parameters(), 1e-9), epochs=3, batch_size=5)
    assert result.per == "epoch" and result.iterations == 9
    assert len(result.history["train_loss"]) == len(result.history["val_loss"]) == 3
    # With a learning rate of 1e-9 every batch loss is the initial model's, up to 1e-8.
    order = np.random.default_rng(0).permutation(12)
    batch_losses = [initial.loss(X[:, c], Y[:, c]).item() for c in (order[:5], order[5:10], order[10:])]
    assert result.history["train_loss"][0] == pytest.approx(np.mean(batch_losses), rel=1e-7)


def test_iterations_count_updates_and_may_end_in_the_middle_of_an_epoch():
    X, Y, X_val, Y_val = mlp_problem()
    model = MLP([2, 3, 1])
    result = train(model, X, Y, X_val, Y_val, optimizer=SGD(model.parameters(), 0.1), iterations=4, batch_size=5)
    assert result.iterations == 4 and len(result.history["val_loss"]) == 2


def test_epochs_and_iterations_are_one_or_the_other():
    X, Y, X_val, Y_val = mlp_problem()
    model = MLP([2, 3, 1])
    with pytest.raises(ValueError, match="iterations .* or of epochs"):
        train(model, X, Y, X_val, Y_val, optimizer=SGD(model.parameters(), 0.1), iterations=4, epochs=2)


def test_dropout_is_on_in_the_training_loss_and_off_in_the_validation_loss():
    X, Y, X_val, Y_val = mlp_problem()
    model, initial = MLP([2, 8, 1], dropout=0.5, seed=3), MLP([2, 8, 1], seed=3)
    result = train(model, X, Y, X_val, Y_val, optimizer=SGD(model.parameters(), 0.1), epochs=1)
    assert result.history["val_loss"][0] == initial.loss(X_val, Y_val).item()
    assert result.history["train_loss"][0] != initial.loss(X, Y).item()


def overfitting_problem():
    """Validation labels agree with the training labels on 60% of the same points: fitting them all overfits."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(2, 40))
    Y = (rng.random((1, 40)) > 0.5).astype(float)
    flipped = np.where(np.arange(40) < 16, 1 - Y, Y)
    return X, Y, X, flipped


def test_early_stopping_ends_training_and_keeps_the_parameters_of_the_lowest_validation_loss():
    X, Y, X_val, Y_val = overfitting_problem()
    model = MLP([2, 32, 32, 1], init="he", seed=0)
    result = train(model, X, Y, X_val, Y_val, optimizer=Adam(model.parameters(), 0.01), epochs=500,
                   early_stopping=5)  # fmt: skip
    val_losses = result.history["val_loss"]
    assert result.stopped_early and 0 < result.best_epoch == int(np.argmin(val_losses))
    assert len(val_losses) == result.best_epoch + 5 + 1
    assert min(val_losses[result.best_epoch + 1 :]) > val_losses[result.best_epoch]
    with tg.no_grad():
        assert model.loss(X_val, Y_val).item() == min(val_losses)


def test_ctrl_c_with_early_stopping_keeps_the_parameters_of_the_lowest_validation_loss_so_far():
    X, Y, X_val, Y_val = overfitting_problem()
    model = MLP([2, 32, 32, 1], init="he", seed=0)
    val_losses = []

    def interrupt_two_epochs_past_the_lowest(epoch, logs):
        val_losses.append(logs["val_loss"])
        if epoch - int(np.argmin(val_losses)) == 2:
            raise KeyboardInterrupt

    result = train(model, X, Y, X_val, Y_val, optimizer=Adam(model.parameters(), 0.01), epochs=500,
                   early_stopping=5, on_iteration=interrupt_two_epochs_past_the_lowest)  # fmt: skip
    assert result.interrupted and not result.stopped_early
    assert result.best_epoch == int(np.argmin(val_losses)) == len(val_losses) - 3
    with tg.no_grad():
        assert model.loss(X_val, Y_val).item() == min(val_losses)


def test_the_schedule_steps_once_per_epoch():
    X, Y, X_val, Y_val = mlp_problem()
    model = MLP([2, 3, 1])
    optimizer = SGD(model.parameters(), 0.8)
    train(model, X, Y, X_val, Y_val, optimizer=optimizer, epochs=5, batch_size=4,
          schedule=StepDecay(optimizer, every=2, gamma=0.5))  # fmt: skip
    assert optimizer.lr == 0.8 * 0.5**2


def test_two_relu_hidden_layers_with_adam_and_mini_batches_reach_095_validation_accuracy_on_spirals():
    """A bar, not a measurement: train() with these seeds; the run takes about 1 s."""
    train_X, train_Y, val_X, val_Y = load_builtin("spirals", seed=1)
    model = MLP([2, 32, 32, 1], activation="relu", init="he", seed=0)
    train(model, train_X, train_Y, val_X, val_Y, optimizer=Adam(model.parameters(), lr=0.01), epochs=30,
          batch_size=32)  # fmt: skip
    assert model.accuracy(val_X, val_Y) >= 0.95


def test_the_history_holds_each_epochs_accuracies_beside_its_losses_and_hands_them_to_the_callback():
    X, Y, X_val, Y_val = mlp_problem(n=40, n_val=20)
    logs = []
    result = train(fresh := MLP([2, 8, 1], seed=0), X, Y, X_val, Y_val, optimizer=SGD(fresh.parameters(), 0.5),
                   iterations=3, on_iteration=lambda epoch, entry: logs.append(entry))  # fmt: skip
    assert list(result.history) == ["train_loss", "val_loss", "train_accuracy", "val_accuracy"]
    assert logs == [{key: values[e] for key, values in result.history.items()} for e in range(3)]
    once = MLP([2, 8, 1], seed=0)  # the parameters the third iteration starts from
    train(once, X, Y, X_val, Y_val, optimizer=SGD(once.parameters(), 0.5), iterations=2)
    assert result.history["train_accuracy"][2] == once.accuracy(X, Y)
    assert result.history["val_accuracy"][2] == once.accuracy(X_val, Y_val)
