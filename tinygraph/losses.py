"""Loss functions: each takes predictions and labels and returns a scalar mean."""

from __future__ import annotations

from typing import Any

from tinygraph.backend import astype, reduce_sum, size
from tinygraph.elementwise import stable_sigmoid
from tinygraph.errors import LabelError, ShapeError
from tinygraph.node import Node
from tinygraph.tensor import Tensor


class Loss(Node):
    """A loss: the mean over n entries (n examples), which forward records in self.n."""

    n: int

    def constants(self) -> dict[str, float]:
        return {"n": self.n}


class BCE(Loss):
    """L = -1/n sum(Y log(Yhat) + (1 - Y) log(1 - Yhat));  dL/dYhat = (Yhat - Y) / (n Yhat (1 - Yhat))

    The notebook's compute_loss and dBinaryLoss, as a mean over all n entries (for
    its 1 x n labels, the notebook's 1/n). Yhat is clipped to [eps, 1 - eps], with
    eps the machine epsilon of its dtype, in the loss and in the gradient alike:
    probabilities of exactly 0 or 1 then give a large but finite loss and gradient.
    """

    domain = {"Yhat": (0.01, 0.99), "Y": (0.0, 1.0)}
    shapes = {"Yhat": "...", "Y": "..."}

    def forward(self, Yhat, Y):
        check_same_shape(self.name, Yhat, Y)
        xp = self.xp
        self.n = size(Y)
        eps = xp.finfo(Yhat.dtype).eps
        Yhat = xp.minimum(xp.maximum(Yhat, eps), 1 - eps)  # a clip, minus np.clip's Python layers
        log_Yhat, log_1mYhat = xp.log(Yhat), xp.log(1 - Yhat)
        self.save_for_backward(Yhat, Y, log_Yhat, log_1mYhat)
        return -reduce_sum(Y * log_Yhat + (1 - Y) * log_1mYhat, None, xp) / size(Y)

    def local_grads(self, dL):
        Yhat, Y, log_Yhat, log_1mYhat = self.saved
        n = self.n
        dYhat = dL / n * (Yhat - Y) / (Yhat * (1 - Yhat)) if self.needs_grad[0] else None
        dY = -dL * (log_Yhat - log_1mYhat) / n if self.needs_grad[1] else None
        return dYhat, dY


class BCEWithLogits(Loss):
    """L = mean(log(1 + exp(Z)) - Y Z) = BCE(sigmoid(Z), Y);  dL/dZ = (sigmoid(Z) - Y) / n

    The sigmoid and the loss fused into one node: log(1 + exp(Z)) - Y Z is computed as
    max(Z, 0) - Y Z + log(1 + exp(-|Z|)), which neither overflows nor cancels (for
    Y = 1 and a large Z, the first two terms cancel exactly), and the gradient is the lecture's
    dBinaryLoss * dsigmoid with the Yhat(1 - Yhat) factors cancelled.
    """

    domain = {"Y": (0.0, 1.0)}
    shapes = {"Z": "...", "Y": "..."}

    def forward(self, Z, Y):
        check_same_shape(self.name, Z, Y)
        xp = self.xp
        self.n = size(Z)
        self.save_for_backward(Z, Y)
        return xp.mean(xp.maximum(Z, 0.0) - Y * Z + xp.log1p(xp.exp(-xp.abs(Z))))

    def local_grads(self, dL):
        Z, Y = self.saved
        n = self.n
        Yhat = stable_sigmoid(Z, self.xp)
        return (
            dL * (Yhat - Y) / n if self.needs_grad[0] else None,
            -dL * Z / n if self.needs_grad[1] else None,
        )


class SoftmaxCrossEntropy(Loss):
    """L = -1/n sum_j log softmax(Z)[y_j, j] for logits Z (K x n);  dL/dZ = (softmax(Z) - onehot(y)) / n

    Labels are class indices 0..K-1, one per column (shape n or 1 x n). The
    log-softmax is computed with the log-sum-exp shift, so large logits are safe.
    """

    shapes = {"Z": "3 n", "labels": "n"}
    labels = {"labels": [0.0, 1.0, 2.0]}

    def forward(self, Z, labels):
        xp = self.xp
        if Z.ndim != 2:
            raise ShapeError(f"{self.name}: logits must be K x n (classes by examples), not shape {Z.shape}")
        K, n = Z.shape
        self.n = n
        labels = xp.reshape(labels, (-1,))
        if labels.shape[0] != n:
            raise ShapeError(f"{self.name}: {n} examples of logits {Z.shape} but {labels.shape[0]} labels")
        classes = astype(labels, xp.int64, xp)
        whole = astype(classes, labels.dtype, xp) == labels  # the standard compares no ints with floats
        if not bool(xp.all(whole)) or bool(xp.any(classes < 0)) or bool(xp.any(classes >= K)):
            raise LabelError(f"{self.name}: labels must be whole numbers from 0 to {K - 1}")
        log_P = log_softmax(Z, xp)
        onehot = astype(xp.arange(K)[:, None] == classes[None, :], Z.dtype, xp)
        self.save_for_backward(log_P, onehot)
        return -xp.sum(log_P * onehot) / n

    def local_grads(self, dL):
        log_P, onehot = self.saved
        return (dL * (self.xp.exp(log_P) - onehot) / self.n, None)


def log_softmax(Z: Any, xp: Any) -> Any:
    """log softmax of each column of the K x n array Z; shifted by the column's max, so exp cannot overflow."""
    shifted = Z - xp.max(Z, axis=0, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=0, keepdims=True))


def check_same_shape(node: str, predictions: Any, labels: Any) -> None:
    # Broadcasting a 1 x n prediction against n x 1 labels would silently give n x n.
    if predictions.shape != labels.shape:
        raise ShapeError(f"{node}: predictions of shape {predictions.shape} but labels of shape {labels.shape}")


def binary_cross_entropy(Yhat: Any, Y: Any) -> Tensor:
    return BCE.apply(Yhat, Y)


def binary_cross_entropy_with_logits(Z: Any, Y: Any) -> Tensor:
    return BCEWithLogits.apply(Z, Y)


def softmax_cross_entropy(Z: Any, labels: Any) -> Tensor:
    return SoftmaxCrossEntropy.apply(Z, labels)
