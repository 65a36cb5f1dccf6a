"""Optimisers against their update formulas, computed by hand in numpy for a few steps."""

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.models.optimizers import OPTIMIZERS, SGD, Adam, Momentum, RMSprop, StepDecay, get_optimizer

W0 = np.array([[0.5, -1.0, 2.0], [0.0, 0.3, -0.7]])
GRADIENTS = list(np.random.default_rng(0).normal(size=(4, *W0.shape)))


def trajectory(optimizer_class, gradients=GRADIENTS, dtype=np.float64, schedule=None, **hyperparameters):
    """W after each step, when step k sees gradients[k]."""
    W = tg.Tensor(W0.astype(dtype), requires_grad=True, name="W")
    optimizer = optimizer_class([W], **hyperparameters)
    decay = StepDecay(optimizer, **schedule) if schedule else None
    values = []
    for g in gradients:
        W.grad = g.astype(dtype)
        optimizer.step()
        optimizer.zero_grad()
        if decay:
            decay.step()
        values.append(W.data)
    return values


def test_sgd_steps_against_the_gradient():
    lr, W, expected = 0.1, W0, []
    for g in GRADIENTS:
        W = W - lr * g
        expected.append(W)
    np.testing.assert_allclose(trajectory(SGD, lr=lr), expected, rtol=1e-12)


def test_momentum_keeps_a_fading_sum_of_past_gradients():
    lr, beta, W, v, expected = 0.1, 0.9, W0, 0.0, []
    for g in GRADIENTS:
        v = beta * v + g
        W = W - lr * v
        expected.append(W)
    np.testing.assert_allclose(trajectory(Momentum, lr=lr, beta=beta), expected, rtol=1e-12)


def test_momentum_under_a_constant_gradient_moves_by_the_geometric_sum():
    g, lr, beta, steps = np.ones_like(W0), 0.1, 0.5, 3
    # v_t = g (1 + beta + ... + beta^(t-1)); W moves by lr times the sum of v_1 .. v_steps.
    moved = lr * sum((1 - beta**t) / (1 - beta) for t in range(1, steps + 1)) * g
    np.testing.assert_allclose(trajectory(Momentum, [g] * steps, lr=lr, beta=beta)[-1], W0 - moved)


def test_rmsprop_divides_each_step_by_the_running_root_mean_square_gradient():
    lr, rho, eps, W, s, expected = 0.01, 0.9, 1e-8, W0, 0.0, []
    for g in GRADIENTS:
        s = rho * s + (1 - rho) * g**2
        W = W - lr * g / (np.sqrt(s) + eps)
        expected.append(W)
    np.testing.assert_allclose(trajectory(RMSprop, lr=lr, rho=rho, eps=eps), expected, rtol=1e-12)


def test_rmsprop_first_step_is_lr_over_sqrt_one_minus_rho_against_the_gradients_sign():
    (W1,) = trajectory(RMSprop, GRADIENTS[:1], lr=0.01, rho=0.99)
    np.testing.assert_allclose(W1, W0 - 0.01 / np.sqrt(0.01) * np.sign(GRADIENTS[0]), rtol=1e-6)


