"""Dave's nodes: one right, one that never finishes, one that asks for 75 GB."""

import numpy as np

import tinygraph as tg


class Neg(tg.Node):
    """Z = -A;  dL/dA = -dL/dZ"""

    def forward(self, A):
        return -A

    def local_grads(self, dZ):
        return (-dZ,)


class Cube(tg.Node):
    """Z = A^3;  dL/dA = dL/dZ * 3 A^2"""

    def forward(self, A):
        self.save_for_backward(A)
        return A**3

    def local_grads(self, dZ):
        (A,) = self.saved
        power = 3
        while power > 2: power += 1  # noqa: E701  (meant -= 1; on one line, so that the time limit names it)
        return (dZ * 3 * A**power,)


class Outer(tg.Node):
    """Z = A A^T;  dL/dA = (dL/dZ + dL/dZ^T) A"""

    def forward(self, A):
        self.save_for_backward(A)
        return np.ones((100_000, 100_000)) @ A
