"""How backward() walks the graph: order, accumulation, what it skips, what it keeps."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygraph as tg
from tinygraph.engine import backward
from tinygraph.matrix import MatMul


def leaf(values, name=None):
    return tg.Tensor(np.array(values, dtype=float), requires_grad=True, name=name)


# ---- accumulation where a tensor feeds several nodes --------------------------------


def test_diamond_sums_the_gradients_of_both_paths():
    x = leaf(1.5)
    y = 2 * x + 3 * x  # with assignment instead of accumulation, dy/dx would be 2 or 3
    y.backward()
    assert x.grad == 5.0


def test_a_tensor_multiplied_by_itself_gets_both_contributions():
    x = leaf([-2.0, 0.5, 3.0])
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * x.data)


def test_shared_weights_get_the_sum_of_both_uses():
    rng = np.random.default_rng(0)
    W = leaf(rng.standard_normal((2, 3)))
    X1, X2 = rng.standard_normal((3, 4)), rng.standard_normal((3, 5))
    ((W @ X1).sum() + (W @ X2).sum()).backward()
    np.testing.assert_allclose(W.grad, np.ones((2, 4)) @ X1.T + np.ones((2, 5)) @ X2.T)


def test_chain_of_100000_nodes_backpropagates_without_recursion():
    x = leaf([1.0, 2.0])
    y = x
    for _ in range(100_001):
        y = -y
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [-1.0, -1.0])


# ---- the topological order ------------------------------------------------------------


@st.composite
def random_dags(draw):
    """The root of a random graph of Add and Mul nodes over a few leaves, some of them constants."""
    leaves = draw(st.lists(st.booleans(), min_size=1, max_size=4))
    tensors = [tg.Tensor(np.ones(2), requires_grad=r) for r in leaves]
    for _ in range(draw(st.integers(1, 30))):
        a, b = draw(st.lists(st.sampled_from(tensors), min_size=2, max_size=2))
        tensors.append(a + b if draw(st.booleans()) else a * b)
    return (tensors[-1] + tg.Tensor(np.ones(2), requires_grad=True)).sum()


def assert_topological(order, root):
    """Every tensor appears once, after all the inputs it needs a gradient for (Autodidax's check_toposort)."""
    position = {id(t): i for i, t in enumerate(order)}
    assert len(position) == len(order), "a tensor appears twice"
    assert order[-1] is root
    for i, tensor in enumerate(order):
        if tensor.node is not None:
            for inp in tensor.node.inputs:
                if inp.requires_grad:
                    assert position[id(inp)] < i, f"{inp!r} comes after its consumer {tensor!r}"


@given(random_dags())
def test_topological_order_puts_every_input_before_its_consumers(root):
    assert_topological(tg.topological_order(root), root)


@given(random_dags())
def test_topological_order_holds_exactly_the_tensors_that_need_a_gradient(root):
    needed, stack = {}, [root]
    while stack:
        t = stack.pop()
        if t.requires_grad and id(t) not in needed:
            needed[id(t)] = t
            stack.extend(t.node.inputs if t.node else ())
    assert {id(t) for t in tg.topological_order(root)} == set(needed)


@given(random_dags())
def test_observer_sees_each_node_once_after_all_its_consumers(root):
    seen = []
    backward(root, observer=lambda tensor, grad, input_grads: seen.append(tensor))
    when = {id(t): i for i, t in enumerate(seen)}
    assert len(when) == len(seen), "a node was applied twice"
    assert set(when) == {id(t) for t in tg.topological_order(root) if t.node is not None}
    for i, tensor in enumerate(seen):
        for inp in tensor.node.inputs:
            if inp.node is not None and inp.requires_grad:
                assert when[id(inp)] > i, f"{inp!r} was applied before its consumer {tensor!r}"


def test_observer_receives_the_gradient_and_each_input_gradient():
    x = leaf([1.0, 2.0])
    root = (3 * x).sum()
    steps = {}
    backward(root, observer=lambda tensor, grad, input_grads: steps.setdefault(tensor.node.name, (grad, input_grads)))
    grad, (d_three, d_x) = steps["Mul"]
    np.testing.assert_array_equal(grad, [1.0, 1.0])
    assert d_three is None  # the constant 3 gets no gradient
    np.testing.assert_array_equal(d_x, [3.0, 3.0])


# ---- gradients only where they are asked for -------------------------------------------


def test_constants_and_tensors_without_requires_grad_get_no_gradient():
    w = leaf([1.0, 2.0])
    c = tg.Tensor([3.0, 4.0])
    (w * c * np.array([5.0, 6.0])).sum().backward()
    assert c.grad is None
    np.testing.assert_array_equal(w.grad, [15.0, 24.0])


class ProductCounter(np.ndarray):
    """An array that records every matrix product it takes part in, also through its transpose."""

    products: list = []

    def __matmul__(self, other):
        ProductCounter.products.append((self.shape, np.shape(other)))
        return np.asarray(self) @ other

    def __rmatmul__(self, other):
        ProductCounter.products.append((np.shape(other), self.shape))
        return other @ np.asarray(self)


def products_in_matmul_backward(X_requires_grad):
    """The matrix products MatMul's backward takes part in with W, for W @ X."""
    W = leaf(np.ones((2, 3)))
    X = tg.Tensor(np.ones((3, 4)), requires_grad=X_requires_grad)
    Z = W @ X
    assert isinstance(Z.node, MatMul)
    saved_W, saved_X = Z.node.saved
    Z.node.saved = (saved_W.view(ProductCounter), saved_X)  # dL/dX = W^T dL/dZ would go through it
    ProductCounter.products = []
    Z.sum().backward()
    return ProductCounter.products, W, X


def test_matmul_computes_no_product_toward_constant_data():
    products, W, X = products_in_matmul_backward(X_requires_grad=False)
    assert products == []
    assert X.grad is None
    np.testing.assert_array_equal(W.grad, np.full((2, 3), 4.0))


def test_matmul_computes_the_product_toward_data_that_requires_grad():
    # The control for the test above: the spy does see dL/dX = W^T dL/dZ when it is wanted.
    products, _, X = products_in_matmul_backward(X_requires_grad=True)
    assert products == [((3, 2), (2, 4))]
    np.testing.assert_array_equal(X.grad, np.full((3, 4), 2.0))


def test_no_grad_records_no_graph():
    x = leaf([1.0, 2.0])
    with tg.no_grad():
        y = (x * 2).sum()
    assert y.node is None and not y.requires_grad
    with pytest.raises(tg.TinygraphError, match="does not require a gradient"):
        y.backward()


def test_recording_resumes_after_no_grad():
    x = leaf([1.0, 2.0])
    with tg.no_grad():
        pass
    assert (x * 2).requires_grad


# ---- what backward keeps and releases --------------------------------------------------


def test_retain_graph_allows_a_second_backward_that_doubles_the_gradient():
    x = leaf([1.0, -2.0])
    L = (x * x).sum()
    L.backward(retain_graph=True)
    first = x.grad.copy()
    L.backward()
    np.testing.assert_array_equal(x.grad, 2 * first)


def test_second_backward_on_a_released_graph_raises():
    x = leaf([1.0, -2.0])
    L = (x * x).sum()
    L.backward()
    with pytest.raises(tg.GraphReleasedError, match="Sum: .*retain_graph=True"):
        L.backward()


def test_leaf_gradients_accumulate_across_backward_calls_until_zero_grad():
    x = leaf([1.0, 2.0])
    (3 * x).sum().backward()
    (5 * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [8.0, 8.0])
    x.zero_grad()
    (7 * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [7.0, 7.0])


def test_backward_releases_the_arrays_every_node_saved():
    x = leaf([1.0, 2.0])
    L = tg.sigmoid(x * x).sum()
    L.backward()
    assert all(t.node.saved is None for t in tg.topological_order(L) if t.node is not None)


def test_intermediate_tensors_keep_no_gradient_by_default():
    x = leaf([1.0, 2.0])
    h = 2 * x
    (h * h).sum().backward()
    assert h.grad is None


def test_retain_grad_keeps_an_intermediate_gradient():
    x = leaf([1.0, 2.0])
    h = (2 * x).retain_grad()
    (h * h).sum().backward()
    np.testing.assert_array_equal(h.grad, 2 * h.data)


# ---- the seed gradient dL/d(root) ------------------------------------------------------


def test_backward_from_a_non_scalar_needs_an_explicit_gradient():
    Z = leaf([[1.0, 2.0]]) * 3
    with pytest.raises(tg.ShapeError, match=r"root has shape \(1, 2\); pass grad"):
        Z.backward()


def test_backward_refuses_a_gradient_of_another_shape():
    Z = leaf([[1.0, 2.0]]) * 3
    with pytest.raises(tg.ShapeError, match=r"grad has shape \(2, 1\) but the root has shape \(1, 2\)"):
        Z.backward(np.ones((2, 1)))


def test_backward_from_a_non_scalar_chains_the_given_gradient():
    x = leaf([[1.0, 2.0]])
    (x * 3).backward(np.array([[10.0, -1.0]]))
    np.testing.assert_array_equal(x.grad, [[30.0, -3.0]])


# ---- broadcasting and empty arrays ----------------------------------------------------


def test_broadcast_bias_gets_the_row_sum_of_the_gradient():
    # The notebook's b1 (nh x 1) added to W1 X (nh x n): dL/db1 = sum over the n columns.
    b = leaf(np.zeros((2, 1)))
    G = np.arange(6.0).reshape(2, 3)
    (b + np.ones((2, 3))).backward(G)
    np.testing.assert_array_equal(b.grad, G.sum(axis=1, keepdims=True))


def test_broadcasting_against_an_empty_array_gives_a_zero_gradient_of_the_inputs_shape():
    b = leaf(np.ones((1, 3)))
    (b * np.ones((0, 3))).sum().backward()
    np.testing.assert_array_equal(b.grad, np.zeros((1, 3)))


# ---- inputs are left alone ---------------------------------------------------------------


def test_forward_and_backward_never_write_into_the_callers_arrays():
    rng = np.random.default_rng(1)
    arrays = {name: rng.uniform(0.1, 0.9, shape) for name, shape in [("W", (2, 3)), ("X", (3, 4)), ("b", (2, 1))]}
    arrays["Y"] = np.array([[0.0, 1.0, 1.0, 0.0]])
    originals = {name: a.copy() for name, a in arrays.items()}
    for a in arrays.values():
        a.flags.writeable = False  # any write, even in place, raises
    W = tg.Tensor(arrays["W"], requires_grad=True)
    b = tg.Tensor(arrays["b"], requires_grad=True)
    X, Y = arrays["X"], arrays["Y"]
    Z = W @ X + b
    A = tg.tanh(tg.relu(Z) - tg.leaky_relu(Z) / 2) ** 2
    H = tg.exp(A).T.reshape((1, 8)).reshape((2, 4)).mean(axis=0, keepdims=True) * tg.log(Z.sum(axis=0, keepdims=True))
    L = tg.binary_cross_entropy(tg.sigmoid(H), Y) + tg.binary_cross_entropy_with_logits(H, Y)
    L = L + tg.softmax_cross_entropy(Z, np.array([0, 1, 1, 0])) + tg.sum(-Z)
    L.backward()
    for name, a in arrays.items():
        np.testing.assert_array_equal(a, originals[name], err_msg=name)
