"""Elementwise operations: arithmetic and activation functions.

Binary operations broadcast as numpy does (the notebook adds b1, nh x 1, to
W1 X, nh x n); Node sums each gradient back to its input's own shape.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

from tinygraph.backend import astype
from tinygraph.errors import DTypeError
from tinygraph.node import Node
from tinygraph.tensor import Tensor


class Broadcasting(Node):
    """A binary elementwise operation; its inputs broadcast against each other."""

    def shape_error(self, a: tuple[int, ...], b: tuple[int, ...]) -> str:
        return f"cannot broadcast {a} with {b}"


class Add(Broadcasting):
    """Z = A + B;  dL/dA = dL/dZ,  dL/dB = dL/dZ"""

    def forward(self, A, B):
        return A + B

    def local_grads(self, dZ):
        return dZ, dZ


class Sub(Broadcasting):
    """Z = A - B;  dL/dA = dL/dZ,  dL/dB = -dL/dZ"""

    def forward(self, A, B):
        return A - B

    def local_grads(self, dZ):
        return dZ, (-dZ if self.needs_grad[1] else None)


class Mul(Broadcasting):
    """Z = A * B (elementwise);  dL/dA = dL/dZ * B,  dL/dB = dL/dZ * A"""

    def forward(self, A, B):
        self.save_for_backward(A, B)
        return A * B

    def local_grads(self, dZ):
        A, B = self.saved
        return (dZ * B if self.needs_grad[0] else None, dZ * A if self.needs_grad[1] else None)


class Div(Broadcasting):
    """Z = A / B;  dL/dA = dL/dZ / B,  dL/dB = -dL/dZ * A / B^2"""

    avoid = {"B": [0.0]}

    def forward(self, A, B):
        self.save_for_backward(A, B)
        return A / B

    def local_grads(self, dZ):
        A, B = self.saved
        dA = dZ / B
        return (dA if self.needs_grad[0] else None, -dA * A / B if self.needs_grad[1] else None)


class Neg(Node):
    """Z = -A;  dL/dA = -dL/dZ"""

    def forward(self, A):
        return -A

    def local_grads(self, dZ):
        return (-dZ,)


class Pow(Node):
    """Z = A^p for a constant number p;  dL/dA = dL/dZ * p A^(p-1)"""

    domain = {"A": (0.2, 3.0)}  # a real power of a negative base is NaN
    check_with = ({"exponent": 3}, {"exponent": -1.5}, {"exponent": 0.5})

    def __init__(self, exponent: float):
        if not isinstance(exponent, Real):
            raise DTypeError(f"Pow: the exponent must be a Python number, not {type(exponent).__name__}")
        # A numpy scalar exponent (np.float64(2)) would turn a float32 A into float64.
        self.exponent = int(exponent) if isinstance(exponent, Integral) else float(exponent)

    def constants(self) -> dict[str, float]:
        return {"p": self.exponent}

    def forward(self, A):
        self.save_for_backward(A)
        return A**self.exponent

    def local_grads(self, dZ):
        (A,) = self.saved
        p = self.exponent
        return (dZ * p * A ** (p - 1),)


class Exp(Node):
    """Z = exp(A);  dL/dA = dL/dZ * exp(A) = dL/dZ * Z"""

    def forward(self, A):
        Z = self.xp.exp(A)
        self.save_for_backward(Z)
        return Z

    def local_grads(self, dZ):
        (Z,) = self.saved
        return (dZ * Z,)


class Log(Node):
    """Z = log(A) (natural logarithm);  dL/dA = dL/dZ / A"""

    domain = {"A": (0.05, 5.0)}

    def forward(self, A):
        self.save_for_backward(A)
        return self.xp.log(A)

    def local_grads(self, dZ):
        (A,) = self.saved
        return (dZ / A,)


class ReLU(Node):
    """A = relu(Z) = max(0, Z);  dL/dZ = dL/dA * drelu(Z),  drelu(Z) = 1 where Z > 0, else 0"""

    avoid = {"Z": [0.0]}

    def forward(self, Z):
        self.save_for_backward(Z)
        return self.xp.maximum(Z, 0.0)

    def local_grads(self, dA):
        (Z,) = self.saved
        # The notebook's np.where(Z > 0, 1.0, 0.0), in Z's dtype: the standard multiplies
        # no booleans by floats, and float by float is also numpy's fastest product.
        drelu = astype(Z > 0, Z.dtype, self.xp)
        return (dA * drelu,)


class LeakyReLU(Node):
    """A = Z where Z > 0, else slope * Z;  dL/dZ = dL/dA * (1 where Z > 0, else slope)"""

    avoid = {"Z": [0.0]}
    check_with = ({}, {"slope": 0.2})

    def __init__(self, slope: float = 0.01):
        self.slope = float(slope)  # a Python float keeps Z's dtype; np.float64 would not

    def constants(self) -> dict[str, float]:
        return {"slope": self.slope}

    def forward(self, Z):
        positive = Z > 0
        self.save_for_backward(positive)
        return self.xp.where(positive, Z, self.slope * Z)

    def local_grads(self, dA):
        (positive,) = self.saved
        return (self.xp.where(positive, dA, self.slope * dA),)


class Sigmoid(Node):
    """Yhat = sigmoid(Z) = 1 / (1 + exp(-Z));  dL/dZ = dL/dYhat * dsigmoid(Z) = dL/dYhat * Yhat (1 - Yhat)"""

    def forward(self, Z):
        Yhat = stable_sigmoid(Z, self.xp)
        self.save_for_backward(Yhat)
        return Yhat

    def local_grads(self, dYhat):
        (Yhat,) = self.saved
        return (dYhat * Yhat * (1 - Yhat),)


def stable_sigmoid(Z: Any, xp: Any) -> Any:
    """sigmoid(Z) as an array, without overflow for any Z.

    1 / (1 + exp(-Z)) for Z >= 0 and exp(Z) / (1 + exp(Z)) for Z < 0, in one division:
    no exponent is positive, so nothing overflows, and each side keeps full precision.
    """
    return xp.exp(xp.minimum(Z, 0.0)) / (1 + xp.exp(-xp.abs(Z)))


class Tanh(Node):
    """A = tanh(Z);  dL/dZ = dL/dA * (1 - A^2)"""

    def forward(self, Z):
        A = self.xp.tanh(Z)
        self.save_for_backward(A)
        return A

    def local_grads(self, dA):
        (A,) = self.saved
        return (dA * (1 - A * A),)


def exp(A: Any) -> Tensor:
    return Exp.apply(A)


def log(A: Any) -> Tensor:
    return Log.apply(A)


def relu(Z: Any) -> Tensor:
    return ReLU.apply(Z)


def leaky_relu(Z: Any, slope: float = 0.01) -> Tensor:
    return LeakyReLU.apply(Z, slope=slope)


def sigmoid(Z: Any) -> Tensor:
    return Sigmoid.apply(Z)


def tanh(Z: Any) -> Tensor:
    return Tanh.apply(Z)
