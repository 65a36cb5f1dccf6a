"""benchmarks/bench_csv.py runs end to end in its quick mode and finds that the three loaders agree."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_benchmark_writes_a_report_in_which_the_loaders_agree(tmp_path):
    report = tmp_path / "bench.json"
    command = [sys.executable, "-m", "benchmarks.bench_csv", "--quick", "--repeats", "1", "--json", str(report)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    figures = json.loads(report.read_text())
    assert figures["same_numbers"]
    assert set(figures["results"]) == {"tinygraph", "pandas", "numpy"}
    assert figures["results"]["tinygraph"]["shape"] == [12289, 50]
