"""The memory estimate is checked against what training really allocates, and refusals name the option."""

import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.models.mlp import MLP
from tinygraph.models.optimizers import OPTIMIZERS
from tinygraph.models.resources import ResourceError, check_fits, memory_errors, size_text, training_bytes
from tinygraph.models.train import train


@pytest.mark.parametrize(
    "sizes, n, batch_size, optimizer",
    [
        ([2, 128, 128, 1], 1000, None, "adam"),  # activations of the whole batch dominate
        ([10, 256, 1], 2000, None, "sgd"),
        ([2, 64, 64, 3], 2000, 64, "momentum"),  # mini-batches: the final evaluation dominates
        ([300, 400, 10], 100, 32, "adam"),  # parameters and Adam's state dominate
        ([300, 400, 10], 100, 32, "rmsprop"),
    ],
)
def test_the_estimate_covers_the_measured_peak_without_doubling_it(sizes, n, batch_size, optimizer):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(sizes[0], n))
    Y = rng.integers(0, max(sizes[-1], 2), size=(1, n)).astype(float)
    tracemalloc.start()
    try:
        model = MLP(sizes)
        train(model, X, Y, X[:, : n // 4], Y[:, : n // 4], optimizer=OPTIMIZERS[optimizer](model.parameters()),
              iterations=3, batch_size=batch_size)  # fmt: skip
        with tg.no_grad():  # the final evaluation, as the command line does it
            model.loss(X, Y)
            model.predict(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    estimate = training_bytes(sizes, n, batch_size, itemsize=8, optimizer=optimizer)
    assert peak <= estimate <= 2 * peak


def test_a_need_above_what_is_available_is_refused_naming_the_option_and_the_figures():
    with pytest.raises(ResourceError) as error:
        check_fits(3 * 1024**3, "--hidden 1000000", available=1024**3)
    assert str(error.value) == "--hidden 1000000: needs about 3.0 GiB of memory, but 1.0 GiB is available"


def test_a_need_within_what_is_available_passes():
    check_fits(1024**2, "--hidden 50", available=1024**3)


def test_a_memory_error_becomes_one_line_naming_the_option():
    with pytest.raises(ResourceError) as error, memory_errors("--layers 100000,100000"):
        np.empty((10**7, 10**7))  # 728 TiB: numpy refuses at once
    assert str(error.value).startswith("--layers 100000,100000: not enough memory (Unable to allocate 728. TiB")


def test_sizes_read_as_people_read_them():
    assert [size_text(n) for n in (512, 1536, 3 * 1024**3)] == ["512 bytes", "1.5 KiB", "3.0 GiB"]


def test_what_ulimit_v_leaves_counts_as_available():
    limit = 2 * 1024**3
    code = "from tinygraph.models.resources import available_bytes; print(available_bytes())"
    result = subprocess.run(
        ["bash", "-c", f"ulimit -v {limit // 1024} && exec {sys.executable} -c '{code}'"],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent,
    )  # fmt: skip
    assert 0 < int(result.stdout) < limit
