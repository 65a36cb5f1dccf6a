"""Alice's nodes: all of them right."""

import numpy as np

import tinygraph as tg


class Tanh(tg.Node):
    """A = tanh(Z);  dL/dZ = dL/dA * (1 - A^2)"""

    def forward(self, Z):
        A = np.tanh(Z)
        self.save_for_backward(A)
        return A

    def local_grads(self, dA):
        (A,) = self.saved
        return (dA * (1 - A**2),)


class LeakyReLU(tg.Node):
    """A = Z where Z > 0, else slope Z;  dL/dZ = dL/dA * (1 where Z > 0, else slope)"""

    avoid = {"Z": [0.0]}  # the kink
    check_with = ({"slope": 0.01}, {"slope": 0.2})

    def __init__(self, slope):
        self.slope = slope

    def forward(self, Z):
        self.save_for_backward(Z)
        return np.where(Z > 0, Z, self.slope * Z)

    def local_grads(self, dA):
        (Z,) = self.saved
        return (dA * np.where(Z > 0, 1.0, self.slope),)


class BinaryCrossEntropy(tg.Node):
    """L = -1/n sum(Y log(Yhat) + (1 - Y) log(1 - Yhat));  dL/dYhat = dL/dL (Yhat - Y) / (n Yhat (1 - Yhat))"""

    domain = {"Yhat": (0.01, 0.99)}  # probabilities, away from 0 and 1
    labels = {"Y": [0.0, 1.0]}  # drawn from these values; no gradient checked toward Y
    shapes = {"Yhat": "1 n", "Y": "1 n"}  # the notebook's row of n predictions

    def forward(self, Yhat, Y):
        self.save_for_backward(Yhat, Y)
        return -np.mean(Y * np.log(Yhat) + (1 - Y) * np.log(1 - Yhat))

    def local_grads(self, dL):
        Yhat, Y = self.saved
        return dL * (Yhat - Y) / (Y.size * Yhat * (1 - Yhat)), None


class Dense(tg.Node):
    """Z = W X + b;  dL/dW = dL/dZ X^T,  dL/db = dL/dZ summed over the n columns"""

    shapes = {"W": "nh nx", "X": "nx n", "b": "nh 1"}
    constant_inputs = ("X",)  # the data: no gradient

    def forward(self, W, X, b):
        self.save_for_backward(X)
        return W @ X + b

    def local_grads(self, dZ):
        (X,) = self.saved
        return dZ @ X.T, None, dZ.sum(axis=1, keepdims=True)
