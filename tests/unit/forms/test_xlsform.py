"""XLSForm conversion: pyxform's XForm, the map back to spreadsheet cells, pyxform's refusals."""

import pytest
from pyxform.xls2json_backends import md_table_to_workbook

from forms.errors import FormError
from forms.xlsform import Cell, convert_xlsform

FORM = """
| survey |
| | type | name | label | relevance | calculation | repeat_count | choice_filter |
| | integer | n | How many? | | | | |
| | begin_group | hh | Household | | | | |
| | text | name | Name | ${n} > 0 | | | |
| | begin_repeat | members | Members | | | ${n} | |
| | text | m_name | Member name | | | | |
| | select_one sex | m_sex | Sex | | | | kind = 'person' |
| | end_repeat | | | | | | |
| | end_group | | | | | | |
| | calculate | total | | | ${n} * 2 | | |
| choices |
| | list_name | name | label | kind |
| | sex | f | Female | person |
| | sex | m | Male | person |
| settings |
| | form_id | version | instance_name |
| | hh_visit | 7 | concat(${name}, '') |
| entities |
| | list_name | label | update_if | entity_id |
| | households | ${name} | ${n} > 1 | ${name} |
"""


def test_converts_markdown_text_to_xform_bytes():
    result = convert_xlsform(FORM, "visit.md")
    assert result.xform.startswith(b"<?xml")
    assert b'<hh_visit id="hh_visit"' not in result.xform  # the root stays "data"
    assert b'<data id="hh_visit" version="7">' in result.xform


def test_form_id_defaults_to_the_file_name_like_pyxform_cli():
    form = "| survey |\n| | type | name | label |\n| | text | a | A |\n"
    result = convert_xlsform(form, "ho_ngheo.md")
    assert b'id="ho_ngheo"' in result.xform


def test_source_map_follows_groups_and_repeats():
    smap = convert_xlsform(FORM, "visit.md").source_map
    assert smap.field_cell("/data/n") == Cell("survey", 2, None)
    assert smap.field_cell("/data/hh/name", "relevant") == Cell("survey", 4, "relevance")
    assert smap.field_cell("/data/hh/members", "jr:count") == Cell("survey", 5, "repeat_count")
    assert smap.field_cell("/data/hh/members/m_sex", "itemset") == Cell(
        "survey", 7, "choice_filter"
    )
    assert smap.field_cell("/data/total", "calculate") == Cell("survey", 10, "calculation")
    assert smap.field_cell("/data/meta/instanceID") is None


def test_source_map_keeps_choice_entity_and_settings_places():
    smap = convert_xlsform(FORM, "visit.md").source_map
    assert smap.choice_rows == {"sex": [2, 3]}
    assert smap.entity_cell("households", "update_if") == Cell("entities", 2, "update_if")
    assert smap.settings_cell("instance_name") == Cell("settings", 2, "instance_name")
    assert smap.cell_text("survey", 4, "relevant") == "${n} > 0"
    assert smap.cell_text("entities", 2, "entity_id") == "${name}"


def test_reads_xlsx_bytes_and_paths(tmp_path):
    path = tmp_path / "visit.xlsx"
    md_table_to_workbook(FORM).save(path)
    from_bytes = convert_xlsform(path.read_bytes(), "visit.xlsx")
    from_path = convert_xlsform(path)
    assert from_bytes.xform == from_path.xform
    assert from_path.source_map.field_cell("/data/hh/name", "relevant").row == 4


@pytest.mark.parametrize(
    ("form", "row", "column", "words"),
    [
        pytest.param(
            "| survey |\n| | type | name | label | relevant |\n"
            "| | text | a | A | |\n| | text | b | B | ${nope} = 'x' |\n",
            3,
            "relevant",
            "Could not find the name 'nope'",
            id="unknown-reference",
        ),
        pytest.param(
            "| survey |\n| | type | name | label |\n| | text | a | A |\n| | txet | b | B |\n",
            3,
            None,
            "Unknown question type 'txet'",
            id="bad-type",
        ),
        pytest.param(
            "| survey |\n| | type | name | label |\n"
            "| | begin_group | g | G |\n| | text | b | B |\n",
            2,
            None,
            "No matching 'end_group'",
            id="missing-end-group",
        ),
        pytest.param(
            "| survey |\n| | type | name | label |\n| | text | a | A |\n| | text | a | B |\n",
            3,
            "name",
            "must be unique",
            id="duplicate-name",
        ),
    ],
)
def test_pyxform_refusals_carry_its_message_sheet_and_row(form, row, column, words):
    with pytest.raises(FormError) as caught:
        convert_xlsform(form, "broken.md")
    (problem,) = caught.value.problems
    assert problem.code == "xlsform.invalid"
    assert words in problem.message
    assert (problem.sheet, problem.row, problem.column) == ("survey", row, column)
    assert problem.message_vi.startswith("Biểu mẫu XLSForm không hợp lệ")
    assert problem.fix


def test_a_missing_choice_list_is_refused():
    form = "| survey |\n| | type | name | label |\n| | select_one yn | a | A |\n"
    with pytest.raises(FormError, match="choices sheet"):
        convert_xlsform(form, "broken.md")


def test_a_file_that_is_no_spreadsheet_is_refused():
    with pytest.raises(FormError) as caught:
        convert_xlsform(b"PK\x03\x04 not really a zip", "form.xlsx")
    assert caught.value.problems[0].code == "xlsform.unreadable"


def test_pyxform_warnings_are_returned():
    form = (
        "| survey |\n| | type | name | label |\n| | select_one c | a | A |\n"
        "| choices |\n| | list_name | name | label |\n| | c | x | |\n"
    )
    result = convert_xlsform(form, "warn.md")
    assert any("should have a label" in w for w in result.warnings)
