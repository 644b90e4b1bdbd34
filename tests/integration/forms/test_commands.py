"""`giupho form upload|publish|close|versions`: an operator loads forms without the API."""

from __future__ import annotations

from pathlib import Path

import pytest

from forms.library import VISIT_FORM_ID, VISIT_XLSX
from server.cli import main

BROKEN = """\
| survey |          |        |                         |
|        | type     | name   | label                   |
|        | integer  | age    | Age                     |
|        | calculate| twice  |                         |
"""


@pytest.fixture
def giupho(runner):
    def run(*args: str, code: int = 0):
        result = runner.invoke(main, [*args, "--lang", "en"])
        assert result.exit_code == code, (args, result.output)
        return result.output

    return run


def test_an_operator_uploads_publishes_lists_and_closes_a_form(giupho):
    said = giupho("form", "upload", str(VISIT_XLSX))
    assert "uploaded; it is draft" in said
    version = said.split("version ")[1].split()[0]
    assert "was already here" in giupho("form", "upload", str(VISIT_XLSX))
    assert "is now published" in giupho("form", "publish", VISIT_FORM_ID, version)
    listed = giupho("form", "versions", VISIT_FORM_ID)
    assert VISIT_FORM_ID in listed and version in listed and "published" in listed
    assert "is now closed" in giupho("form", "close", VISIT_FORM_ID, version)


def test_a_broken_form_is_refused_with_each_problem_and_its_row(giupho, tmp_path: Path):
    path = tmp_path / "broken.md"
    path.write_text(BROKEN, encoding="utf-8")
    said = giupho("form", "upload", str(path), code=1)
    # the sheet and row of the calculate without a calculation, and what to do
    assert "sheet 'survey', row 3" in said and "Missing calculation" in said
    assert "Fix them in the file and upload it again" in said
    assert "nothing" not in giupho("form", "versions")


def test_publishing_a_version_that_is_not_there_says_so(giupho):
    said = giupho("form", "publish", "no_such_form", "1", code=1)
    assert "no_such_form" in said
