"""One transaction per service call: a change and its audit rows are stored together,
or not at all.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.db import db
from server.models import AdminUnit, AuditEvent
from server.services import transactional
from server.services.programme import units as admin_units


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_service_call_commits_its_change_with_its_audit_event(ctx):
    admin_units.import_province("11", ["03325"])
    db.session.rollback()  # nothing pending: what we count below was committed
    assert _count(AdminUnit) == 2
    assert db.session.scalars(sa.select(AuditEvent.action)).all() == ["units.import"]


def test_nested_calls_join_the_outer_transaction_and_fail_together(ctx):
    @transactional
    def import_then_fail():
        admin_units.import_province("11", ["03325"])  # would commit on its own
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        import_then_fail()
    assert _count(AdminUnit) == 0 and _count(AuditEvent) == 0
