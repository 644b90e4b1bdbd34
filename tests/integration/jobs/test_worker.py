"""Batch work on PostgreSQL's queue, run by real `giupho worker` processes: exports the API
defers, the household rebuild per commune (in parallel, and resumed after a worker was
killed in the middle), and the periodic duplicate recheck."""

from __future__ import annotations

import io
import time
import zipfile

import pytest
import sqlalchemy as sa

from forms.library import REGISTRATION_FORM_ID
from server import jobs
from server.db import db
from server.models import AuditEvent, DuplicateCase, Household, RebuildCheckpoint
from server.services.households import rebuild as household_rebuild
from tests.integration.contract.drivers import DRIVERS
from tests.integration.contract.submissions import registration
from tests.integration.helpers import bearer
from tests.integration.jobs.conftest import (
    STALLED_S,
    case_groups,
    giupho,
    rechecked_in_one_transaction,
    wait_for,
)

pytestmark = pytest.mark.postgres_only


def _tamper(app, household_ids: list[str]) -> None:
    """Change the live rows behind the submissions' back: what a rebuild must find."""
    with app.app_context():
        for hid in household_ids:
            row = db.session.get(Household, hid)
            row.properties = {**row.properties, "hh_size": "99"}
        db.session.commit()


def _differences(app) -> set[tuple[str, str]]:
    with app.app_context():
        return {(d.household_id, d.field) for d in household_rebuild.differences()}


def test_a_worker_process_makes_the_export_the_api_deferred(queue_app, households, workers, client):
    headers = bearer(households.world.tokens["official_a"])
    asked = client.post("/api/v1/exports", headers=headers,
                        json={"kind": "submissions", "form": REGISTRATION_FORM_ID})  # fmt: skip
    assert asked.status_code == 202, asked.get_json()
    with queue_app.app_context():
        assert jobs.runner().depth()["todo"] == 1  # on the queue: the web process runs nothing
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'giupho_jobs{runner="procrastinate",status="todo"} 1.0' in metrics

    workers()

    def finished():
        job = client.get(f"/api/v1/exports/{asked.get_json()['id']}", headers=headers).get_json()
        return job if job["status"] in ("done", "failed") else None

    done = wait_for(finished)
    assert done["status"] == "done" and done["rows_done"] == 14, done  # commune a's
    response = client.get(done["file_url"], headers=headers)
    with zipfile.ZipFile(io.BytesIO(response.data)) as zf:
        assert zf.read(f"{REGISTRATION_FORM_ID}.csv").count(b"\n") == 15  # header + 14
    assert _waiting(queue_app, "exports.run") == 0


def _waiting(app, task: str) -> int:
    """Jobs of `task` still queued or running (the periodic ones may come and go)."""
    with app.app_context():
        count = db.session.scalar(
            sa.text(
                "SELECT count(*) FROM procrastinate_jobs WHERE task_name = :task"
                " AND status IN ('todo', 'doing')"
            ),
            {"task": task},
        )
        db.session.rollback()
        return count


def test_two_workers_rebuild_by_commune_and_find_what_a_rebuild_in_process_finds(
    queue_app, households, workers
):
    _tamper(queue_app, [households.ids[2], households.ids[17]])  # one in each commune
    with queue_app.app_context():
        expected = {(d.household_id, d.field) for d in household_rebuild.rebuild()}
    assert expected == {(households.ids[2], "properties"), (households.ids[17], "properties")}

    workers("--concurrency", "2")
    done = giupho(queue_app, "households", "rebuild", "--batch", "4")
    assert done.returncode == 1, done.stderr  # differences found, as before
    assert "2 differences" in done.stdout and "communes queued" in done.stderr
    printed = {tuple(line.split("\t")[:2]) for line in done.stdout.splitlines() if "\t" in line}
    assert printed == expected == _differences(queue_app)
    with queue_app.app_context():
        checkpoints = db.session.scalars(sa.select(RebuildCheckpoint)).all()
        assert sum(c.households for c in checkpoints) == len(households.ids)
        assert all(c.finished_at is not None for c in checkpoints)


def _waiting_on_a_lock(app) -> bool:
    with app.app_context():
        waiting = db.session.scalar(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database() AND query ILIKE 'UPDATE households%'"
            )
        )
        db.session.rollback()
        return bool(waiting)


def test_a_rebuild_whose_worker_is_killed_resumes_from_its_checkpoint(
    queue_app, households, workers
):
    """The worker is killed while a batch waits (a household it must repair is locked):
    another worker takes the job again once the first is known dead, continues from the
    commune's checkpoint, and the run ends as an uninterrupted one (each household read
    once, each difference stored and repaired once)."""
    commune_a = sorted(households.ids[:14])
    locked, other = commune_a[7], households.ids[17]
    _tamper(queue_app, [commune_a[1], locked, other])
    with queue_app.app_context():
        expected = {(d.household_id, d.field) for d in household_rebuild.rebuild()}
        assert len(expected) == 3
        todo = household_rebuild.begin(fix=True, restart=True)
        for commune_key in todo:
            jobs.defer("households.rebuild_commune", commune_key=commune_key, batch_size=3)

    with queue_app.app_context():
        engine = db.engine
    lock = engine.connect()
    lock.execute(sa.text("SELECT id FROM households WHERE id = :id FOR UPDATE"), {"id": locked})
    first = workers()
    wait_for(lambda: _waiting_on_a_lock(queue_app))
    with queue_app.app_context():
        done_before = db.session.scalar(sa.select(sa.func.sum(RebuildCheckpoint.households)))
    first.kill()
    lock.rollback()
    lock.close()
    assert 0 < done_before < len(households.ids)  # it had committed batches, not all

    time.sleep(STALLED_S + 0.5)  # the dead worker's heartbeat is now stale
    workers()

    def finished():
        with queue_app.app_context():
            progress = household_rebuild.progress()
            db.session.rollback()
            return progress if progress.finished == progress.communes else None

    progress = wait_for(finished)
    assert progress.households == len(households.ids)  # resumed: nobody read twice
    assert _differences(queue_app) == expected
    with queue_app.app_context():
        fixes = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "household.rebuild_fix")
        )
        assert fixes == 3
        assert household_rebuild.rebuild() == []  # repaired: nothing differs any more


def test_the_periodic_recheck_runs_in_a_worker_and_opens_what_one_transaction_opened(
    queue_app, households, workers, client
):
    tablet = DRIVERS["json"](client, households.world.tokens["cadre_a"])
    for name in ("Hoàng Văn Thủy", "Huynh Van Thuy"):
        assert tablet.submit(registration(head_name=name, head__phone="0912000111")).status == 201
    with queue_app.app_context():
        db.session.execute(sa.delete(DuplicateCase))  # as if each registration missed the other
        db.session.commit()
        expected = rechecked_in_one_transaction()
        assert len(expected) >= 2  # the twins' case and the look-alikes' of the fixture
        jobs.defer("duplicates.recheck", hours=1.0)
    worker = workers("--once")
    worker.process.wait(timeout=120)
    with queue_app.app_context():
        assert case_groups() == expected
    assert _waiting(queue_app, "duplicates.recheck") == 0
