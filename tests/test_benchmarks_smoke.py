"""The benchmark suite runs end to end in --quick mode (a smoke test: no time is asserted)."""

import json

import numpy as np
import pytest

import tinygraph as tg
from benchmarks.measure import flat_memory
from benchmarks.run import main


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "figures.json"
    main(["--quick", "--no-csv", "--json", str(path)])
    return json.loads(path.read_text())


def test_quick_run_writes_the_figures_it_returns(report, tmp_path):
    path = tmp_path / "again.json"
    returned = main(["--quick", "--no-csv", "--only", "tiny", "--json", str(path)])
    assert json.loads(path.read_text())["results"] == json.loads(json.dumps(returned["results"]))


def test_every_workload_is_timed_in_both_dtypes(report):
    pairs = {(r["workload"], r["dtype"]) for r in report["results"]}
    assert pairs == {(w, d) for w in ("lecture", "mid", "tiny", "tiny2", "deep") for d in ("float64", "float32")}


def test_each_result_has_times_ratios_memory_and_the_flat_check(report):
    for r in report["results"]:
        assert {"numpy", "tinygraph"} <= set(r["time"]) and r["ratio_to_numpy"]["numpy"] == 1.0
        assert {"median_s", "q1_s", "q3_s", "min_s"} <= set(r["time"]["tinygraph"])
        assert set(r["peak_mib"]) == {"numpy", "tinygraph"}
        assert {"flat", "new_live_objects", "objects_in_cycles", "rss_mib_at_checkpoints"} <= set(r["flat_memory"])


def test_all_implementations_compute_the_same_losses(report):
    for r in report["results"]:
        assert all(r["losses_agree_with_numpy"].values()), (r["workload"], r["dtype"], r["losses_agree_with_numpy"])


def test_tinygraph_keeps_no_graph_alive_and_makes_no_reference_cycles(report):
    for r in report["results"]:
        flat = r["flat_memory"]
        assert flat["new_live_objects"] <= 0 and flat["objects_in_cycles"] == 0, (r["workload"], flat)


def test_the_machine_is_recorded(report):
    machine = report["machine"]
    assert {"cpu", "logical_cores", "blas", "OPENBLAS_CORETYPE", "pytorch"} <= set(machine)


def test_the_flat_memory_check_catches_a_node_that_refers_to_itself():
    class SelfReferring(tg.Node):
        def forward(self, A):
            self.me = self  # a cycle: only the garbage collector can free this node
            return A

    def step():
        SelfReferring.apply(tg.Tensor(np.ones(3), requires_grad=True))

    flat = flat_memory(step, 50, (tg.Tensor, tg.Node))
    assert not flat["flat"] and flat["objects_in_cycles"] > 0 and flat["new_live_objects"] > 0
