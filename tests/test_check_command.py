"""`tinygraph check` as a lecturer runs it: the commands of docs/check.md, their table, exit code and files.

The lecturer's run is made once, in a copy of tests/hand_ins, exactly as
docs/check.md writes it; the tests below read its output, its JSON and JUnit
files, and what else it left in the folder (nothing). tests/test_docs.py runs
the page's other blocks.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "check.md").read_text()
BASH = re.findall(r"```bash\n(.*?)```", DOC, flags=re.S)
TABLE = re.findall(r"```text\n(.*?)```", DOC, flags=re.S)[0]


def shell(command: str, cwd: Path, tmp: Path, **env: str) -> subprocess.CompletedProcess:
    """`command` run by bash in `cwd`, with `tinygraph` on the PATH as the installed script would be."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "tinygraph"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m tinygraph.models.cli "$@"\n')
    script.chmod(0o755)
    environment = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=environment, capture_output=True, text=True)


def files_below(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def lecturer(tmp_path_factory):
    """The documented run over a copy of the hand-ins: (result, folder, files before, files after)."""
    folder = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "tests" / "hand_ins", folder / "tests" / "hand_ins")
    before = files_below(folder)
    result = shell(BASH[0], folder, tmp_path_factory.mktemp("shim"))
    return result, folder, before, files_below(folder)


def test_the_documented_run_prints_the_documented_table(lecturer):
    result, *_ = lecturer
    assert result.stdout == TABLE, result.stderr


def test_the_run_exits_1_when_some_node_does_not_pass(lecturer):
    assert lecturer[0].returncode == 1


def test_the_run_writes_only_the_files_asked_for(lecturer):
    _, folder, before, after = lecturer
    assert after - before == {"report.json", "report.xml"}  # no __pycache__, no .hypothesis


def test_the_json_report_names_each_node_its_status_and_the_failing_entry(lecturer):
    report = json.loads((lecturer[1] / "report.json").read_text())
    files = {Path(f["file"]).name: f for f in report["files"]}
    assert report["passed"] is False and list(files) == ["alice.py", "bob.py", "carol.py", "dave.py"]
    assert [(n["node"], n["status"]) for n in files["bob.py"]["nodes"]] == [
        ("Sigmoid", "passed"), ("Square", "failed"), ("ReLU", "failed")
    ]  # fmt: skip
    square = files["bob.py"]["nodes"][1]["counterexample"]
    assert (square["input"], square["entry"], square["value"]) == ("A", [], 1.0)
    assert square["analytic"] == pytest.approx(square["numeric"] / 2)
    assert files["carol.py"]["import_error"]["line"] == 11
    assert files["dave.py"]["nodes"][1]["error"]["kind"] == "TimeoutError"


def test_the_junit_report_has_a_suite_per_file_and_a_case_per_node(lecturer):
    suites = ET.parse(lecturer[1] / "report.xml").getroot()
    counts = {Path(s.get("name")).name: (s.get("tests"), s.get("failures"), s.get("errors")) for s in suites}
    assert counts == {"alice.py": ("4", "0", "0"), "bob.py": ("3", "2", "0"), "carol.py": ("1", "0", "1"),
                      "dave.py": ("3", "0", "2")}  # fmt: skip
    square = suites.find("testsuite/testcase[@name='Square']/failure")
    assert square.get("message") == "dL/dA at A = 1: analytic 0.12573, numeric 0.25146"
    assert "formula: dL/dA = dL/dZ * 2 A" in square.text


def test_a_run_where_every_node_passes_exits_0(tmp_path):
    result = shell("tinygraph check tests/hand_ins/alice.py --examples 10", ROOT, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.endswith("1 file, 4 nodes: 4 passed, 0 failed, 0 errored\n")


def test_a_module_path_is_checked_as_its_file_would_be(tmp_path):
    result = shell("tinygraph check tinygraph.matrix --examples 10", ROOT, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\n  tinygraph.matrix: (\d+) passed, 0 failed, 0 errored\n1 file, \1 nodes: ", result.stdout)


def test_a_path_that_does_not_exist_ends_with_one_line_and_exit_code_2(tmp_path):
    result = shell("tinygraph check tests/hand_ins/alice.py tests/hand_ins/nobody.py", ROOT, tmp_path)
    assert result.returncode == 2
    assert result.stderr == "tinygraph: error: tests/hand_ins/nobody.py: no such file, folder or module\n"
    assert result.stdout == ""


def test_a_report_path_in_a_missing_folder_is_refused_before_anything_runs(tmp_path):
    result = shell("tinygraph check tests/hand_ins/alice.py --json nowhere/report.json", ROOT, tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "tinygraph: error: nowhere/report.json: no such folder for the report\n"


def test_without_hypothesis_the_command_says_how_to_install_it(tmp_path):
    (tmp_path / "hypothesis.py").write_text("raise ImportError('not installed')\n")
    result = shell("tinygraph check tests/hand_ins/alice.py", ROOT, tmp_path, PYTHONPATH=f"{tmp_path}:{ROOT}")
    assert result.returncode == 2
    assert result.stderr == "tinygraph: error: tinygraph check needs hypothesis: pip install hypothesis\n"



def test_a_node_that_ends_its_process_is_errored_and_the_file_s_next_nodes_are_still_checked(tmp_path):
    (tmp_path / "vanishes.py").write_text('''import os
import tinygraph as tg


class Vanishes(tg.Node):
    def forward(self, A):
        os._exit(0)


class Neg(tg.Node):
    def forward(self, A):
        return -A

    def local_grads(self, dZ):
        return (-dZ,)
''')
    result = shell(f"tinygraph check {tmp_path / 'vanishes.py'} --examples 10", ROOT, tmp_path)
    assert "  errored  Vanishes   ProcessDied: the process ended while checking it\n" in result.stdout
    assert "  passed   Neg " in result.stdout and result.returncode == 1


def test_a_file_without_nodes_does_not_pass(tmp_path):
    (tmp_path / "empty.py").write_text("X = 1\n")
    result = shell(f"tinygraph check {tmp_path / 'empty.py'}", ROOT, tmp_path)
    assert "  empty.py: no Node subclass with a forward method defined here\n" in result.stdout
    assert result.returncode == 1


def test_a_node_that_waits_without_computing_is_stopped_after_four_times_the_limit(tmp_path):
    (tmp_path / "sleeps.py").write_text('''import time
import tinygraph as tg


class Sleeps(tg.Node):
    def forward(self, A):
        time.sleep(600)
''')
    result = shell(f"tinygraph check {tmp_path / 'sleeps.py'} --timeout 0.5", ROOT, tmp_path)
    stopped = "  errored  Sleeps   TimeoutError: checking it waited 2 s without computing (the time limit)\n"
    assert stopped in result.stdout
