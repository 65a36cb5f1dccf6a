"""The README and every page of docs/ run as written, so they never rot.

Each document's code blocks run in order, in a scratch folder of their own that
links to the repository's top-level files and folders (so `tests/...` and
`benchmarks/...` are found, while what the blocks write, such as runs/ and data/,
lands in the scratch folder):

    ```python   executed, in one namespace per document
    ```bash     run by bash -e -o pipefail, with `tinygraph` this checkout's command line;
                it must exit 0, or with the code that an `<!-- exit-code: N -->` line
                just above the block names
    ```console  shown, not run: installing, the test suite itself, minutes-long benchmarks
    ```text     output, shown

A fence of any other language (or none) fails the test, so that no block is left
out unnoticed. A new page in docs/ is picked up without changing this file.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUN, SHOWN = {"python", "bash"}, {"console", "text"}
WRITTEN = {"runs", "data", "out"}  # folders the documents write to: each scratch folder has its own
FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
EXIT_CODE = re.compile(r"^\s*<!--\s*exit-code:\s*(\d+)\s*-->\s*$")


@dataclass
class Block:
    language: str
    source: str
    line: int  # of the opening fence, counted from 1
    exit_code: int = 0


def blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown file, in order."""
    found, lines = [], path.read_text().splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if FENCE.match(lines[j]) and not FENCE.match(lines[j])[2])
        marker = EXIT_CODE.match(lines[i - 1]) if i > 0 else None
        source = textwrap.dedent("\n".join(lines[i + 1 : end])) + "\n"
        found.append(Block(opening[2], source, i + 1, int(marker[1]) if marker else 0))
        i = end + 1
    return found


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """A folder that sees the repository's files, with a `tinygraph` command on the PATH."""
    for entry in ROOT.iterdir():
        if not entry.name.startswith(".") and entry.name not in WRITTEN:
            (tmp_path / entry.name).symlink_to(entry)
    bin_dir = tmp_path / ".bin"
    bin_dir.mkdir()
    command = bin_dir / "tinygraph"
    command.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m tinygraph.models.cli "$@"\n')
    command.chmod(0o755)
    monkeypatch.setenv("PATH", os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), os.environ["PATH"]]))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("document", DOCUMENTS, ids=[p.relative_to(ROOT).as_posix() for p in DOCUMENTS])
def test_every_code_block_of_the_document_runs(document, scratch):
    namespace = {"__name__": "docs_example"}
    for block in blocks(document):
        where = f"{document.relative_to(ROOT)}:{block.line}"
        assert block.language in RUN | SHOWN, f"{where}: a ```{block.language} block; fence it as one of {RUN | SHOWN}"
        if block.language == "python":
            exec(compile(block.source, where, "exec"), namespace)
        elif block.language == "bash":
            done = subprocess.run(
                ["bash", "-e", "-o", "pipefail", "-c", block.source],
                capture_output=True, text=True, timeout=600, check=False,
            )  # fmt: skip
            output = (done.stdout + done.stderr)[-3000:]
            assert done.returncode == block.exit_code, f"{where} exited with {done.returncode}:\n{output}"


def test_the_readme_links_every_page_of_docs():
    readme = (ROOT / "README.md").read_text()
    unlinked = [page.name for page in DOCUMENTS[1:] if f"docs/{page.name}" not in readme]
    assert not unlinked, f"README.md does not link {unlinked}"


def test_blocks_are_found_with_their_language_line_and_expected_exit_code(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("text\n\n```python\nx = 1\n```\n\n<!-- exit-code: 1 -->\n```bash\nfalse\n```\n\n  ```text\n  out\n  ```\n")
    assert blocks(page) == [
        Block("python", "x = 1\n", 3), Block("bash", "false\n", 8, exit_code=1), Block("text", "out\n", 12)
    ]  # fmt: skip
