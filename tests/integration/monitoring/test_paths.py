"""Evidence on the other ingest paths (a JSON push batch of the sync API) and the operator
command `giupho monitoring check`."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from server.cli import main
from server.db import db
from server.models.monitoring import MonitoringFlag, VisitEvidence
from tests.integration.helpers import bearer
from tests.integration.monitoring.visits import HOME, post, register, visit_xml

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def test_a_push_batch_records_each_visit_s_evidence_with_its_clock_offset(client, world, app):
    homes = [register(client, world) for _ in range(2)]
    items = [
        {
            "xml": visit_xml(hid, NOW - dt.timedelta(hours=i + 1)).decode(),
            "device_time": NOW.isoformat(),
            "clock_offset_ms": 90_000,
        }
        for i, hid in enumerate(homes)
    ]
    response = client.post(
        "/api/v1/sync/push",
        data=json.dumps({"items": items}),
        headers={"Content-Type": "application/json", **bearer(world.tokens["cadre_a"])},
    )

    assert response.status_code == 200, response.data
    assert [r["result"] for r in response.get_json()["results"]] == ["accepted", "accepted"]
    with app.app_context():
        rows = db.session.scalars(sa.select(VisitEvidence)).all()
        assert sorted(r.household_id for r in rows) == sorted(homes)
        assert {r.clock_offset_seconds for r in rows} == {90.0}
        assert all(r.distance_m is not None and r.distance_m < 1 for r in rows)


def test_the_check_command_runs_for_a_commune_and_refuses_a_province(client, world, app):
    hid = register(client, world)
    start = NOW - dt.timedelta(hours=2)
    xml = visit_xml(hid, start, where=(HOME[0] + 0.01, HOME[1]))

    assert post(client, world, xml).status_code == 201
    runner = app.test_cli_runner()

    done = runner.invoke(main, ["monitoring", "--lang", "en", "check", "--commune", "03325"])
    assert done.exit_code == 0, done.output
    assert "1 commune(s), 1 visit(s) checked: 0 new flag(s)" in done.output  # far: at ingest

    refused = runner.invoke(main, ["monitoring", "--lang", "en", "check", "--commune", "11"])
    assert refused.exit_code == 1 and "is not one: give a commune's code" in refused.output
    unknown = runner.invoke(main, ["monitoring", "check", "--commune", "99999"])
    assert unknown.exit_code == 1
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(MonitoringFlag)
                .where(MonitoringFlag.check == "far")
            )
            == 1
        )
