"""Load-time checks: broken expressions are refused, each at the place the author can fix it."""

import pytest

from forms.checks import check_reading
from forms.errors import FormError
from forms.load import load_form
from forms.xform import parse_xform


def problems_of(form: str, filename: str = "form.md"):
    with pytest.raises(FormError) as caught:
        load_form(form, filename)
    return caught.value.problems


def test_an_unparseable_relevant_is_refused_at_its_cell_with_the_position():
    (problem,) = problems_of(
        """
| survey |
| | type | name | label | relevance |
| | text | a | A | |
| | text | b | B | ${a} = = 'x' |
"""
    )
    assert problem.code == "expr.syntax"
    assert (problem.sheet, problem.row, problem.column) == ("survey", 3, "relevance")
    assert problem.field == "/data/b"
    # Character 8 of the cell as typed (not of the XForm pyxform wrote).
    assert "\"${a} = = 'x'\" cannot be read at character 8" in problem.message
    assert "tại ký tự 8" in problem.message_vi
    assert problem.fix.startswith("Check brackets")
    assert problem.fix_vi


def test_an_unknown_function_is_refused_with_a_suggestion():
    (problem,) = problems_of(
        """
| survey |
| | type | name | label | calculation |
| | date | d | D | |
| | calculate | y | | format-dat(${d}, '%Y') |
"""
    )
    assert problem.code == "expr.unsupported_function"
    assert (problem.sheet, problem.row, problem.column) == ("survey", 3, "calculation")
    assert "format-dat()" in problem.message
    assert "format-date()" in problem.fix


def test_a_calculation_cycle_is_named():
    problems = problems_of(
        """
| survey |
| | type | name | label | calculation |
| | calculate | a | | ${b} + 1 |
| | calculate | b | | ${a} * 2 |
| | calculate | c | | ${a} + ${b} |
"""
    )
    assert [p.code for p in problems] == ["expr.cycle"]
    (problem,) = problems
    assert (problem.sheet, problem.column) == ("survey", "calculation")
    assert problem.row in (2, 3)
    assert "${a} → ${b} → ${a}" in problem.message or "${b} → ${a} → ${b}" in problem.message
    assert "vòng tròn" in problem.message_vi


def test_a_calculation_using_itself_is_a_cycle():
    (problem,) = problems_of(
        "| survey |\n| | type | name | label | calculation |\n| | calculate | n | | ${n} + 1 |\n"
    )
    assert problem.code == "expr.cycle"
    assert "${n} → ${n}" in problem.message


def test_every_problem_is_reported_not_only_the_first():
    problems = problems_of(
        """
| survey |
| | type | name | label | relevant | constraint | choice_filter |
| | integer | a | A | ${a} > | | |
| | integer | b | B | | frobnicate(.) | |
| | select_one c | s | S | | | x = ( |
| choices |
| | list_name | name | label | x |
| | c | 1 | One | 1 |
"""
    )
    places = [(p.code, p.row, p.column) for p in problems]
    assert places == [
        ("expr.syntax", 2, "relevant"),
        ("expr.unsupported_function", 3, "constraint"),
        ("expr.syntax", 4, "choice_filter"),
    ]


def test_an_absolute_path_to_nothing_is_refused_in_an_xlsform():
    (problem,) = problems_of(
        """
| survey |
| | type | name | label | relevant |
| | integer | age | Age | |
| | text | name | Name | /data/agee > 18 |
"""
    )
    assert problem.code == "expr.unknown_reference"
    assert (problem.row, problem.column) == (3, "relevant")
    assert "/data/agee" in problem.message
    assert "${age}" in problem.fix


def test_entities_and_settings_expressions_are_placed_on_their_sheets():
    problems = problems_of(
        """
| survey |
| | type | name | label | save_to |
| | text | hh_name | Name | full_name |
| settings |
| | form_id | instance_name |
| | hh | concat(${hh_name}, |
| entities |
| | list_name | label | create_if |
| | households | ${hh_name} | string-length(${hh_name} > 0 |
"""
    )
    places = sorted((p.sheet, p.row, p.column) for p in problems)
    assert places == [("entities", 2, "create_if"), ("settings", 2, "instance_name")]


XFORM = """<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml">
<h:head><h:title>t</h:title><model>
 <instance><data id="t"><a/><b/><c/><g><d/></g></data></instance>
 <bind nodeset="/data/a" type="int" relevant="/data/nope = 1"/>
 <bind nodeset="/data/b" calculate="/data/c + 1"/>
 <bind nodeset="/data/c" calculate="/data/b * 2"/>
 <bind nodeset="/data/g/d" relevant="../missing = 1"/>
</model></h:head>
<h:body><input ref="/data/a"><label>A</label></input></h:body></h:html>"""


def test_an_xform_reference_to_an_unknown_path_names_field_and_attribute():
    problems = problems_of(XFORM, "t.xml")
    unknown = [p for p in problems if p.code == "expr.unknown_reference"]
    assert [(p.field, p.column, p.sheet) for p in unknown] == [("/data/a", "relevant", None)]
    assert "/data/nope" in unknown[0].message
    assert unknown[0].where() == "/data/a, column 'relevant'"
    (cycle,) = [p for p in problems if p.code == "expr.cycle"]
    assert "/data/b" in cycle.message and "/data/c" in cycle.message


def test_relative_paths_to_missing_nodes_are_not_refused():
    # ODK clients read a missing relative node as empty; pyxform emits such paths.
    reading = parse_xform(XFORM)
    assert not [p for p in check_reading(reading) if p.field == "/data/g/d"]


def test_a_sound_form_has_no_problems():
    model = load_form(
        """
| survey |
| | type | name | label | relevant | calculation | constraint |
| | integer | age | Age | | | . >= 0 and . < 120 |
| | calculate | adult | | | if(${age} >= 18, 1, 0) | |
| | text | job | Job | ${adult} = 1 | | |
""",
        "ok.md",
    )
    assert model.field("/data/job").relevant is not None


def test_a_literal_regex_that_does_not_compile_is_refused_at_upload():
    md = """
| survey |
| | type | name | label | constraint |
| | text | phone | Phone | regex(., '[0-9') |
"""
    with pytest.raises(FormError) as raised:
        load_form(md, "form.md")
    (problem,) = [p for p in raised.value.problems if p.code == "expr.bad_regex"]
    assert (problem.sheet, problem.row, problem.column) == ("survey", 2, "constraint")
    assert "^[0-9]{10}$" in problem.fix
