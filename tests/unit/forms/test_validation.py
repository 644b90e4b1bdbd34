"""Validation and computation: every issue code, calculation order, repeats, relevance."""

# ruff: noqa: E501 - the inline XLSForms are markdown tables, kept aligned to stay readable

from __future__ import annotations

from datetime import datetime

import pytest

from forms.instance import parse_submission, to_xml
from forms.load import load_form
from forms.messages import ISSUE_SEVERITY, ISSUES, issue_code, issue_message
from forms.validation import compute, validate, validator_for

PEOPLE = """
| survey |
|        | type             | name     | label        | required | constraint          | relevant        | calculation             | repeat_count |
|        | text             | village  | Village      | yes      |                     |                 |                         |              |
|        | integer          | hh_size  | Members      | yes      | . >= 1 and . <= 30  |                 |                         |              |
|        | calculate        | double   |              |          |                     |                 | ${n_members} * 2        |              |
|        | begin_repeat     | members  | Members      |          |                     |                 |                         | ${hh_size}   |
|        | text             | name     | Name         | yes      |                     |                 |                         |              |
|        | integer          | age      | Age          | yes      | . >= 0 and . <= 120 |                 |                         |              |
|        | select_one yn    | school   | In school?   | yes      |                     | ${age} <= 18    |                         |              |
|        | calculate        | adult    |              |          |                     |                 | if(${age} >= 18, 1, 0)  |              |
|        | end_repeat       |          |              |          |                     |                 |                         |              |
|        | calculate        | n_members|              |          |                     |                 | count(${members})       |              |
|        | calculate        | n_adults |              |          |                     |                 | sum(${adult})           |              |
|        | calculate        | share    |              |          |                     |                 | ${n_adults} div ${n_members} |         |
| choices |
|         | list_name | name | label |
|         | yn        | yes  | Yes   |
|         | yn        | no   | No    |
"""


@pytest.fixture(scope="module")
def people():
    return load_form(PEOPLE, "people.md")


def submission(form, body: str):
    """Parse `<root id=...>{body}<meta>...</meta></root>` for `form`."""
    xml = (
        f'<{form.root_name} id="{form.form_id}" version="{form.version or ""}">{body}'
        f"<meta><instanceID>uuid:11111111-2222-4333-8444-555555555555</instanceID></meta>"
        f"</{form.root_name}>"
    )
    return parse_submission(xml.encode("utf-8")).root


def members(*rows: tuple[str, str, str]) -> str:
    return "".join(
        f"<members><name>{n}</name><age>{a}</age><school>{s}</school><adult/></members>"
        for n, a, s in rows
    )


def codes(result) -> list[tuple[str, str]]:
    return [(i.code, i.path) for i in result.issues]


def test_a_valid_submission_has_no_issues_and_its_calculates_computed(people):
    body = "<village>Bản Phố</village><hh_size>2</hh_size><double/>"
    body += members(("Lò Văn Minh", "34", ""), ("Lò Thị Hoa", "7", "yes"))
    body += "<n_members/><n_adults/><share/>"
    result = validate(people, submission(people, body))
    assert result.ok and result.issues == []
    root = f"/{people.root_name}"
    assert result.computed == {
        f"{root}/double": "4",
        f"{root}/members[1]/adult": "1",
        f"{root}/members[2]/adult": "0",
        f"{root}/n_members": "2",
        f"{root}/n_adults": "1",
        f"{root}/share": "0.5",
    }


def test_calculates_run_in_dependency_order_not_form_order(people):
    plan = validator_for(people)
    order = [p.name for kind, p in plan.steps if kind == "calculate"]
    assert order.index("n_members") < order.index("double")
    assert order.index("adult") < order.index("n_adults") < order.index("share")
    assert validator_for(people) is plan  # prepared once per form


def test_validate_leaves_the_tree_as_given_and_compute_returns_a_filled_copy(people):
    body = "<village>X</village><hh_size>1</hh_size>" + members(("A", "40", ""))
    root = submission(people, body)
    before = to_xml(root)
    validate(people, root)
    assert to_xml(root) == before
    filled = compute(people, root)
    assert to_xml(root) == before
    names = [c.name for c in filled.children]
    # Elements the submission lacked are created in form order.
    assert names == ["village", "hh_size", "double", "members", "n_members", "n_adults", "share",
                     "meta"]  # fmt: skip
    assert filled.find("members/adult").text == "1"
    assert filled.find("share").text == "1"


