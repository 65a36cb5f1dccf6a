"""How tinygraph installs: the engine and the models as one package, tinygraph.models, one way round."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    """Every module that the Python file at `path` imports, by its full name."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_no_module_of_the_engine_imports_the_models():
    offenders = {
        path.relative_to(ROOT).as_posix(): sorted(name for name in imported_modules(path) if "models" in name.split("."))
        for path in (ROOT / "tinygraph").rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_installed_package_claims_tinygraph_models_and_not_a_top_level_models(tmp_path):
    # Run from a folder of the user's own, where the repository's models/ is not on sys.path.
    code = "import importlib.util as u, tinygraph.models.cli; print(u.find_spec('models') is None)"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


def test_a_students_own_models_package_is_not_shadowed(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "__init__.py").write_text("OWN = 'the student'\n")
    code = "import models, tinygraph.models.classifier; print(models.OWN)"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "the student"
