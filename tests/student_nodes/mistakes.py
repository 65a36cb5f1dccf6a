"""Nodes with the mistakes students make, one each; tests/test_check_node.py expects each caught, the right entry named."""

import numpy as np

import tinygraph as tg


class SquareMissingTwo(tg.Node):
    """Z = A^2;  dL/dA = dL/dZ * 2 A"""

    def forward(self, A):
        self.save_for_backward(A)
        return A * A

    def local_grads(self, dZ):
        (A,) = self.saved
        return (dZ * A,)  # the factor 2 forgotten


class SubSignError(tg.Node):
    """Z = A - B;  dL/dA = dL/dZ,  dL/dB = -dL/dZ"""

    def forward(self, A, B):
        return A - B

    def local_grads(self, dZ):
        return dZ, dZ  # B's minus sign forgotten


class MSEForgotOneOverN(tg.Node):
    """L = 1/n sum((Yhat - Y)^2);  dL/dYhat = dL/dL * 2 (Yhat - Y) / n"""

    shapes = {"Yhat": "...", "Y": "..."}
    constant_inputs = ("Y",)

    def forward(self, Yhat, Y):
        self.save_for_backward(Yhat, Y)
        return np.mean((Yhat - Y) ** 2)

    def local_grads(self, dL):
        Yhat, Y = self.saved
        return dL * 2 * (Yhat - Y), None  # the 1/n of the mean forgotten


class SoftmaxWrongAxis(tg.Node):
    """S = softmax(A) down each column;  dL/dA = S * (dL/dS - sum_rows(dL/dS * S))"""

    shapes = {"A": "k n"}

    def forward(self, A):
        E = np.exp(A - A.max(axis=0, keepdims=True))
        S = E / E.sum(axis=0, keepdims=True)
        self.save_for_backward(S)
        return S

    def local_grads(self, dS):
        (S,) = self.saved
        return (S * (dS - (dS * S).sum(axis=1, keepdims=True)),)  # summed along rows, not down columns


class MatMulMissingTranspose(tg.Node):
    """Z = W A;  dL/dW = dL/dZ A^T,  dL/dA = W^T dL/dZ"""

    shapes = {"W": "m k", "A": "k n"}

    def forward(self, W, A):
        self.save_for_backward(W, A)
        return W @ A

    def local_grads(self, dZ):
        W, A = self.saved
        return dZ @ A, W.T @ dZ  # A^T written as A


class AddBiasWrongShape(tg.Node):
    """Z = A + b, b a column (nh x 1);  dL/dA = dL/dZ,  dL/db = sum over the columns of dL/dZ"""

    shapes = {"A": "nh n", "b": "nh 1"}

    def forward(self, A, b):
        return A + b

    def local_grads(self, dZ):
        return dZ, dZ.sum(axis=0, keepdims=True)  # summed down the columns: 1 x n, not nh x 1


class ReLUKinkNotDeclared(tg.Node):
    """A = max(0, Z);  dL/dZ = dL/dA * (1 where Z > 0, else 0)"""

    def forward(self, Z):
        self.save_for_backward(Z)
        return np.maximum(Z, 0.0)

    def local_grads(self, dA):
        (Z,) = self.saved
        return (dA * (Z > 0),)  # right, but avoid = {"Z": [0.0]} is missing
