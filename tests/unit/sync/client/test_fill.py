"""The terminal questionnaire (`giupho-sync fill`) on the shipped visit form, in English:
households held locally stand in for the form's household list; the visit names the chosen
household and the version it started from (the base of H3 and of the rebase, C4)."""

from __future__ import annotations

import functools

import pytest

from forms.library import VISIT_XLSX
from forms.load import load_form
from forms.validation import validate
from sync.client.fill import ADD_REPEAT, Questionnaire

HOUSEHOLD = {
    "id": "5e0e0b2c-0000-4000-8000-000000000001",
    "label": "Lò Văn Minh",
    "version": 4,
    "properties": {"poverty_status": "poor", "hh_size": "3"},
}


@functools.cache
def visit_form():
    return load_form(VISIT_XLSX.read_bytes(), VISIT_XLSX.name)


def _fill(answers: list[str], lang: str = "en"):
    shown: list[str] = []
    script = iter(answers)

    def ask(prompt: str) -> str:
        shown.append(prompt)
        return next(script)

    questionnaire = Questionnaire(visit_form(), ask=ask, say=shown.append, lang=lang,
                                  households=[HOUSEHOLD], username="cadre_a")  # fmt: skip
    return questionnaire.run(), "\n".join(shown)


VISIT = [
    "1",  # the household (from the local list)
    "2", "4",  # area: rural; members now
    "", "",  # GPS, photo
    "800000",  # income
    "2", "0", "2", "2", "2", "2", "4", "40", "1", "1", "1", "1 4",  # dimensions
    "1", "Nuôi thêm hai con lợn",  # poverty causes, plan
    "2",  # no support given
    "2",  # not claiming exit
]  # fmt: skip


def test_c4_a_visit_names_the_chosen_household_and_the_version_it_started_from():
    filled, shown = _fill(list(VISIT) + [""] * 10)
    assert "Lò Văn Minh" in shown  # the local household list is offered
    assert filled.entity_id == HOUSEHOLD["id"]
    assert filled.base_version == 4
    entity = filled.answers["meta"]["entity"]
    assert entity["@id"] == HOUSEHOLD["id"] and entity["@baseVersion"] == "4"
    assert filled.properties["hh_size"] == "4"
    assert filled.instance_id.startswith("uuid:")
    errors = [i for i in validate(visit_form(), filled.root).issues if i.severity == "error"]
    assert errors == []


def test_questions_are_asked_in_english_with_english_messages():
    answers = list(VISIT)
    answers[2:3] = ["many", "4"]  # not a number: asked again with the form's message
    filled, shown = _fill(answers + [""] * 10)
    assert "Choose the household" in shown and "Chọn hộ" not in shown
    assert filled.properties["hh_size"] == "4"
    assert "integer" in shown.lower() or "number" in shown.lower()


#: What the questionnaire says itself (giupho_sync message ids), with a wrong choice and a
#: photo that is not there on the way.
OWN_TEXTS = {
    "vi": ["Chọn số (hoặc gõ giá trị): ", "Lựa chọn không hợp lệ: 99",
           "Đường dẫn tệp (để trống nếu không có): ", "Không tìm thấy tệp: /nowhere/a.jpg",
           "Thêm một mục «Thành viên»? (c/k)"],
    "en": ["Choose a number (or type the value): ", "Not a valid choice: 99",
           "Path of the file (empty for none): ", "File not found: /nowhere/a.jpg",
           "Add a «Thành viên»? (y/n)"],
}  # fmt: skip


@pytest.mark.parametrize(("lang", "other"), [("vi", "en"), ("en", "vi")])
def test_the_questionnaires_own_texts_come_from_the_catalogue_in_either_language(lang, other):
    """Vietnamese from the giupho_sync catalogue, English as written; the questions
    themselves are the form's, in the form's languages."""
    answers = ["99", *VISIT[:4], "/nowhere/a.jpg", *VISIT[4:]]
    _filled, shown = _fill(answers + [""] * 10, lang=lang)
    questionnaire = Questionnaire(visit_form(), ask=input, say=print, lang=lang)
    shown += "\n" + questionnaire._(ADD_REPEAT, label="Thành viên")
    assert [text for text in OWN_TEXTS[lang] if text not in shown] == []
    assert [text for text in OWN_TEXTS[other] if text in shown] == []
