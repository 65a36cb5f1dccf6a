"""docs/tune.md's examples run as written, in order, in a fresh folder (the shell ones through bash)."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "tune.md"
BLOCKS = re.findall(r"```(bash|python)\n(.*?)```", PAGE.read_text(), flags=re.S)


def test_the_tune_page_examples_run_in_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),  # `python` is this one
    }
    for language, source in BLOCKS:
        if language == "python":
            exec(compile(source, str(PAGE), "exec"), {"__name__": "docs_example"})
        else:
            done = subprocess.run(["bash", "-ec", source], env=env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, f"{source}\n{done.stderr[-2000:]}"
    assert (tmp_path / "runs" / "tune" / "xor-demo" / "best" / "params.npz").is_file()


def test_the_tune_page_has_shell_and_python_examples():
    assert {language for language, _ in BLOCKS} == {"bash", "python"}
