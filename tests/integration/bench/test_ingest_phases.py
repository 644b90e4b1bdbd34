"""The benchmark hooks in `bench/` measure the real services and leave them as they were."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bench import ingest_phases
from server.db import db
from server.models import Submission
from server.services.access import users
from server.services.receiving import ingest
from tests.integration.openrosa.world import (
    household,
    registration_xml,
    world,  # noqa: F401 - fixture
)

pytestmark = pytest.mark.usefixtures("world")


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_benchmark_hook_counts_results_and_restores_the_ingest_functions(ctx):
    user = users.find("cadre_a")
    bodies = [registration_xml(household()) for _ in range(4)]
    original = ingest.insert_submission

    timing = ingest_phases.measure([*bodies, bodies[0]], user=user, per_transaction=2)

    assert timing.results == {"accepted": 4, "duplicate": 1} and timing.count == 5
    assert {"parse", "validate", "insert", "household"} <= set(timing.phases_ms)
    assert ingest.insert_submission is original and count(Submission) == 4