def test_adam_follows_its_formula_with_bias_correction():
    lr, b1, b2, eps, W, m, v, expected = 0.01, 0.9, 0.999, 1e-8, W0, 0.0, 0.0, []
    for t, g in enumerate(GRADIENTS, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        mhat, vhat = m / (1 - b1**t), v / (1 - b2**t)
        W = W - lr * mhat / (np.sqrt(vhat) + eps)
        expected.append(W)
    np.testing.assert_allclose(trajectory(Adam, lr=lr, beta1=b1, beta2=b2, eps=eps), expected, rtol=1e-12)


def test_adam_first_step_is_lr_against_the_gradients_sign_thanks_to_bias_correction():
    (W1,) = trajectory(Adam, GRADIENTS[:1], lr=0.01)
    np.testing.assert_allclose(W1, W0 - 0.01 * np.sign(GRADIENTS[0]), rtol=1e-6)


def test_weight_decay_is_added_to_the_gradient_before_the_update():
    lr, lam, W, expected = 0.1, 0.05, W0, []
    for g in GRADIENTS:
        W = W - lr * (g + lam * W)
        expected.append(W)
    np.testing.assert_allclose(trajectory(SGD, lr=lr, weight_decay=lam), expected, rtol=1e-12)


def test_step_decay_multiplies_the_learning_rate_by_gamma_every_few_steps():
    W = tg.Tensor(W0, requires_grad=True)
    optimizer = SGD([W], lr=1.0)
    decay = StepDecay(optimizer, every=2, gamma=0.5)
    rates = []
    for _ in range(5):
        decay.step()
        rates.append(optimizer.lr)
    assert rates == [1.0, 0.5, 0.5, 0.25, 0.25]


def test_step_decay_changes_the_steps_the_optimizer_takes():
    lrs, W, expected = [0.1, 0.1, 0.01, 0.01], W0, []
    for lr, g in zip(lrs, GRADIENTS):
        W = W - lr * g
        expected.append(W)
    got = trajectory(SGD, lr=0.1, schedule={"every": 2, "gamma": 0.1})
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_step_decay_drives_every_optimizer(name):
    W = tg.Tensor(W0, requires_grad=True)
    optimizer = OPTIMIZERS[name]([W], lr=0.2)
    StepDecay(optimizer, every=1, gamma=0.5).step()
    assert optimizer.lr == pytest.approx(0.1)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_float32_parameters_stay_float32(name):
    values = trajectory(OPTIMIZERS[name], dtype=np.float32, lr=0.01)
    assert all(W.dtype == np.float32 for W in values)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_step_gives_a_new_array_and_leaves_a_read_only_gradient_alone(name):
    W = tg.Tensor(W0.copy(), requires_grad=True)
    before = W.data
    g = GRADIENTS[0].copy()
    g.flags.writeable = False
    W.grad = g
    OPTIMIZERS[name]([W], lr=0.01, weight_decay=0.1).step()
    assert W.data is not before
    np.testing.assert_array_equal(before, W0)
    np.testing.assert_array_equal(g, GRADIENTS[0])


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_parameter_without_a_gradient_is_left_as_it_is(name):
    W, V = tg.Tensor(W0, requires_grad=True), tg.Tensor(W0, requires_grad=True)
    W.grad = GRADIENTS[0]
    OPTIMIZERS[name]([W, V], lr=0.01).step()
    assert V.data is W0 and not np.array_equal(W.data, W0)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_zero_grad_forgets_every_gradient(name):
    params = [tg.Tensor(W0, requires_grad=True) for _ in range(2)]
    for p in params:
        p.grad = GRADIENTS[0]
    OPTIMIZERS[name](params).zero_grad()
    assert all(p.grad is None for p in params)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_lowers_a_quadratic_loss_from_the_engine(name):
    target = np.array([[1.0, -2.0, 0.5]])
    W = tg.Tensor(np.zeros((1, 3)), requires_grad=True, name="W")
    optimizer = OPTIMIZERS[name]([W], lr=0.05)
    losses = []
    for _ in range(50):
        L = ((W - target) ** 2).mean()
        losses.append(L.item())
        L.backward()
        optimizer.step()
        optimizer.zero_grad()
    assert losses[-1] < 0.2 * losses[0]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda W: SGD([W], lr=0.0), "SGD: learning rate lr must lie in"),
        (lambda W: SGD([W], lr=0.1, weight_decay=-1.0), "SGD: weight_decay"),
        (lambda W: Momentum([W], beta=1.0), "Momentum: beta"),
        (lambda W: RMSprop([W], eps=0.0), "RMSprop: eps"),
        (lambda W: Adam([W], beta2=1.5), "Adam: beta2"),
        (lambda W: SGD([], lr=0.1), "SGD: there are no parameters"),
        (lambda W: StepDecay(SGD([W]), every=0), "StepDecay: `every`"),
        (lambda W: StepDecay(SGD([W]), every=2, gamma=0.0), "StepDecay: gamma"),
    ],
)
def test_bad_hyperparameters_are_refused_naming_the_optimizer_and_the_setting(make, message):
    with pytest.raises(ValueError, match=message):
        make(tg.Tensor(W0, requires_grad=True))


def test_get_optimizer_finds_each_by_name_and_refuses_unknown_names():
    assert get_optimizer("adam") is Adam
    with pytest.raises(ValueError, match="adagrad.*sgd, momentum, rmsprop, adam"):
        get_optimizer("adagrad")
