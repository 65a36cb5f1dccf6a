"""benchmarks/bench_cnn.py runs end to end in its quick mode: three implementations, the same losses, figures."""

import importlib.util
import json

from benchmarks.bench_cnn import main

# PyTorch joins the comparison where it is installed, as its reference.
EXPECTED = {"tinygraph", "numpy"} | ({"pytorch"} if importlib.util.find_spec("torch") else set())


def test_quick_cnn_benchmark_reports_times_memory_and_the_same_losses(tmp_path):
    path = tmp_path / "cnn.json"
    assert main(["--quick", "--repeats", "1", "--json", str(path)]) == 0
    figures = json.loads(path.read_text())
    assert figures["losses_agree"], figures["max_loss_difference_from_numpy"]
    assert set(figures["median_s"]) == set(figures["memory"]) == EXPECTED
    assert all(m["peak_mib"] > 0 for m in figures["memory"].values())
    assert figures["batches_per_epoch"] == 3  # 80 images in batches of 32: two full ones and one of 16
