"""Issue 18: a commune's annual review from its list to the commune's decision, through the
HTTP API and real submissions of the shipped forms; the per-year statuses it writes and the
transitions between years (newly poor, escaped, fell back); the XLSX lists."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
import sqlalchemy as sa

from forms.instance import to_xml
from server.db import db
from server.models import AuditEvent, HouseholdVersion, HouseholdYearStatus
from server.services.access import users
from server.services.programme import units as admin_units
from server.services.receiving import ingest
from server.services.reviews import transitions
from tests.integration.contract.submissions import household_id, registration, visit
from tests.integration.helpers import basic
from tests.integration.live import populate_world, publish_shipped_xforms

#: Three deprivations (health insurance, adult education, latrine): poor under the line.
POOR = {"dim_health__q_no_health_insurance": "yes",
        "dim_education__q_adult_undereducated": "yes", "dim_water__q_latrine": "none"}  # fmt: skip


@pytest.fixture
def commune(app):
    """Điện Biên's commune A with three households registered by its cadre: one poor, one
    near-poor (under the line, no deprivation), one above (not on any list)."""
    with app.app_context():
        populate_world(publish_shipped_xforms)
        cadre = users.find("cadre_a")
        homes = {}
        for name, changes in (
            ("poor", POOR),
            ("near", {}),
            ("above", {"income__income_per_person": "6000000"}),
        ):
            form = registration(head_name=f"Lò Văn {name}", **changes)
            receipt = ingest.receive_xml(to_xml(form), user=cadre)
            assert receipt.result == "accepted", receipt.issues
            homes[name] = household_id(form)
        other = registration(head_name="Quàng Văn Khác", village="03316_01")
        ingest.receive_xml(to_xml(other), user=users.find("cadre_b"))
        homes["elsewhere"] = household_id(other)
        commune_id = admin_units.find("11/03325").id
        cadre_id = cadre.id
    return {"homes": homes, "commune": commune_id, "cadre": cadre_id}


def _visit(household: str, version: int, **changes: str) -> str:
    form = visit(household, base_version=version, **changes)
    receipt = ingest.receive_xml(to_xml(form), user=users.find("cadre_a"))
    assert receipt.result == "accepted", receipt.issues
    return form.child("meta").child("instanceID").text


def _post(client, path, body, who="official_a"):
    return client.post(f"/api/v1{path}", json=body, headers=basic(who))


def test_a_commune_runs_its_annual_review_from_list_to_decision(app, client, commune):
    homes = commune["homes"]
    opened = _post(client, "/reviews", {"commune_id": commune["commune"], "year": 2026})
    assert opened.status_code == 201, opened.json
    campaign = opened.json
    cid = campaign["id"]
    # The list is built from data: the poor and near-poor households, not the one above.
    listed = {e["household_id"]: e["reason"] for e in campaign["entries"]}
    assert listed == {homes["poor"]: "poor", homes["near"]: "near_poor"}
    assert (campaign["opens_on"], campaign["closes_on"]) == ("2026-09-01", "2026-12-14")

    # An applicant joins; a household of another commune cannot.
    added = _post(client, f"/reviews/{cid}/households", {"household_id": homes["above"]})
    assert added.status_code == 201 and added.json["reason"] == "applicant"
    outside = _post(client, f"/reviews/{cid}/households", {"household_id": homes["elsewhere"]})
    assert outside.status_code == 400 and outside.json["code"] == "400.97"

    # The cadre reviews all three; a coordinator reads but does not run the campaign.
    everyone = [homes["poor"], homes["near"], homes["above"]]
    body = {"reviewer_id": commune["cadre"], "household_ids": everyone}
    assert _post(client, f"/reviews/{cid}/reviewers", body, "coordinator").status_code == 403
    assert _post(client, f"/reviews/{cid}/reviewers", body).json == {"assigned": 3}
    mine = client.get(f"/api/v1/reviews/{cid}", headers=basic("cadre_a")).json
    assert {e["household_id"] for e in mine["entries"]} == set(everyone)
    assert client.get(f"/api/v1/reviews/{cid}", headers=basic("cadre_b")).status_code == 404

    # The meeting cannot come before every household is assessed, nor a decision before it.
    early = _post(client, f"/reviews/{cid}/meeting", {"date": "2026-11-01", "attendance": 40})
    assert early.status_code == 409 and early.json["code"] == "409.97"
    too_soon = _post(client, f"/reviews/{cid}/decision", {"number": "1/QĐ", "date": "2026-12-01"})
    assert too_soon.status_code == 409 and too_soon.json["code"] == "409.96"

    # The assessments are the cadre's visits (real submissions): the poor household escapes
    # to near-poor, the near-poor one stays, the applicant falls into poverty.
    with app.app_context():
        sent = {
            homes["poor"]: _visit(homes["poor"], 1),
            homes["near"]: _visit(homes["near"], 1, income__income_per_person="1300000"),
            homes["above"]: _visit(homes["above"], 1, **POOR),
        }
    for household, instance in sent.items():
        got = _post(client, f"/reviews/{cid}/households/{household}/assessment",
                    {"instance_id": instance}, "cadre_a")  # fmt: skip
        assert got.status_code == 200, got.json
    shown = client.get(f"/api/v1/reviews/{cid}", headers=basic("official_a")).json
    assessed = {e["household_id"]: e["assessed_status"] for e in shown["entries"]}
    assert assessed == {homes["poor"]: "near_poor", homes["near"]: "near_poor",
                        homes["above"]: "poor"}  # fmt: skip
    assert sum(v["assessed"] for v in shown["progress"]) == 3

    # The meeting agrees all but the near-poor household, which it finds poor.
    met = _post(
        client,
        f"/reviews/{cid}/meeting",
        {"date": "2026-11-10", "attendance": 42, "disagreed": {homes["near"]: "poor"}},
    )
    assert met.status_code == 200, met.json
    before = _post(client, f"/reviews/{cid}/proposal", {"date": "2026-11-01"})
    assert before.status_code == 400 and before.json["code"] == "400.96"
    assert _post(client, f"/reviews/{cid}/proposal", {"date": "2026-11-15"}).status_code == 200
    decided = _post(client, f"/reviews/{cid}/decision",
                    {"number": "215/QĐ-UBND", "date": "2026-12-10"})  # fmt: skip
    assert decided.status_code == 200, decided.json
    assert decided.json["stage"] == "decided"
    again = _post(client, f"/reviews/{cid}/households", {"household_id": homes["above"]})
    assert again.json["code"] == "409.98"

    with app.app_context():
        rows = db.session.scalars(sa.select(HouseholdYearStatus)).all()
        got = {r.household_id: (r.year, r.status, r.effective_from, r.effective_to) for r in rows}
        day = dt.date(2026, 12, 10)
        assert got == {homes["poor"]: (2026, "near_poor", day, None),
                       homes["near"]: (2026, "poor", day, None),
                       homes["above"]: (2026, "poor", day, None)}  # fmt: skip
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.action.like("review.%"))
        ).all()
        assert {"review.open", "review.meeting", "review.propose", "review.decide"} <= set(actions)

    # The lists as XLSX, Vietnamese headers intact.
    xlsx = client.get(f"/api/v1/reviews/{cid}/lists.xlsx", headers=basic("coordinator"))
    assert xlsx.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    first = book.worksheets[0]
    header = [c.value for c in next(first.iter_rows(max_row=1))]
    assert header[:4] == ["STT", "Họ và tên chủ hộ", "Mã hộ", "Thôn, bản"]
    assert [r[0] for r in first.iter_rows(min_row=2, values_only=True)] == [1, 2, 3]
    summary = [c.value for c in next(book.worksheets[1].iter_rows(max_row=1))]
    assert "Hộ thoát nghèo" in summary and "Hộ tái nghèo, tái cận nghèo" in summary


def _year(household: str, commune_id: int, campaign_id: int, year: int, status: str) -> None:
    db.session.add(HouseholdYearStatus(
        household_id=household, year=year, status=status, commune_id=commune_id,
        effective_from=dt.date(year, 12, 10), campaign_id=campaign_id))  # fmt: skip


@pytest.mark.parametrize(
    "history, expected",
    [
        (["poor"], "newly_poor"),
        (["near_poor"], "newly_near_poor"),
        (["poor", "near_poor"], "poor_to_near_poor"),
        (["near_poor", "poor"], "near_poor_to_poor"),
        (["poor", "average"], "escaped_poor"),
        (["near_poor", "above"], "escaped_near_poor"),
        (["poor", "average", "poor"], "fell_back"),
        (["near_poor", "average", "near_poor"], "fell_back"),
        (["poor", "poor"], None),
        (["average", "average"], None),
    ],
)
def test_a_households_transition_compares_its_year_with_the_year_before(history, expected):
    assert transitions.transition(history) == expected


def test_two_years_of_reviews_count_escapes_and_falls_back_per_village(app, client, commune):
    """2026 decided by the review; in 2027 the poor household escapes and the near-poor one
    falls back after it had escaped (2025: near-poor, 2026: average)."""
    homes = commune["homes"]
    cid = _post(client, "/reviews", {"commune_id": commune["commune"], "year": 2027,
                                     "kind": "ongoing", "opens_on": "2027-01-01",
                                     "closes_on": "2027-12-31"}).json["id"]  # fmt: skip
    with app.app_context():
        c = commune["commune"]
        _year(homes["near"], c, cid, 2025, "near_poor")
        _year(homes["near"], c, cid, 2026, "average")
        _year(homes["near"], c, cid, 2027, "near_poor")
        _year(homes["poor"], c, cid, 2026, "poor")
        _year(homes["poor"], c, cid, 2027, "average")
        _year(homes["above"], c, cid, 2027, "poor")
        db.session.commit()
        assert transitions.totals([c], 2027) == {"fell_back": 1, "escaped_poor": 1,
                                                 "newly_poor": 1}  # fmt: skip
        assert transitions.totals([c], 2026) == {"escaped_near_poor": 1, "newly_poor": 1}
    report = client.get("/api/v1/reports", headers=basic("official_a"),
                        query_string={"level": "commune", "unit": commune["commune"],
                                      "year": "2027"}).json  # fmt: skip
    table = next(t for t in report["tables"] if t["key"] == "review_transitions")
    keys = [c["key"] for c in table["columns"]]
    total = {k: cell["value"] for k, cell in zip(keys, table["rows"][-1], strict=True)}
    assert (total["escaped_poor"], total["fell_back"], total["newly_poor"]) == (1, 1, 1)
    # Another commune's official does not see these households in their report.
    with app.app_context():
        other = admin_units.find("11/03316").id
    theirs = client.get(
        "/api/v1/reports",
        headers=basic("official_a"),
        query_string={"level": "commune", "unit": other, "year": "2027"},
    )
    assert theirs.status_code == 403


def test_the_assessment_is_the_version_a_submission_wrote_since_the_campaign_opened(
    app, client, commune
):
    homes = commune["homes"]
    cid = _post(client, "/reviews", {"commune_id": commune["commune"], "year": 2026}).json["id"]
    with app.app_context():  # the registration is older than the campaign: not its assessment
        db.session.execute(sa.update(HouseholdVersion).values(
            created_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC)))  # fmt: skip
        db.session.commit()
    missing = _post(client, f"/reviews/{cid}/households/{homes['poor']}/assessment", {})
    assert missing.status_code == 404 and missing.json["code"] == "404.97"
