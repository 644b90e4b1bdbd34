"""Agency stays in the communes (issue 16, 708/QĐ-UBND): recorded with clear errors, voided,
planned, and counted against the plan; each in the writer's scope."""

from __future__ import annotations

import sqlalchemy as sa

from server.db import db
from server.models import AuditEvent
from tests.integration.helpers import basic
from tests.integration.web.conftest import admin_site, browser_of, full_site, site  # noqa: F401

API = "/api/v1/monitoring"
STAY = {"agency": "DB-SNN", "commune": "11/03325", "visited_on": "2026-03-10", "days": 3,
        "people": 4, "names": "Lò Văn A, Quàng Thị B", "purpose": "Hướng dẫn trồng cà phê",
        "result": "20 hộ tham gia", "planned": True}  # fmt: skip


def test_an_official_records_a_stay_and_it_counts_against_the_plan(app, admin_site):  # noqa: F811
    client, a = app.test_client(), basic("official_a")
    plan = {"agency": "DB-SNN", "commune": "11/03325", "year": 2026, "visits_planned": 4,
            "days_planned": 12}  # fmt: skip
    assert client.post(f"{API}/agency-plans", headers=a, json=plan).status_code == 201
    made = client.post(f"{API}/agency-visits", headers=a, json=STAY)
    assert made.status_code == 201, made.get_json()
    plans = client.get(f"{API}/agency-plans?year=2026", headers=a).get_json()["plans"]
    # the fixture's half-day stay and this one
    assert [(p["visits_planned"], p["stays"], p["days"]) for p in plans] == [(4, 2, 3.5)]
    voided = client.post(f"{API}/agency-visits/{made.get_json()['id']}/void", headers=a,
                         json={"reason": "Ghi nhầm ngày"})  # fmt: skip
    assert voided.get_json()["void_reason"] == "Ghi nhầm ngày"
    again = client.post(f"{API}/agency-visits/{made.get_json()['id']}/void", headers=a,
                        json={"reason": "Lần nữa"})  # fmt: skip
    assert again.status_code == 409 and again.get_json()["code"] == "409.87"
    plans = client.get(f"{API}/agency-plans?year=2026", headers=a).get_json()["plans"]
    assert [(p["stays"], p["days"]) for p in plans] == [(1, 0.5)]
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.action.like("agency_visit.%"))
        ).all()
        assert sorted(actions) == ["agency_visit.plan", "agency_visit.record", "agency_visit.void"]
        db.session.remove()


def test_a_stay_with_wrong_values_says_what_to_fix(app, admin_site):  # noqa: F811
    client, a = app.test_client(), basic("official_a")
    en = a | {"Accept-Language": "en"}
    for change, words in (({"days": 0}, "days must be more than 0 and at most 366"),
                          ({"people": 0}, "people must be from 1 to 500"),
                          ({"visited_on": "2099-01-01"}, "the date is in the future"),
                          ({"purpose": "  "}, "purpose")):  # fmt: skip
        answer = client.post(f"{API}/agency-visits", headers=en, json=STAY | change)
        assert answer.status_code == 400, change
        assert answer.get_json()["code"] == "400.87" and words in answer.get_json()["message"]
    vi = client.post(f"{API}/agency-visits", headers=a, json=STAY | {"days": 0})
    assert "số ngày" in vi.get_json()["message"]


def test_another_communes_official_cannot_record_nor_see_stays(app, admin_site):  # noqa: F811
    client, b = app.test_client(), basic("official_b")
    refused = client.post(f"{API}/agency-visits", headers=b, json=STAY)
    assert refused.status_code in (403, 404)
    assert client.get(f"{API}/agency-visits", headers=b).get_json()["visits"] == []
    mine = client.get(f"{API}/agency-visits", headers=basic("official_a")).get_json()["visits"]
    assert [v["id"] for v in mine] == [admin_site.admin.stay_id]


def test_the_site_form_records_a_stay_or_flashes_what_is_wrong(app, admin_site, browser_of):  # noqa: F811
    official = browser_of("official_a")
    form = {"agency": "DB-SNN", "commune": str(admin_site.commune_a_id), "visited_on": "2026-04-01",
            "days": "0,5", "people": "2", "purpose": "Thăm hộ nghèo"}  # fmt: skip
    assert official.post("/monitoring/agency-visits", form).status_code == 302
    wrong = official.post("/monitoring/agency-visits", form | {"days": "0"})
    assert wrong.status_code == 302  # the browser follows to the page, which says why
    assert "số ngày phải lớn hơn 0" in official.followed
    page = official.get("/monitoring/agency-visits?year=2026").get_data(as_text=True)
    assert page.count("data-visit=") == 2 and "Thăm hộ nghèo" in page
