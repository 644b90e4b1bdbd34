"""Batch work without a worker, on both databases (the in-process side of `server.jobs`):
a rebuild stopped between batches continues from its checkpoints with the same result;
the batched recheck opens exactly the cases one transaction opened, and a batch of many
households exactly those of one household at a time; held updates are
released batch by batch; exports run in a thread of the process that asks."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from server.cli import main
from server.db import db
from server.models import DuplicateCase, Household
from server.services.duplicates import detection as dedup
from server.services.households import periodic
from server.services.households import rebuild as household_rebuild
from tests.integration.contract.drivers import DRIVERS
from tests.integration.contract.submissions import registration, visit
from tests.integration.helpers import bearer
from tests.integration.jobs.conftest import case_groups, rechecked_in_one_transaction


def test_the_recheck_in_batches_opens_the_cases_one_transaction_opens(
    app, households, client, monkeypatch
):
    tablet = DRIVERS["json"](client, households.world.tokens["cadre_a"])
    for name in ("Hoàng Văn Thủy", "Huynh Van Thuy", "Hoàng Văn Thuỷ"):
        assert tablet.submit(registration(head_name=name, head__phone="0912000111")).status == 201
    with app.app_context():
        db.session.execute(sa.delete(DuplicateCase))
        db.session.commit()
        monkeypatch.setattr(dedup, "RECHECK_BATCH", 1)  # one household at a time
        expected = rechecked_in_one_transaction()
        assert len(expected) >= 2
        monkeypatch.setattr(dedup, "RECHECK_BATCH", 200)  # all 23 households in one batch
        assert rechecked_in_one_transaction() == expected
        monkeypatch.setattr(dedup, "RECHECK_BATCH", 2)  # 23 households: 12 transactions
        opened = periodic.recheck(1.0)
        assert case_groups() == expected and opened == len(expected)
        assert periodic.recheck(1.0) == 0  # never opened twice


def test_held_updates_are_released_in_batches(app, households, client, monkeypatch):
    tablet = DRIVERS["json"](client, households.world.tokens["cadre_a"])
    orphans = [str(uuid.uuid4()) for _ in range(5)]  # visits whose registration never came
    for orphan in orphans:
        assert tablet.submit(visit(orphan, base_version=1, visited__hh_size="4")).status == 201
    app.config["HOLD_TIMEOUT_HOURS"] = 0
    monkeypatch.setattr(periodic, "RELEASE_BATCH", 2)
    with app.app_context():
        assert periodic.release_in_batches() == 5
        made = [db.session.get(Household, o) for o in orphans]
        assert {(h.flag_reason, h.properties["hh_size"]) for h in made} == {("hold_timeout", "4")}
        assert periodic.release_in_batches() == 0


def test_a_stopped_rebuild_continues_from_its_checkpoints(app, households, runner):
    with app.app_context():
        for hid in (households.ids[1], households.ids[16]):
            row = db.session.get(Household, hid)
            row.properties = {**row.properties, "hh_size": "99"}
        db.session.commit()
        expected = {(d.household_id, d.field) for d in household_rebuild.rebuild()}
        assert len(expected) == 2
        todo = household_rebuild.begin(restart=True)
        assert household_rebuild._rebuild_batch(todo[1], 4) is not None  # then it stopped
        assert household_rebuild.progress().households == 4

    done = runner.invoke(main, ["households", "rebuild", "--batch", "3"])
    assert done.exit_code == 1 and "2 differences" in done.output, done.output
    printed = {tuple(line.split("\t")[:2]) for line in done.output.splitlines() if "\t" in line}
    assert printed == expected
    with app.app_context():
        assert household_rebuild.progress().households == len(households.ids)  # none twice
    again = runner.invoke(main, ["households", "rebuild", "--fix"])  # a finished run: anew
    assert again.exit_code == 0 and "2 differences (fixed)" in again.output, again.output
    clean = runner.invoke(main, ["households", "rebuild", "--restart"])
    assert clean.exit_code == 0 and clean.output.endswith("0 differences\n"), clean.output


def test_an_export_runs_in_a_thread_of_the_process_that_asks(app, households, client):
    from server import jobs

    headers = bearer(households.world.tokens["official_a"])
    asked = client.post("/api/v1/exports", headers=headers, json={"kind": "households"})
    assert asked.status_code == 202, asked.get_json()
    with app.app_context():
        runner_ = jobs.runner()
        assert runner_.kind == "inprocess"
        runner_.wait(timeout=60)
        assert runner_.depth() == {"todo": 0, "doing": 0}
    job = client.get(f"/api/v1/exports/{asked.get_json()['id']}", headers=headers).get_json()
    assert job["status"] == "done" and job["rows_done"] == 14, job