def test_required(people):
    body = "<village/><hh_size>1</hh_size>" + members(("", "40", ""))
    result = validate(people, submission(people, body))
    root = f"/{people.root_name}"
    assert codes(result) == [
        ("required", f"{root}/village"),
        ("required", f"{root}/members[1]/name"),
    ]
    issue = result.issues[0]
    assert issue.severity == "error" and not result.ok
    assert issue.message == "This question requires an answer."
    assert issue.message_vi == "Câu hỏi này bắt buộc phải trả lời."


def test_constraint_reports_the_rule_when_the_form_has_no_message(people):
    body = "<village>X</village><hh_size>1</hh_size>" + members(("A", "130", ""))
    result = validate(people, submission(people, body))
    [issue] = result.issues
    assert (issue.code, issue.path, issue.value) == (
        "constraint",
        f"/{people.root_name}/members[1]/age",
        "130",
    )
    assert ". >= 0 and . <= 120" in issue.message and ". >= 0 and . <= 120" in issue.message_vi


def test_relevance_inside_repeats_is_per_instance(people):
    # School is asked of the 7-year-old only; the adult's answer is ignored (info).
    body = "<village>X</village><hh_size>2</hh_size>"
    body += members(("A", "40", "yes"), ("B", "7", ""))
    result = validate(people, submission(people, body))
    root = f"/{people.root_name}"
    assert codes(result) == [
        ("not_relevant", f"{root}/members[1]/school"),
        ("required", f"{root}/members[2]/school"),
    ]
    assert [i.severity for i in result.issues] == ["info", "error"]


def test_repeat_count(people):
    body = "<village>X</village><hh_size>3</hh_size>" + members(("A", "40", ""), ("B", "41", ""))
    result = validate(people, submission(people, body))
    [issue] = result.issues
    assert (issue.code, issue.path) == ("repeat_count", f"/{people.root_name}/members")
    assert "3" in issue.message and "2" in issue.message
    assert issue.message_vi == "Biểu mẫu cần 3 mục ở đây nhưng bản gửi có 2 mục."


def test_unknown_fields_are_warnings(people):
    body = "<village>X</village><hh_size>1</hh_size>" + members(("A", "40", ""))
    body += "<nickname>Bống</nickname><extra><x>1</x></extra>"
    result = validate(people, submission(people, body))
    root = f"/{people.root_name}"
    assert codes(result) == [
        ("unknown_field", f"{root}/nickname"),
        ("unknown_field", f"{root}/extra"),
    ]
    assert result.ok  # warnings do not mark the submission as having issues
    assert result.issues[0].value == "Bống" and result.issues[1].value is None


TYPES = """
| survey |
|        | type      | name  | label |
|        | integer   | i     | I     |
|        | decimal   | d     | D     |
|        | date      | day   | Day   |
|        | time      | t     | T     |
|        | dateTime  | dt    | DT    |
|        | geopoint  | gps   | GPS   |
|        | geotrace  | line  | Line  |
"""


@pytest.fixture(scope="module")
def types():
    return load_form(TYPES, "types.md")


@pytest.mark.parametrize(
    "name, value, ok",
    [
        ("i", "2147483647", True),
        ("i", "-2147483648", True),
        ("i", "2147483648", False),
        ("i", "-2147483649", False),
        ("i", "12a", False),
        ("i", "1.5", False),
        ("d", "-0.75", True),
        ("d", "1,5", False),
        ("d", "NaN", False),
        ("day", "2024-02-29", True),
        ("day", "2025-02-29", False),
        ("day", "17/09/2025", False),
        ("t", "10:30:00.000+07:00", True),
        ("t", "10:30", True),
        ("t", "25:00:00", False),
        ("dt", "2025-09-17T10:30:00.000+07:00", True),
        ("dt", "2025-09-17 10:30", False),
        ("gps", "21.0285 105.8542 12.5 4.0", True),
        ("gps", "21.0285 105.8542", True),
        ("gps", "91 105", False),
        ("gps", "21 181", False),
        ("gps", "21", False),
        ("gps", "north east", False),
        ("line", "21 105 0 0;21.1 105.1 0 0", True),
        ("line", "21 105 0 0", False),
    ],
)
def test_types(types, name, value, ok):
    result = validate(types, submission(types, f"<{name}>{value}</{name}>"))
    if ok:
        assert result.issues == []
    else:
        [issue] = result.issues
        assert (issue.code, issue.value, issue.severity) == ("type", value, "error")
        assert value in issue.message and value in issue.message_vi


