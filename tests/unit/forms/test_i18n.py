"""The forms engine's texts are English message ids; `message_vi` and `fix_vi` come from the
gettext catalogue `giupho_forms` (forms/locale), read with the standard library."""

from __future__ import annotations

import gettext
from datetime import date

import pytest
from click.testing import CliRunner

from forms import i18n
from forms.cli import form, format_problem
from forms.errors import CATALOGUE, SubmissionError, form_problem
from forms.i18n import N_, translations, vi
from forms.instance import parse_submission
from forms.messages import ISSUES, SUBMISSIONS, issue_message
from forms.poverty import classify
from forms.poverty.standards import StandardsError
from forms.xpath import XPathEvalError, XPathSyntaxError, parse
from forms.xpath.parser import parse_ast


def test_the_vietnamese_catalogue_is_found():
    assert isinstance(translations("vi"), gettext.GNUTranslations)  # not the fallback
    assert vi("") == ""  # never the catalogue's header


def test_a_form_problem_renders_in_both_languages_through_the_catalogue():
    problem = form_problem("xform.too_large", size=3_000_000, limit=2_000_000)
    assert problem.message == "The XForm is 3000000 bytes; the limit is 2000000 bytes."
    assert problem.message_vi == "XForm có 3000000 byte, vượt giới hạn 2000000 byte."
    assert problem.fix == "Move large choice lists to a CSV attachment (select_one_from_file)."
    assert problem.fix_vi == (
        "Chuyển danh sách lựa chọn lớn sang tệp CSV đính kèm (select_one_from_file)."
    )
    assert CATALOGUE["xform.too_large"].message_vi == vi(CATALOGUE["xform.too_large"].message)


def test_a_detail_already_in_vietnamese_is_shown_in_the_vietnamese_text():
    problem = form_problem("expr.syntax", expr="1 +", position=4, detail="Unexpected end",
                           detail_vi="Kết thúc sớm", near="1 +")  # fmt: skip
    assert problem.message == "The expression '1 +' cannot be read at character 4: Unexpected end"
    assert problem.message_vi == "Không đọc được biểu thức '1 +' tại ký tự 4: Kết thúc sớm"


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_form_problem_has_its_vietnamese(code):
    kind = CATALOGUE[code]
    assert kind.message_vi != kind.message and kind.fix_vi and kind.fix_vi != kind.fix


def test_issues_and_submission_errors_are_translated_too():
    for message in [*ISSUES.values(), *SUBMISSIONS.values()]:
        assert vi(message) != message, message
    assert issue_message("type_decimal", value="abc") == (
        "'abc' is not a number.",
        "'abc' không phải là một số.",
    )
    assert issue_message("constraint") == (  # a missing value stays visible
        "The answer does not meet the rule of this question ({rule}).",
        "Câu trả lời không đáp ứng điều kiện của câu hỏi này ({rule}).",
    )
    with pytest.raises(SubmissionError) as raised:
        parse_submission(b"")
    assert raised.value.message == "The submission is empty. Send the form again from the app."
    assert raised.value.message_vi == "Bản gửi trống. Hãy gửi lại biểu mẫu từ ứng dụng."


# -- the texts the engine writes itself: XPath errors, poverty reasons, the CLI -------------
# Each test checks the Vietnamese against the catalogue's msgstr, then swaps the catalogue
# for one that marks every text it translates: a Vietnamese literal written back into the
# code would not be marked, and the test would fail.


class _Marking(gettext.NullTranslations):
    def gettext(self, message: str) -> str:
        return f"<{message}>"


@pytest.fixture()
def marking_catalogue(monkeypatch):
    """Every Vietnamese text reads `<msgid>`, placeholders still filled in."""
    monkeypatch.setattr(i18n, "translations", lambda lang: _Marking())


def _msgstr(message: str) -> str:
    catalogue = translations("vi")
    assert message in catalogue._catalog, f"{message!r} is not in the giupho_forms catalogue"
    return catalogue._catalog[message]


def _syntax_error(source: str) -> XPathSyntaxError:
    with pytest.raises(XPathSyntaxError) as raised:
        parse_ast(source)
    return raised.value


def test_an_xpath_syntax_error_reads_its_vietnamese_from_the_catalogue():
    error = _syntax_error("concat('a' 'b')")
    assert error.message == (
        "Unexpected text 'b': expected ',' or ')' to close 'concat(' opened at character 7"
    )
    expected = _msgstr(N_("',' or %(expected)s")) % {
        "expected": _msgstr(N_("'%(closing)s' to close '%(opening)s' opened at character %(at)s"))
        % {"closing": ")", "opening": "concat(", "at": 7}
    }
    token = _msgstr(N_("text '%(value)s'")) % {"value": "b"}
    assert error.message_vi == _msgstr(N_("Unexpected %(token)s: expected %(expected)s")) % {
        "token": token,
        "expected": expected,
    }
    assert (
        error.message_vi
        == "Không mong đợi chuỗi 'b': cần ',' hoặc ')' để đóng 'concat(' mở ở ký tự 7"
    )


