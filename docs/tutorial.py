# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Backpropagation with one hidden layer, runnable
#
# The lecture's notebook builds a one-hidden-layer classifier by hand: a forward pass,
# a backward pass written gradient by gradient, gradient descent. This tutorial walks
# the same road with tinygraph beside it, so that every number of the hand-written
# backward pass can be seen on the graph that computes it.
#
# Run it from the repository's root (`jupyter lab docs/tutorial.ipynb`, or open the
# paired `docs/tutorial.py` with jupytext). It needs no download and runs in well
# under two minutes; the test suite executes it.

# %%
import tempfile
from pathlib import Path

import numpy as np

import tinygraph as tg
from tinygraph.viz import draw, entry, expansion, path_view, step_through

out = Path(tempfile.mkdtemp())  # pictures written by this tutorial go here

# %% [markdown]
# ## 1. The data and the shapes
#
# The notebook keeps one example per **column**: X is nx x n (features by examples),
# Y is 1 x n. W1 is nh x nx, b1 nh x 1, W2 1 x nh, b2 1 x 1. A tiny case keeps every
# matrix small enough to read: nx = 2 features, nh = 3 hidden units, n = 4 examples.

# %%
rng = np.random.default_rng(7)
nx, nh, n = 2, 3, 4
X = rng.normal(size=(nx, n))
Y = np.array([[1.0, 0.0, 1.0, 1.0]])
params = {
    "W1": rng.uniform(-1, 1, (nh, nx)),
    "b1": rng.uniform(-0.5, 0.5, (nh, 1)),
    "W2": rng.uniform(-1, 1, (1, nh)),
    "b2": np.array([[0.1]]),
}
{name: value.shape for name, value in {"X": X, "Y": Y, **params}.items()}

# %% [markdown]
# ## 2. The notebook's forward and backward pass, by hand
#
# Exactly as the notebook writes them: `dBinaryLoss`, `dsigmoid`, `drelu`, and the
# 1/n put into dW and db.


# %%
def relu(z):
    return np.maximum(0, z)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def forward_pass(p, X):
    Z1 = p["W1"] @ X + p["b1"]
    A1 = relu(Z1)
    Z2 = p["W2"] @ A1 + p["b2"]
    Yhat = sigmoid(Z2)
    return Yhat, {"Z1": Z1, "A1": A1, "Z2": Z2}


def compute_loss(Y, Yhat):
    n = Y.shape[1]
    return (-1 / n) * np.sum(Y * np.log(Yhat) + (1 - Y) * np.log(1 - Yhat))