CHOICES = """
| survey |
|        | type                       | name     | label    | choice_filter          |
|        | select_one province        | province | Province |                        |
|        | select_one commune         | commune  | Commune  | province=${province}   |
|        | select_multiple assets     | assets   | Assets   |                        |
|        | select_one_from_file hh.csv | hh      | Household |                       |
| choices |
|         | list_name | name   | label       | province |
|         | province  | dien_bien | Điện Biên |          |
|         | province  | ha_giang  | Hà Giang  |          |
|         | commune   | muong_phang | Mường Phăng | dien_bien |
|         | commune   | lung_cu     | Lũng Cú     | ha_giang  |
|         | assets    | tv     | TV          |          |
|         | assets    | radio  | Radio       |          |
"""


@pytest.fixture(scope="module")
def choices():
    return load_form(CHOICES, "choices.md")


@pytest.mark.parametrize(
    "body, expected",
    [
        (
            "<province>dien_bien</province><commune>muong_phang</commune><assets>tv radio</assets>",
            [],
        ),
        ("<province>hanoi</province>", [("province", "hanoi", "is not one of the choices")]),
        (
            "<province>dien_bien ha_giang</province>",
            [("province", "dien_bien ha_giang", "Only one")],
        ),
        ("<assets>tv car</assets>", [("assets", "car", "is not one of the choices")]),
        (
            "<province>dien_bien</province><commune>lung_cu</commune>",
            [("commune", "lung_cu", "not among the choices offered")],
        ),
        ("<hh>anything-from-the-csv</hh>", []),  # external itemset: only the device knows it
    ],
)
def test_choices(choices, body, expected):
    result = validate(choices, submission(choices, body))
    got = [(i.path.rsplit("/", 1)[1], i.value, i.code) for i in result.issues]
    assert got == [(name, value, "choice") for name, value, _ in expected]
    for issue, (_, _, words) in zip(result.issues, expected, strict=True):
        assert words in issue.message and issue.message_vi


MESSAGES = """
| settings |
|          | default_language |
|          | Tiếng Việt (vi)  |
| survey |
|        | type    | name | label::Tiếng Việt (vi) | label::English (en) | required | required_message::Tiếng Việt (vi) | required_message::English (en) | constraint | constraint_message::Tiếng Việt (vi) | constraint_message::English (en) |
|        | integer | age  | Tuổi                   | Age                 | yes      | Hãy nhập tuổi của chủ hộ          | Enter the head's age           | . >= 15    | Chủ hộ phải từ 15 tuổi trở lên      | The head must be at least 15     |
"""


def test_form_messages_are_used_in_both_languages():
    form = load_form(MESSAGES, "messages.md")
    [issue] = validate(form, submission(form, "<age>12</age>")).issues
    assert issue.code == "constraint"
    assert (issue.message, issue.message_vi) == (
        "The head must be at least 15",
        "Chủ hộ phải từ 15 tuổi trở lên",
    )
    [issue] = validate(form, submission(form, "<age/>")).issues
    assert (issue.message, issue.message_vi) == ("Enter the head's age", "Hãy nhập tuổi của chủ hộ")


GROUPS = """
| survey |
|        | type          | name      | label     | required | relevant                | calculation      |
|        | select_one yn | consent   | Consent?  | yes      |                         |                  |
|        | begin_group   | housing   | Housing   |          | ${consent} = 'yes'      |                  |
|        | integer       | rooms     | Rooms     | yes      |                         |                  |
|        | text          | roof      | Roof      | yes      |                         |                  |
|        | end_group     |           |           |          |                         |                  |
|        | calculate     | rooms_x2  |           |          |                         | ${rooms} * 2     |
|        | calculate     | stamp     |           |          |                         | now()            |
|        | calculate     | broken    |           |          |                         | regex('x', ${roof}) |
| choices |
|         | list_name | name | label |
|         | yn        | yes  | Yes   |
|         | yn        | no   | No    |
"""


