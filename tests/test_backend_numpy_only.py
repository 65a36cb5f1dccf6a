"""With numpy data, nothing reaches for array-api-compat: a plain install has none."""

import sys

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.backend import is_foreign_array, to_numpy


@pytest.fixture
def without_array_api_compat(monkeypatch):
    monkeypatch.setitem(sys.modules, "array_api_compat", None)  # makes `import array_api_compat` fail


def test_to_numpy_takes_a_numpy_scalar_without_array_api_compat(without_array_api_compat):
    assert to_numpy(np.float64(0.5)) == np.asarray(0.5)


def test_a_loss_value_converts_without_array_api_compat(without_array_api_compat):
    L = tg.binary_cross_entropy(tg.sigmoid(tg.Tensor([[0.3, -0.2]])), np.array([[1.0, 0.0]]))
    assert to_numpy(L.data).shape == ()


def test_numpy_values_are_not_foreign_without_array_api_compat(without_array_api_compat):
    assert not is_foreign_array(np.zeros(3)) and not is_foreign_array(np.float32(1.0))
