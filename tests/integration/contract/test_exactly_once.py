"""Exactly once under concurrency (R7) and atomic ingest (R8), over both protocols.

R7 here runs concurrent deliveries through the in-process app with one thread
per delivery (each its own request, session and database connection); the
multi-process version against gunicorn is `tests/integration/test_concurrency.py`.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from server.db import db
from server.models import AuditEvent, Change, QuarantineItem, Submission
from server.models.households import Household, HouseholdVersion
from server.services import audit
from server.services.receiving import store as ingest_store
from tests.integration.contract.drivers import DRIVERS
from tests.integration.contract.submissions import household_id, instance_id, registration

DELIVERIES = 8


def test_r7_concurrent_deliveries_of_one_submission_store_it_once(app, world, protocol, records):
    household = registration()
    start = threading.Barrier(DELIVERIES)
    outcomes = []

    def deliver() -> None:
        driver = DRIVERS[protocol](app.test_client(), world.tokens["cadre_a"])
        start.wait()
        outcomes.append(driver.submit(household))

    threads = [threading.Thread(target=deliver) for _ in range(DELIVERIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # One delivery stored it; every other one was told it is already there.
    assert sorted(o.status for o in outcomes) == [201] + [202] * (DELIVERIES - 1)
    assert len(records.submissions(instance_id(household))) == 1
    assert records.household(household_id(household)).version == 1
    assert records.count(HouseholdVersion) == 1


class DiskFull(RuntimeError):
    """The failure injected into the audit writer."""


@pytest.fixture
def broken_audit(monkeypatch):
    """Make the first audit write that follows the submission INSERT fail.

    Every audit writer is broken: `ingest_store.write_audit` and
    `ingest_store.insert_together` (the submission's own row, the latter with a
    visit's evidence) and `audit.record` (what the household effects log). The fake flushes
    what the transaction wrote so far and fails only once a submission row is in
    the database (inside the transaction), as a crash between two writes would.
    Requested after the world is populated, so only the request under test meets
    it. `failures` counts the failures; `undo()` mends it.
    """
    broken = SimpleNamespace(failures=0, undo=monkeypatch.undo)

    def breaking(real):
        def write(*args, **kwargs):
            db.session.flush()
            if db.session.scalar(sa.select(sa.func.count()).select_from(Submission)):
                broken.failures += 1
                raise DiskFull("disk full while writing the audit row")
            return real(*args, **kwargs)

        return write

    monkeypatch.setattr(audit, "record", breaking(audit.record))
    monkeypatch.setattr(ingest_store, "write_audit", breaking(ingest_store.write_audit))
    monkeypatch.setattr(ingest_store, "insert_together", breaking(ingest_store.insert_together))
    return broken


def _footprint(records) -> dict[str, int]:
    models = (Submission, QuarantineItem, Household, HouseholdVersion, Change, AuditEvent)
    return {model.__name__: records.count(model) for model in models}


def test_r8_atomic_a_failure_after_the_insert_leaves_nothing_and_the_retry_meets_r1(
    driver, records, broken_audit
):
    household = registration()
    before = _footprint(records)

    failed = driver.submit(household)

    # It failed once the submission row was written (a JSON push tries the batch's grouped
    # writes first, then the item alone: it fails in both).
    assert broken_audit.failures >= 1
    after = _footprint(records)
    if driver.name == "json":
        # A push item that fails for a reason that is not transient is kept in quarantine
        # as received (with its audit row) and answered with a final 400.14, so that it
        # does not stay on the tablet forever (issue 13, finding 1).
        assert (failed.status, failed.code) == (400, "400.14")
        assert after["QuarantineItem"] == before["QuarantineItem"] + 1
        after = after | {"QuarantineItem": before["QuarantineItem"]}
        after["AuditEvent"] -= 1
    else:
        assert failed.status >= 500  # Collect will retry
    assert after == before  # neither the submission nor any of its effects
    broken_audit.undo()
    retry = driver.submit(household)
    assert retry.status == 201 and retry.means("accepted")
    assert len(records.submissions(instance_id(household))) == 1
    assert records.household(household_id(household)).version == 1