@pytest.fixture(scope="module")
def groups():
    return load_form(GROUPS, "groups.md")


def test_relevance_is_inherited_from_groups_and_ignored_answers_read_blank(groups):
    body = "<consent>no</consent><housing><rooms>3</rooms><roof/></housing>"
    body += "<rooms_x2>6</rooms_x2><stamp/><broken/>"
    result = validate(groups, submission(groups, body))
    root = f"/{groups.root_name}"
    # roof is required but its group does not apply; rooms was answered anyway.
    assert codes(result) == [("not_relevant", f"{root}/housing/rooms")]
    assert result.ok
    # The ignored answer reads as blank: blank * 2 is NaN, stored as "NaN" like Collect does.
    assert result.computed[f"{root}/rooms_x2"] == "NaN"


def test_volatile_calculates_keep_the_tablets_value(groups):
    body = "<consent>no</consent><stamp>2025-09-17T08:00:00.000+07:00</stamp>"
    result = validate(groups, submission(groups, body), now=datetime(2030, 1, 1))
    assert result.computed[f"/{groups.root_name}/stamp"] == "2025-09-17T08:00:00.000+07:00"
    blank = validate(groups, submission(groups, "<consent>no</consent>"), now=datetime(2030, 1, 1))
    assert blank.computed[f"/{groups.root_name}/stamp"].startswith("2030-01-01")


def test_calculation_errors_are_reported_on_the_field(groups):
    # The roof answer is used as a regular expression, and "[" is not one.
    body = "<consent>yes</consent><housing><rooms>3</rooms><roof>[</roof></housing>"
    result = validate(groups, submission(groups, body))
    [issue] = result.issues
    assert (issue.code, issue.path, issue.severity) == (
        "calculation_error",
        f"/{groups.root_name}/broken",
        "error",
    )
    assert issue.message.startswith("The form could not compute this value")
    assert issue.message_vi.startswith("Biểu mẫu không tính được giá trị này")


ENTITY = """
| survey |
|        | type | name    | label | save_to |
|        | text | hh_name | Name  | hh_name |
| entities |
|          | list_name  | label      |
|          | households | ${hh_name} |
"""


def test_entity_block_is_checked():
    form = load_form(ENTITY, "entity.md")
    good = '<entity dataset="households" create="1" id="uuid:0b6a4c2e-4c1f-4d8e-9f44-3f1f8f0e2a10">'
    bad = '<entity dataset="households" create="1" id="hh-7">'
    for entity, expected in ((good, []), (bad, ["entity_invalid"])):
        xml = (
            f'<{form.root_name} id="{form.form_id}"><hh_name>Hộ A</hh_name><meta>'
            f"<instanceID>uuid:1</instanceID>{entity}<label>Hộ A</label></entity></meta>"
            f"</{form.root_name}>"
        )
        result = validate(form, parse_submission(xml.encode()).root)
        assert [i.code for i in result.issues] == expected
    assert "hh-7" in result.issues[0].message and "hh-7" in result.issues[0].message_vi


def test_every_issue_code_has_a_severity_and_both_messages():
    assert {issue_code(key) for key in ISSUES} == set(ISSUE_SEVERITY)
    assert set(ISSUE_SEVERITY.values()) == {"error", "warning", "info"}
    for key in ISSUES:  # the Vietnamese comes from the giupho_forms catalogue
        en, vi = issue_message(key)
        assert en and vi and en != vi, key


def test_a_submission_of_another_form_is_reported_not_validated(people):
    other = parse_submission(b'<visit id="household_visit"><village>X</village></visit>').root
    [issue] = validate(people, other).issues
    assert (issue.code, issue.severity, issue.value) == ("form_mismatch", "error", "visit")
    same_root = parse_submission(f'<{people.root_name} id="other_form"/>'.encode()).root
    issues = validate(people, same_root).issues
    assert issues[0].code == "form_mismatch" and issues[0].value == "other_form"
    assert "other_form" in issues[0].message and "other_form" in issues[0].message_vi
    assert {"required"} <= {i.code for i in issues}  # the rest is still checked


