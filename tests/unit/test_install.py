"""`make run` installs what serving needs and nothing more: the test tools (pytest,
Playwright, hypothesis, ruff) come only with the `test` extra that `make test` adds."""

from __future__ import annotations

import importlib.metadata as metadata
import re
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
TEST_TOOLS = {"pytest", "pytest-xdist", "playwright", "hypothesis", "ruff", "pexpect"}


def _serving_closure() -> set[str]:
    """Every distribution `pip install giupho` (no extras) brings in, read from the metadata."""
    seen: set[str] = set()
    todo = ["giupho"]
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        for line in metadata.requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                continue
            todo.append(requirement.name)
    return seen


def test_serving_installs_no_test_tool():
    closure = _serving_closure()
    assert {"flask", "sqlalchemy", "pyxform"} <= closure  # the walk reads real metadata
    assert closure & TEST_TOOLS == set()


def test_make_run_installs_the_package_without_extras():
    makefile = (ROOT / "Makefile").read_text()
    serve = re.search(r"^\$\(SERVE\):.*?(?=^\S)", makefile, re.S | re.M).group(0)
    assert re.search(r"pip install .*-e \.$", serve, re.M), serve
    assert re.search(r"^run: \$\(SERVE\)$", makefile, re.M)
