"""The terminal questionnaire (`giupho-sync fill`) on the shipped visit form, in English:
households held locally stand in for the form's household list; the visit names the chosen
household and the version it started from (the base of H3 and of the rebase, C4)."""

from __future__ import annotations

import functools

from forms.library import VISIT_XLSX
from forms.load import load_form
from forms.validation import validate
from sync.client.fill import Questionnaire

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
