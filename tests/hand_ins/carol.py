"""Carol's nodes: the file does not parse."""

import numpy as np

import tinygraph as tg


class Exp(tg.Node):
    """Z = exp(A);  dL/dA = dL/dZ * Z"""

    def forward(self, A)
        return np.exp(A)