def test_every_xpath_error_kind_takes_its_vietnamese_from_the_catalogue(marking_catalogue):
    assert _syntax_error("").message_vi == "<The expression is empty>"
    assert _syntax_error("1 +").message_vi == (
        "<The expression ends too early: expected <a value, path or function call>>"
    )
    assert _syntax_error("concat(1 'b')").message_vi == (
        "<Unexpected <text 'b'>: expected <',' or <')' to close 'concat(' opened at character 7>>>"
    )
    assert _syntax_error("'abc").message_vi == (
        "<The text starting with ' is never closed; add a matching '>"
    )
    assert _syntax_error("substr('a')").message_vi == (
        "<Function substr() takes <2 to 3> arguments, not 1>"
    )
    with pytest.raises(XPathEvalError) as raised:
        parse("digest('a', 'MD5', 'oct')").evaluate()
    assert raised.value.message_vi == "<digest() encoding must be 'base64' or 'hex', not 'oct'>"


def test_a_poverty_reason_reads_its_vietnamese_from_the_catalogue():
    reasons = {r.code: r for r in classify(1_500_000, "rural", 3, date(2024, 6, 1)).reasons}
    income = reasons["income_at_or_below_poverty_line"]
    sentence = N_(
        "Income %(income)s per person per month is at or below the %(area)s poverty line "
        "of %(line)s."
    )
    money = _msgstr(N_("%(amount)s VND"))
    assert income.message == sentence % {
        "income": "1,500,000 VND",
        "area": "rural",
        "line": "1,500,000 VND",
    }
    assert income.message_vi == _msgstr(sentence) % {
        "income": money % {"amount": "1.500.000"},
        "area": _msgstr(N_("rural")),
        "line": money % {"amount": "1.500.000"},
    }
    assert income.message_vi == (
        "Thu nhập bình quân 1.500.000 đồng/người/tháng không vượt chuẩn nghèo khu vực "
        "nông thôn (1.500.000 đồng)."
    )


def test_poverty_reasons_and_errors_take_no_literal_vietnamese(marking_catalogue):
    result = classify(1_500_000, "urban", 0, date(2024, 6, 1))
    assert [r.message_vi for r in result.reasons] == [
        "<Income <1.500.000 VND> per person per month is at or below the <urban> poverty line "
        "of <2.000.000 VND>.>",
        "<0 of 12 deprivations: below the threshold of 3.>",
    ]
    with pytest.raises(StandardsError) as raised:
        classify(1_000_000, "sea", 0, date(2024, 6, 1))
    assert raised.value.message_vi == "<area must be one of rural, urban, not 'sea'>"


def test_the_cli_report_reads_its_vietnamese_from_the_catalogue(tmp_path):
    form_path = tmp_path / "rooms.md"
    form_path.write_text(
        "| survey |\n"
        "|  | type | name    | label   | required |\n"
        "|  | text | village | Village | yes      |\n",
        encoding="utf-8",
    )
    submission = tmp_path / "submission.xml"
    submission.write_text('<data id="rooms"><village/></data>', encoding="utf-8")
    result = CliRunner().invoke(form, ["validate", str(form_path), str(submission)])
    head = N_("%(errors)s error(s), %(warnings)s warning(s), %(notes)s note(s)")
    counts = {"errors": 1, "warnings": 0, "notes": 0}
    assert result.output.splitlines()[0] == _msgstr(head) % counts == "1 lỗi, 0 cảnh báo, 0 ghi chú"
    english = CliRunner().invoke(
        form, ["validate", str(form_path), str(submission), "--lang", "en"]
    )
    assert english.output.splitlines()[0] == head % counts

    problem = form_problem("xform.too_large", size=3_000_000, limit=2_000_000)
    lines = format_problem(problem).splitlines()
    assert lines[-2] == f"    Fix: {problem.fix}"
    assert (
        lines[-1]
        == f"    {_msgstr(N_('Fix:'))} {problem.fix_vi}"
        == f"    Cách sửa: {problem.fix_vi}"
    )


def test_the_cli_takes_no_literal_vietnamese(marking_catalogue, tmp_path):
    problem = form_problem("xform.too_large", size=3_000_000, limit=2_000_000)
    assert format_problem(problem).splitlines()[-1].startswith("    <Fix:> <")
    form_path = tmp_path / "rooms.md"
    form_path.write_text(
        "| survey |\n|  | type | name | label |\n|  | integer | rooms | Rooms |\n",
        encoding="utf-8",
    )
    submission = tmp_path / "submission.xml"
    submission.write_text('<data id="rooms"><rooms>3</rooms></data>', encoding="utf-8")
    result = CliRunner().invoke(form, ["validate", str(form_path), str(submission)])
    assert result.output.splitlines()[0] == "<0 error(s), 0 warning(s), 0 note(s)>"