UPDATE = """
| survey |
|        | type                                | name | label     | save_to |
|        | select_one_from_file households.csv | hh   | Household |         |
|        | integer                             | size | Size      | hh_size |
| entities |
|          | list_name  | entity_id |
|          | households | ${hh}     |
"""

HH = "0b6a4c2e-4c1f-4d8e-9f44-3f1f8f0e2a10"


def test_entity_id_is_computed_and_tablet_only_values_are_kept():
    form = load_form(UPDATE, "update.md")
    # baseVersion comes from the households list, which only the tablet has: kept as sent.
    xml = (
        f'<data id="update"><hh>{HH}</hh><size>4</size><meta><instanceID>uuid:1</instanceID>'
        '<entity dataset="households" update="1" baseVersion="4"/></meta></data>'
    )
    root = parse_submission(xml.encode()).root
    before = to_xml(root)
    result = validate(form, root)
    assert to_xml(root) == before  # an attribute added to compute is taken away again
    assert result.issues == []
    assert result.computed["/data/meta/entity/@id"] == HH
    assert result.computed["/data/meta/entity/@baseVersion"] == "4"
    entity = compute(form, root).find("meta/entity")
    assert (entity.attrs["id"], entity.attrs["baseVersion"]) == (HH, "4")


def test_an_update_without_base_version_is_an_entity_error():
    form = load_form(UPDATE, "update.md")
    xml = (
        f'<data id="update"><hh>{HH}</hh><size>4</size><meta><instanceID>uuid:1</instanceID>'
        '<entity dataset="households" update="1" baseVersion=""/></meta></data>'
    )
    [issue] = validate(form, parse_submission(xml.encode()).root).issues
    assert (issue.code, issue.path) == ("entity_invalid", "/data/meta/entity")
    assert "baseVersion" in issue.message and "baseVersion" in issue.message_vi


DYNAMIC = """
| survey |
|        | type              | name    | label   |
|        | begin_repeat      | members | Members |
|        | text              | m_name  | Name    |
|        | end_repeat        |         |         |
|        | select_one ${m_name} | head | Head |
"""


def test_choices_taken_from_answers_of_a_repeat():
    form = load_form(DYNAMIC, "dynamic.md")
    body = "<members><m_name>An</m_name></members><members><m_name>Bình</m_name></members>"
    ok = validate(form, submission(form, body + "<head>Bình</head>"))
    assert ok.issues == []
    bad = validate(form, submission(form, body + "<head>Chi</head>"))
    assert [(i.code, i.value) for i in bad.issues] == [("choice", "Chi")]
    assert "is not one of the choices" in bad.issues[0].message


def test_an_unknown_element_does_not_hide_a_missing_one(people):
    body = "<nickname>Bống</nickname><hh_size>1</hh_size>" + members(("A", "40", ""))
    result = validate(people, submission(people, body))
    root = f"/{people.root_name}"
    assert sorted(codes(result)) == [
        ("required", f"{root}/village"),
        ("unknown_field", f"{root}/nickname"),
    ]


def test_a_duplicated_non_repeat_element_is_unknown(people):
    body = "<village>X</village><village>Y</village><hh_size>1</hh_size>" + members(("A", "40", ""))
    result = validate(people, submission(people, body))
    assert [(i.code, i.path, i.value) for i in result.issues] == [
        ("unknown_field", f"/{people.root_name}/village", "Y")
    ]


def test_results_serialise_to_the_json_shape(people):
    result = validate(people, submission(people, "<village/>"))
    data = result.to_dict()
    assert set(data) == {"ok", "issues", "computed"}
    assert set(data["issues"][0]) == {"path", "code", "message", "message_vi", "severity", "value"}


def test_compute_keeps_ignored_answers_but_computes_as_if_blank(groups):
    body = "<consent>no</consent><housing><rooms>3</rooms></housing><rooms_x2>6</rooms_x2>"
    filled = compute(groups, submission(groups, body))
    assert filled.find("housing/rooms").text == "3"  # the answer is not destroyed
    assert filled.find("rooms_x2").text == "NaN"  # but it does not count
