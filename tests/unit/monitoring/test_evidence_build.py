"""What a visit's answers give as evidence, and what a tablet's odd values leave empty (a
value that cannot be stored must never fail ingest)."""

from __future__ import annotations

import datetime as dt
import functools

from forms.library import VISIT_XLSX
from forms.load import load_form
from server.services.demo import households as demo_households
from server.services.monitoring import evidence

RECEIVED = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)


@functools.cache
def _model():
    return load_form(VISIT_XLSX)


def _answers(**meta):
    answers = demo_households.visit_answers(_model(), "h1", 1, income=1_500_000)
    answers.update(meta)
    return answers


def _build(answers, home="21.38 103.02 900 5"):
    return evidence.build(
        _model(), answers, {"geometry": home}, None, received_at=RECEIVED, clock_offset_seconds=None
    )


def test_odd_times_and_places_are_left_empty():
    row = _build(_answers(start="0001-01-01T00:00:00+14:00", end="tomorrow"), home="0 0")
    assert row["started_at"] is None and row["ended_at"] is None
    assert row["duration_seconds"] is None and row["distance_m"] is None


def test_an_end_before_the_start_gives_no_duration():
    row = _build(_answers(start="2026-11-30T10:00:00+07:00", end="2026-11-30T09:00:00+07:00"))
    assert row["started_at"] == dt.datetime(2026, 11, 30, 3, 0, tzinfo=dt.UTC)
    assert row["duration_seconds"] is None


def test_trivial_answers_are_not_compared():
    compared = _build(_answers())["details"]["answers"]
    assert not {"household", "area", "hh_size", "start", "today", "visit_location"} & set(compared)
    assert {"income_per_person", "plan_agreed", "q_latrine"} <= set(compared)


def _walked(model, answers) -> dict[str, str]:
    """The compared answers found the way they were before the plan: a field look-up per
    answer (the reference the plan must agree with)."""
    found: dict[str, str] = {}

    def walk(node, path: str) -> None:
        for key, value in node.items():
            if key == "meta" or key.startswith("@"):
                continue
            if isinstance(value, dict):
                walk(value, f"{path}/{key}")
                continue
            field = model.fields.get(f"{path}/{key}")
            if field is None or not isinstance(value, str) or key in evidence.TRIVIAL:
                continue
            if field.kind != "question" or field.control is None:
                continue
            if field.datatype not in evidence.UNCOMPARED_TYPES:
                found[key] = value.strip()

    walk(answers, model.root.path)
    return found


def test_the_compared_answers_plan_finds_what_a_walk_of_the_fields_finds():
    model = _model()
    answers = _answers()
    odd = {
        **answers,
        "unknown_group": {"income_per_person": "9"},  # not the form's: not compared
        "@id": "x",
        "plan_agreed": {"@lang": "vi", "#text": "yes"},  # a leaf with attributes
        "q_latrine": 3,  # not text
    }
    for case in (answers, odd):
        assert evidence.compared_answers(model, case) == _walked(model, case)


def test_a_new_form_version_gets_its_own_compared_answers_plan():
    first, second = load_form(VISIT_XLSX), load_form(VISIT_XLSX)
    assert first is not second
    answers = _answers()
    assert "plan_agreed" in evidence.compared_answers(first, answers)
    path = next(p for p in second.fields if p.endswith("/plan_agreed"))
    second.fields[path].datatype = "date"  # the next version asks for a date instead
    assert "plan_agreed" not in evidence.compared_answers(second, answers)
    assert "plan_agreed" in evidence.compared_answers(first, answers)
    assert evidence.compared_answers(second, answers) == _walked(second, answers)
