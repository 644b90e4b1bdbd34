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