def backward_pass(p, cache, X, Y, Yhat):
    n = X.shape[1]
    dYhat = (Yhat - Y) / (Yhat * (1 - Yhat))  # dBinaryLoss
    dZ2 = dYhat * Yhat * (1 - Yhat)  # dsigmoid
    dW2 = (1 / n) * dZ2 @ cache["A1"].T
    db2 = (1 / n) * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = p["W2"].T @ dZ2
    dZ1 = dA1 * np.where(cache["Z1"] > 0, 1.0, 0.0)  # drelu
    dW1 = (1 / n) * dZ1 @ X.T
    db1 = (1 / n) * np.sum(dZ1, axis=1, keepdims=True)
    return {"dYhat": dYhat, "dZ2": dZ2, "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


Yhat_np, cache = forward_pass(params, X)
grads_np = backward_pass(params, cache, X, Y, Yhat_np)
print("loss", compute_loss(Y, Yhat_np))
print("dZ2 =", grads_np["dZ2"])

# %% [markdown]
# ## 3. The same computation as a graph
#
# Each operation becomes a node that remembers its inputs. Naming the tensors as the
# notebook does puts those names in the pictures. A tensor shows its values when it
# is small.

# %%
W1, b1, W2, b2 = (tg.Tensor(params[k], requires_grad=True, name=k) for k in ("W1", "b1", "W2", "b2"))
Xt, Yt = tg.Tensor(X, name="X"), tg.Tensor(Y, name="Y")


def named(tensor, name):
    tensor.name = name
    return tensor


W1X = named(W1 @ Xt, "W1X")
Z1 = named(W1X + b1, "Z1")
A1 = named(tg.relu(Z1), "A1")
W2A1 = named(W2 @ A1, "W2A1")
Z2 = named(W2A1 + b2, "Z2")
Yhat = named(tg.sigmoid(Z2), "Yhat")
L = named(tg.binary_cross_entropy(Yhat, Yt), "L")
print(L, float(L))
Z1

# %%
draw(L, values=True)

# %% [markdown]
# ## 4. The local gradients on the picture
#
# Every edge says which gradient the backward pass sends along it and how it is made
# from the gradient it received, in one notation: `dL/dW1 = dL/dW1X X^T`. Where
# broadcasting copied b1 into all n columns, the edge says the gradient is summed
# back over them: this is the notebook's "why we are summing the bias terms".

# %%
draw(L, local_grads=True, rankdir="TB")

# %% [markdown]
# With `backward=True, values=True` the arrows carry the gradients themselves, small
# ones as grids, rows as rows. The zeros of dL/dZ1 are the ReLU's mask.

# %%
draw(L, backward=True, values=True, rankdir="TB")

# %% [markdown]
# ## 5. Step by step
#
# `step_through` shows one frame per step the engine takes, in its own order, with
# previous/next buttons (click the picture, then use the arrow keys). With
# `forward=True` the forward pass comes first, values appearing node by node. Click a
# tensor's box to see its gradient's chain-rule expansion with the numbers.
# `step_through(L, "some/folder")` also saves the frames and a standalone page.

# %%
steps = step_through(L, out / "steps", values=True, forward=True)
print(steps)
steps

# %% [markdown]
# ## 6. The 1/n bridge
#
# tinygraph computes the true gradients of the **mean** loss: its dL/dYhat already
# holds the 1/n, and so does every gradient after it. The notebook leaves the 1/n out
# (dZ2 = Yhat - Y) and puts it into dW and db. So the notebook's dZ2 is n times
# tinygraph's dL/dZ2, while the parameters' gradients are the same.

# %%
Z2.retain_grad()
Z1.retain_grad()
L.backward(retain_graph=True)
np.testing.assert_allclose(grads_np["dZ2"], n * Z2.grad)  # the notebook's dZ2 = n dL/dZ2
np.testing.assert_allclose(grads_np["dZ1"], n * Z1.grad)
for name, tensor in {"dW1": W1, "db1": b1, "dW2": W2, "db2": b2}.items():
    np.testing.assert_allclose(grads_np[name], tensor.grad)  # the parameters agree to machine precision
print("dZ2 (notebook) =", grads_np["dZ2"], "  n * dL/dZ2 =", n * Z2.grad)

# %% [markdown]
# The pictures and the step-through can show the notebook's convention instead, marked
# as such: `convention="notebook"`.

# %%
draw(L, local_grads=True, backward=True, values=True, convention="notebook", rankdir="TB")

# %% [markdown]
# ## 7. The chain rule, explored
#
# One path from the loss to W1, with the product of the local gradients along it:

# %%
path_view(L, W1)

# %% [markdown]
# One entry of dW1, as a sum over the examples: dW1[i, k] = sum over j of dZ1[i, j] X[k, j]
# (here dL/dW1X, which the Add passes on unchanged from dL/dZ1):

# %%
print(entry(L, W1, (0, 1)))

# %% [markdown]
# And a tensor's whole gradient as the chain rule builds it, down to the loss:

# %%
expansion(L, A1)

# %% [markdown]
# ## 8. Checking a gradient with finite differences
#
# `tg.numerical_grad` gives (L(w + eps) - L(w - eps)) / (2 eps) for every entry, as an
# array you can compare with your own numpy gradient.


# %%
def loss_of(W1, b1, W2, b2):
    A1 = tg.relu(W1 @ X + b1)
    return tg.binary_cross_entropy(tg.sigmoid(W2 @ A1 + b2), Y)


numeric = tg.numerical_grad(loss_of, [params["W1"], params["b1"], params["W2"], params["b2"]])
np.testing.assert_allclose(numeric[0], grads_np["dW1"], atol=1e-8)
print("finite differences:\n", numeric[0], "\nthe notebook's dW1:\n", grads_np["dW1"])

# %% [markdown]
# `gradcheck` does that comparison for a node's own backward pass. Here is a
# deliberately wrong one: a sigmoid whose local gradient forgets the (1 - Yhat).


# %%
class WrongSigmoid(tg.Node):
    """Yhat = sigmoid(Z);  dL/dZ = dL/dYhat * Yhat"""

    def forward(self, Z):
        Yhat = 1 / (1 + np.exp(-Z))
        self.save_for_backward(Yhat)
        return Yhat

    def local_grads(self, dYhat):
        (Yhat,) = self.saved
        return (dYhat * Yhat,)  # wrong: dsigmoid is Yhat (1 - Yhat)


try:
    tg.gradcheck(WrongSigmoid.apply, [np.array([[0.5, -1.0, 2.0]])])
except tg.GradcheckError as error:
    print(error)

# %% [markdown]
# ## 9. Writing your own node
#
# A node is a short class: `forward` on arrays, `local_grads` from dL/d(output) to
# dL/d(input), the formula in the docstring's first line (which the pictures read).
# The hypothesis strategies in `tinygraph.testing` draw shapes and values to test it.


# %%
class LeakyReLU(tg.Node):
    """A = Z where Z > 0, else slope * Z;  dL/dZ = dL/dA * (1 where Z > 0, else slope)"""

    def __init__(self, slope=0.2):
        self.slope = slope

    def constants(self):
        return {"slope": self.slope}

    def forward(self, Z):
        self.save_for_backward(Z > 0)
        return np.where(Z > 0, Z, self.slope * Z)

    def local_grads(self, dA):
        (positive,) = self.saved
        return (np.where(positive, dA, self.slope * dA),)


from hypothesis import given, settings  # noqa: E402

from tinygraph import testing  # noqa: E402


@settings(max_examples=30, deadline=None)
@given(testing.arrays(testing.shapes(), avoid=[0.0]))
def test_leaky_relu_gradient(Z):
    assert tg.gradcheck(lambda Z: LeakyReLU.apply(Z, slope=0.2), [Z])


test_leaky_relu_gradient()
print("LeakyReLU passes gradcheck on 30 drawn shapes and values")
x = tg.Tensor([[-1.0, 2.0]], requires_grad=True, name="Z")
draw(named(LeakyReLU.apply(x, slope=0.2), "A").sum(), local_grads=True)

# %% [markdown]
# ## 10. Training on images
#
# The notebook trains on 2,000 cat and dog photos. A stand-in made in code (a disc,
# blue-ish for a cat, orange-ish for a dog, on a noisy background) has the same
# shape, 12,288 pixel rows per image, and needs no download. The classifier is the
# notebook's, initialised as its `initialize_parameters` does; to be quick here it
# learns with Adam instead of the notebook's plain gradient descent (whose lr = 0.01
# needs its 2,000 iterations to leave the nearly flat start).

# %%
import io  # noqa: E402

from IPython.display import Image  # noqa: E402

from tinygraph.models import plots  # noqa: E402
from tinygraph.models.classifier import Classifier  # noqa: E402
from tinygraph.models.datasets import synthetic_images  # noqa: E402
from tinygraph.models.mlp import accuracy  # noqa: E402
from tinygraph.models.optimizers import Adam  # noqa: E402
from tinygraph.models.train import train  # noqa: E402


def show(figure):
    """A matplotlib figure as a PNG in the notebook (plots makes figures without pyplot)."""
    png = io.BytesIO()
    figure.savefig(png, format="png", dpi=80)
    return Image(png.getvalue())


images = np.random.default_rng(1)
train_X, train_Y = synthetic_images(200, images)
val_X, val_Y = synthetic_images(60, images)
model = Classifier(train_X.shape[0], 8, seed=1)
result = train(model, train_X, train_Y, val_X, val_Y, optimizer=Adam(model.parameters(), lr=0.003), iterations=40)
print(f"validation loss {result.history['val_loss'][0]:.3f} -> {result.history['val_loss'][-1]:.3f}, "
      f"validation accuracy {accuracy(val_Y, model.predict(val_X)):.2f}")  # fmt: skip

# %% [markdown]
# The notebook's cache: the forward pass can hand back its named intermediates, and
# keep their gradients after backward().

# %%
steps = model.forward_steps(train_X[:, :5], retain_grad=True)
model.loss_of(steps, train_Y[:, :5]).backward()
{name: t.grad.shape for name, t in steps.items()}

# %% [markdown]
# The learning curve, with a second run (a smaller learning rate) laid over it
# (`plots.read_history` reads another run's history.json, or the notebook's printed
# losses, to compare with), and the images with their true label, the prediction and
# its probability; mistakes are framed in red.

# %%
slow = Classifier(train_X.shape[0], 8, seed=1)
slower = train(slow, train_X, train_Y, val_X, val_Y, optimizer=Adam(slow.parameters(), lr=0.001), iterations=40)
show(plots.learning_curve(result.history, compare=slower.history, compare_label="lr = 0.001"))

# %%
grid = plots.image_grid(
    train_X[:, :5], train_Y[:, :5], count=5, probabilities=model.probabilities(train_X[:, :5]),
    validation=(val_X[:, :5], val_Y[:, :5], model.probabilities(val_X[:, :5])),
)  # fmt: skip
show(grid)

# %% [markdown]
# ## 11. Where to go next
#
# The classifier is one case of `tinygraph.models.mlp.MLP`: deeper nets, other activations,
# mini-batches and Adam, on the same engine. `python -m tinygraph.models.cli train --layers 16,16`
# trains one from the command line; README.md lists the options.

# %%
from tinygraph.models.mlp import MLP  # noqa: E402

deep = MLP([2, 16, 16, 1], "relu", init="xavier", seed=0)
deep
