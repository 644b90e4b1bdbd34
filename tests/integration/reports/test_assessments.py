"""Escapes, escapes from near-poverty, certified escapes and re-poverty, read from the
households' assessments (versions that set `poverty_status`) dated in the period."""

from __future__ import annotations

import datetime as dt

import pytest

from server.db import db
from server.models import ExitDecision, HouseholdVersion, PovertyExit, SupportSource
from tests.integration.helpers import basic
from tests.integration.programme import world
from tests.integration.reports.ledger import add_entries, entry, lay_catalogue


def _at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day + "T10:00:00+07:00")


#: Each household's assessments (status, day) and what the 2026 report must count it as.
HISTORIES = {
    "escaped": [("poor", "2025-10-01"), ("near_poor", "2026-03-01")],
    "escaped_near": [("near_poor", "2025-10-01"), ("average", "2026-03-01")],
    "repoverty": [("poor", "2024-10-01"), ("average", "2025-10-01"), ("poor", "2026-06-01")],
    "newly_poor": [("near_poor", "2025-10-01"), ("poor", "2026-06-01")],
    "escaped_before": [("poor", "2024-10-01"), ("above", "2025-10-01")],
    "escaped_unhelped": [("poor", "2025-10-01"), ("average", "2026-03-01")],
}


@pytest.fixture
def assessed(app):
    with app.app_context():
        found = world.build()
        kinds = lay_catalogue()
        homes, rows = {}, []
        for n, (name, history) in enumerate(HISTORIES.items()):
            home = world.household("11/03325/01", f"Hộ {name}", f"MP-{n}")
            homes[name] = home
            for version, (status, day) in enumerate(history, start=1):
                db.session.add(HouseholdVersion(
                    household_id=home.id, version=version, created_at=_at(day),
                    changes={"poverty_status": status}, kind="submission",
                ))  # fmt: skip
            if name != "escaped_unhelped":
                rows.append(entry(kinds["rice"], dt.date(2026, 2, 1), SupportSource.CADRE,
                                  household=home, quantity=10))  # fmt: skip
        add_entries(rows)
        db.session.add(PovertyExit(
            household_id=homes["escaped"].id, version=2, commune_id=homes["escaped"].commune_id,
            from_status="poor", to_status="near_poor", transition="escaped_poverty",
            assessed_at=_at("2026-03-01"), decision=ExitDecision.CERTIFIED,
            decision_date=dt.date(2026, 4, 1), decided_by_id=found.official_a.id,
        ))  # fmt: skip
        db.session.commit()
        return {"commune": homes["escaped"].commune_id}


def test_each_change_of_status_is_counted_where_it_belongs(client, assessed):
    query = {"level": "commune", "unit": assessed["commune"], "year": "2026"}
    got = client.get("/api/v1/reports", query_string=query, headers=basic("official.a"))
    assert got.status_code == 200, got.json
    figures = {f["key"]: f["value"] for f in got.json["figures"]}
    assert figures["helped"] == 5
    assert figures["escaped"] == 1  # not the one escaped the year before, nor the unhelped
    assert figures["escaped_certified"] == 1
    assert figures["escaped_near"] == 1
    assert figures["repoverty"] == 1  # poor again after an escape; newly poor is not
    assert figures["escaped_share"] == pytest.approx(1 / 5)
    records = client.get(
        "/api/v1/reports/records",
        query_string=query | {"figure": "repoverty"},
        headers=basic("official.a"),
    ).json
    assert [row[0]["value"] for row in records["table"]["rows"]] == ["Hộ repoverty"]
    earlier = client.get(
        "/api/v1/reports", query_string=query | {"year": "2025"}, headers=basic("official.a")
    ).json
    assert {f["key"]: f["value"] for f in earlier["figures"]}["helped"] == 0
