"""docs/reading-the-pictures.md's Python examples run as written, from the repository root."""

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parent.parent / "docs" / "reading-the-pictures.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.S)


@pytest.mark.parametrize("source", EXAMPLES, ids=[f"example{i}" for i in range(len(EXAMPLES))])
def test_pictures_page_example_runs(source):
    exec(compile(source, str(PAGE), "exec"), {"__name__": "docs_example"})


def test_pictures_page_has_an_example_for_each_section():
    assert len(EXAMPLES) == 5
