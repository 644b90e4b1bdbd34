"""`giupho form check FILE`: a summary for a good form, every problem and exit 1 for a bad one."""

import pytest
from click.testing import CliRunner

from forms.cli import form

GOOD = """
| survey |
| | type | name | label::Tiếng Việt (vi) | label::English (en) | save_to |
| | text | hh_name | Tên chủ hộ | Head of household | full_name |
| | integer | members | Số nhân khẩu | Members | member_count |
| | begin_repeat | person | Thành viên | Member | |
| | text | p_name | Họ tên | Name | |
| | end_repeat | | | | |
| settings |
| | form_id | version | form_title | default_language |
| | ho_ngheo | 2025010101 | Thăm hộ nghèo | Tiếng Việt (vi) |
| entities |
| | list_name | label |
| | households | ${hh_name} |
"""

BAD = """
| survey |
| | type | name | label | relevant | calculation |
| | integer | a | A | | |
| | text | b | B | ${a} > > 1 | |
| | calculate | c | | | nope(${a}) |
"""


@pytest.fixture
def run(tmp_path):
    def run(text: str, name: str, *args: str):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return CliRunner().invoke(form, ["check", str(path), *args])

    return run


def test_check_prints_the_form_summary(run):
    result = run(GOOD, "ho_ngheo.md")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Form id:   ho_ngheo" in out
    assert "Version:   2025010101" in out
    assert "Title:     Thăm hộ nghèo" in out
    assert "Tiếng Việt (vi) (default)" in out and "English (en)" in out
    assert "repeat 1" in out and "question 3" in out
    assert "hh_name" in out and "Tên chủ hộ" in out
    assert "Entity list 'households'" in out
    assert "full_name <- /data/hh_name" in out


def test_check_can_choose_the_language_of_the_listing(run):
    result = run(GOOD, "ho_ngheo.md", "--lang", "English (en)")
    assert result.exit_code == 0, result.output
    assert "English (en) (default)" in result.output
    assert "Head of household" in result.output


def test_check_lists_every_problem_with_sheet_row_and_fix_and_exits_1(run):
    result = run(BAD, "bad.md")
    assert result.exit_code == 1
    out = result.output
    assert "2 problem(s)" in out
    assert "[expr.syntax] sheet 'survey', row 3, column 'relevant'" in out
    assert "[expr.unsupported_function] sheet 'survey', row 4, column 'calculation'" in out
    assert "Cách sửa:" in out and "Fix:" in out


def test_check_reads_xforms_too(run):
    xml = (
        '<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml">'
        '<h:head><h:title>X</h:title><model><instance><d id="x" version="1"><q/></d>'
        '</instance><bind nodeset="/d/q" type="int" relevant="/d/zz = 1"/></model></h:head>'
        '<h:body><input ref="/d/q"><label>Q</label></input></h:body></h:html>'
    )
    result = run(xml, "x.xml")
    assert result.exit_code == 1
    assert "/d/q, column 'relevant'" in result.output
    assert "/d/zz" in result.output


def test_a_missing_file_is_a_usage_error():
    result = CliRunner().invoke(form, ["check", "/nonexistent/form.xlsx"])
    assert result.exit_code == 2
