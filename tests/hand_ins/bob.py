"""Bob's nodes: one right, two wrong."""

import numpy as np

import tinygraph as tg


class Sigmoid(tg.Node):
    """Yhat = 1 / (1 + exp(-Z));  dL/dZ = dL/dYhat * Yhat (1 - Yhat)"""

    def forward(self, Z):
        Yhat = 1 / (1 + np.exp(-Z))
        self.save_for_backward(Yhat)
        return Yhat

    def local_grads(self, dYhat):
        (Yhat,) = self.saved
        return (dYhat * Yhat * (1 - Yhat),)


class Square(tg.Node):
    """Z = A^2;  dL/dA = dL/dZ * 2 A"""

    def forward(self, A):
        self.save_for_backward(A)
        return A**2

    def local_grads(self, dZ):
        (A,) = self.saved
        return (dZ * A,)


class ReLU(tg.Node):
    """A = max(0, Z);  dL/dZ = dL/dA * (1 where Z > 0, else 0)"""

    def forward(self, Z):
        self.save_for_backward(Z)
        return np.maximum(0, Z)

    def local_grads(self, dA):
        (Z,) = self.saved
        return (dA * (Z > 0),)
