"""The demo shows every kind of review work (issue 20, point 8): conflicts to resolve, exits to
certify, a quarantine item and possible duplicates, all made through ingest."""

from __future__ import annotations

import sqlalchemy as sa

from server.db import db
from server.models import CaseStatus, DuplicateCase, Household, QuarantineItem
from server.services.demo import seed


def test_the_demo_has_conflicts_exits_quarantine_and_duplicates(ctx):
    assert seed.seed_demo() is True

    def count(model, *where) -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))

    assert count(Household, Household.open_conflicts > 0) >= 2
    assert count(Household, Household.properties["poverty_status"].as_string() == "above") >= 2
    assert count(QuarantineItem) >= 1
    assert count(DuplicateCase, DuplicateCase.status == CaseStatus.OPEN) >= 1
