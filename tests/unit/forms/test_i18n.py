"""The forms engine's texts are English message ids; `message_vi` and `fix_vi` come from the
gettext catalogue `giupho_forms` (forms/locale), read with the standard library."""

from __future__ import annotations

import gettext

import pytest

from forms.errors import CATALOGUE, SubmissionError, form_problem
from forms.i18n import translations, vi
from forms.instance import parse_submission
from forms.messages import ISSUES, SUBMISSIONS, issue_message


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
