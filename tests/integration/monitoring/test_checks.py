"""The checks that compare visits, households and agencies (`giupho monitoring check`): each
planted case flagged with its reason, the honest ones beside it not; a rerun writes nothing
twice. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from server.db import db
from server.models import Household
from server.models.monitoring import AgencyVisit, AgencyVisitPlan, MonitoringFlag
from server.services.access import users
from server.services.monitoring import runs
from server.services.programme import agencies, pairs
from server.services.programme import units as admin_units
from server.services.receiving import ingest
from tests.integration.monitoring.visits import (
    HOME,
    audit_csv,
    household,
    post,
    register,
    registration_xml,
    visit_xml,
)

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
TODAY = NOW.date()


def _visit(client, world, hid, start, where=HOME, seconds=1500, offset_ms=None, **answers):
    xml = visit_xml(hid, start, where=where, **answers)
    headers = {}
    files = [("audit.csv", audit_csv(start, seconds, (*where, 5)))] if where else []
    response = post(client, world, xml, *files, **headers)
    assert response.status_code == 201, response.data
    return response


def _flags(app, check):
    with app.app_context():
        return db.session.execute(
            sa.select(MonitoringFlag.subject_key, MonitoringFlag.params).where(
                MonitoringFlag.check == check
            )
        ).all()


def test_a_fast_run_from_one_place_is_flagged_and_neighbours_visited_in_turn_are_not(
    client, world, app
):
    start = NOW - dt.timedelta(hours=6)
    run = [register(client, world, (HOME[0] + i * 0.001, HOME[1])) for i in range(4)]
    for i, hid in enumerate(run):  # four households in 18 minutes, all from the first's door
        _visit(client, world, hid, start + dt.timedelta(minutes=6 * i), seconds=400)
    later = start + dt.timedelta(hours=3)
    neighbours = [register(client, world, (HOME[0], HOME[1] + i * 0.0003)) for i in range(4)]
    for i, hid in enumerate(neighbours):  # next door each time, 25 minutes apiece
        spot = (HOME[0], HOME[1] + i * 0.0003)
        _visit(client, world, hid, later + dt.timedelta(minutes=40 * i), where=spot)

    with app.app_context():
        runs.run_checks(None, TODAY)
    flagged = _flags(app, "fast_run")
    assert len(flagged) == 4
    assert {tuple(sorted(p)) for _, p in flagged} == {("count", "metres", "minutes")}
    assert all(p["count"] == 4 and p["minutes"] == 18 and p["metres"] == 50 for _, p in flagged)


def test_answers_copied_from_the_previous_visit_are_flagged_an_honest_revisit_is_not(
    client, world, app
):
    copied, revisited = register(client, world), register(client, world)
    first = NOW - dt.timedelta(days=20)
    for hid in (copied, revisited):
        _visit(client, world, hid, first)
    second = NOW - dt.timedelta(days=2)
    _visit(client, world, copied, second)  # the same answers again
    _visit(  # a week's honest revisit: new income, new plan, one more deprivation
        client, world, revisited, second, income_per_person="1700000",
        plan_agreed="Trồng thêm 200 cây cà phê.", q_telecom="no",
    )  # fmt: skip

    with app.app_context():
        runs.run_checks(None, TODAY)
    [(_key, params)] = _flags(app, "copied")
    # Every answer compared is the same; the household's own answers and computed values are
    # left out (about 20 of the shipped visit form's: what the cadre types, not the form).
    assert params["same"] == params["compared"] and 12 <= params["compared"] <= 30
    assert params["previous_date"] == (first + dt.timedelta(hours=7)).date().isoformat()


def test_a_household_not_visited_for_months_and_a_token_agency_are_flagged(ctx, world):
    commune = admin_units.find("11/03325")
    cadre = users.find("cadre_a")
    homes = db.session.scalars(sa.select(Household)).all()
    assert homes == []
    ids = []
    for _ in range(2):
        found = household()
        ingest.receive_xml(registration_xml(found), user=cadre)
        ids.append(found.id)
    neglected, visited = (db.session.get(Household, i) for i in ids)
    pairs.pair(neglected, cadre, 1, starts_on=TODAY - dt.timedelta(days=200))
    pairs.pair(visited, cadre, 2, starts_on=TODAY - dt.timedelta(days=200))
    ingest.receive_xml(visit_xml(visited.id, NOW - dt.timedelta(days=40)), user=cadre)
    token = agencies.create_agency("SO-TOKEN", "Sở Token", home_unit=commune.parent)
    honest = agencies.create_agency("SO-HONEST", "Sở Honest", home_unit=commune.parent)
    year = TODAY.year
    for agency, stays in ((token, [(1, 0.2)]), (honest, [(m, 2.0) for m in range(1, 13)])):
        db.session.add(
            AgencyVisitPlan(agency_id=agency.id, commune_id=commune.id, year=year,
                            visits_planned=12, days_planned=24)
        )  # fmt: skip
        for month, days in stays:
            if dt.date(year, month, 1) <= TODAY:
                db.session.add(
                    AgencyVisit(agency_id=agency.id, commune_id=commune.id, days=days,
                                visited_on=dt.date(year, month, 1), purpose="Thăm xã")
                )  # fmt: skip
    db.session.commit()

    runs.run_checks(commune.id, TODAY)

    [(key, params)] = _flags(ctx, "neglected")
    assert key == f"household:{neglected.id}:{TODAY:%Y-%m}"
    assert params == {
        "months": params["months"],
        "last_visit": (TODAY - dt.timedelta(days=200)).isoformat(),
    }
    assert params["months"] >= 6
    [(key, params)] = _flags(ctx, "token_agency")
    assert key == f"agency:{token.id}:{commune.id}:{year}"
    assert params == {"year": year, "visits": 1, "days": 0.2, "visits_planned": 12,
                      "days_planned": 24}  # fmt: skip
    first = db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringFlag))
    runs.run_checks(commune.id, TODAY)  # idempotent: nothing written twice
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringFlag)) == first
