"""`giupho form validate FORM SUBMISSION.xml [--json] [--lang vi|en]`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from forms.cli import form as form_group

FORM = """
| survey |
|        | type      | name    | label   | required | constraint |  calculation   |
|        | text      | village | Village | yes      |            |                |
|        | integer   | rooms   | Rooms   |          | . >= 1     |                |
|        | calculate | double  |         |          |            | ${rooms} * 2   |
"""


@pytest.fixture()
def files(tmp_path):
    form_path = tmp_path / "rooms.md"
    form_path.write_text(FORM, encoding="utf-8")

    def submission(body: str) -> str:
        path = tmp_path / "submission.xml"
        path.write_text(
            f'<data id="rooms">{body}<meta><instanceID>uuid:1</instanceID></meta></data>',
            encoding="utf-8",
        )
        return str(path)

    return str(form_path), submission


def run(*args: str):
    return CliRunner().invoke(form_group, ["validate", *args])


def test_a_valid_submission_prints_computed_values_and_exits_0(files):
    form_path, submission = files
    result = run(form_path, submission("<village>Bản Phố</village><rooms>3</rooms><double/>"))
    assert result.exit_code == 0, result.output
    assert "0 lỗi" in result.output
    assert "/data/double = 6" in result.output


def test_errors_exit_1_with_messages_in_the_chosen_language(files):
    form_path, submission = files
    path = submission("<village/><rooms>0</rooms>")
    vi = run(form_path, path)
    assert vi.exit_code == 1
    assert "2 lỗi" in vi.output
    assert "/data/village  [required] Câu hỏi này bắt buộc phải trả lời." in vi.output
    en = run(form_path, path, "--lang", "en")
    assert en.exit_code == 1
    assert "2 error(s)" in en.output
    assert "[required] This question requires an answer." in en.output
    assert "[constraint] The answer does not meet the rule" in en.output


def test_json_output(files):
    form_path, submission = files
    result = run(form_path, submission("<village/><rooms>2</rooms>"), "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert set(data) == {"ok", "issues", "computed"}
    assert data["ok"] is False
    assert data["computed"] == {"/data/double": "4"}
    [issue] = data["issues"]
    assert issue["code"] == "required" and issue["path"] == "/data/village"
    assert issue["severity"] == "error" and issue["message_vi"]


def test_warnings_alone_exit_0(files):
    form_path, submission = files
    result = run(form_path, submission("<village>X</village><nickname>Bống</nickname>"), "--json")
    assert result.exit_code == 0
    assert [i["code"] for i in json.loads(result.output)["issues"]] == ["unknown_field"]


def test_an_unreadable_submission_exits_1_with_the_reason(files, tmp_path):
    form_path, _ = files
    hostile = tmp_path / "bomb.xml"
    hostile.write_text('<!DOCTYPE r [<!ENTITY a "aaaa">]><data id="rooms">&a;</data>')
    result = run(form_path, str(hostile), "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False and data["error"]["code"] == "xml_doctype_forbidden"
    plain = run(form_path, str(hostile), "--lang", "en")
    assert plain.exit_code == 1
    assert "document type declaration" in plain.output


def test_a_submission_of_another_form_is_an_error(files, tmp_path):
    form_path, _ = files
    other = tmp_path / "other.xml"
    other.write_text('<visit id="household_visit"><village>X</village></visit>')
    result = run(form_path, str(other), "--lang", "en")
    assert result.exit_code == 1
    assert "[form_mismatch]" in result.output and "'visit'" in result.output
