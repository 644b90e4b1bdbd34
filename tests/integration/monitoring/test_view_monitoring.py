"""The monitoring view (issue 16): what officials see of flags and how they judge them.

Rows are written directly (`view_cases`): the checks that make them are tested elsewhere.
Runs on SQLite and PostgreSQL with the review site's world (commune A, official_a; commune
B, official_b; cadre_a).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.db import db
from server.models import AuditEvent
from server.models.monitoring import FlagState, MonitoringFlag
from tests.integration.helpers import basic
from tests.integration.monitoring.view_cases import evidence_of, flag_visit
from tests.integration.web.conftest import admin_site, browser_of, full_site, site  # noqa: F401

API = "/api/v1/monitoring"


@pytest.fixture
def flagged(app, admin_site):  # noqa: F811
    """Commune A's flag of `admin_site`, a second (far) flag on its other submission, and one
    short flag in commune B."""
    with app.app_context():
        far = flag_visit(admin_site.a[1], "far", metres=1234.5, max_metres=500)
        other = flag_visit(admin_site.b[0])
        ids = {"short": admin_site.admin.flag_id, "far": far.id, "b": other.id}
        db.session.remove()
    return ids


def _flag(app, flag_id: int) -> MonitoringFlag:
    with app.app_context():
        found = db.session.get(MonitoringFlag, flag_id)
        db.session.expunge(found)
        db.session.remove()
    return found


def test_overview_counts_visits_and_flags_per_commune_and_check(app, flagged):
    client = app.test_client()
    shown = client.get(f"{API}?year=2026&lang=en", headers=basic("official_a")).get_json()
    (row,) = shown["rows"]  # commune A only: commune B's flag is outside official_a's scope
    assert row["visits"] == 2 and row["flagged"] == 2 and row["flagged_rate"] == 1.0
    assert row["by_check"] == {"short": 1, "far": 1} and row["states"] == {"open": 2}
    assert shown["months"] == [{"month": "2026-06", "visits": 2, "flagged": 2}]
    by_cadre = client.get(f"{API}?year=2026&group=cadre", headers=basic("official_a"))
    assert [r["name"] for r in by_cadre.get_json()["rows"]] == ["Cadre_A"]
    empty = client.get(f"{API}?year=2025", headers=basic("official_a")).get_json()
    assert empty["rows"] == [] and empty["months"] == []


def test_another_communes_official_sees_nothing_of_yours(app, flagged):
    client = app.test_client()
    b = basic("official_b")
    listed = client.get(f"{API}/flags", headers=b).get_json()["flags"]
    assert [f["id"] for f in listed] == [flagged["b"]]
    assert client.get(f"{API}/flags/{flagged['short']}", headers=b).status_code == 404
    refused = client.post(f"{API}/flags/{flagged['short']}/decision", headers=b,
                          json={"decision": "dismiss", "comment": "Không phải xã tôi"})  # fmt: skip
    assert refused.status_code == 404 and refused.get_json()["code"] == "404.85"
    assert _flag(app, flagged["short"]).state == FlagState.OPEN
    page = client.get(f"{API}?year=2026", headers=b).get_json()
    assert [r["visits"] for r in page["rows"]] == [1]


def test_cadres_get_no_monitoring_view(app, flagged):
    client = app.test_client()
    for path in (API, f"{API}/flags", f"{API}/flags/{flagged['short']}"):
        answer = client.get(path, headers=basic("cadre_a"))
        assert answer.status_code == 403 and answer.get_json()["code"] == "403.85", path


def test_flags_filter_by_check_and_month_and_page(app, flagged):
    client = app.test_client()
    a = basic("official_a")
    far = client.get(f"{API}/flags?check=far&lang=en", headers=a).get_json()["flags"]
    assert [f["id"] for f in far] == [flagged["far"]]
    assert far[0]["reason"] == (
        "The visit was recorded 1,234.5 m from the household's known location (more than 500 m)."
    )
    assert client.get(f"{API}/flags?month=2026-07", headers=a).get_json()["flags"] == []
    first = client.get(f"{API}/flags?limit=1", headers=a).get_json()
    assert [f["id"] for f in first["flags"]] == [flagged["far"]]  # newest first
    second = client.get(f"{API}/flags?limit=1&after={first['next_after']}", headers=a)
    assert [f["id"] for f in second.get_json()["flags"]] == [flagged["short"]]
    wrong = client.get(f"{API}/flags?month=June", headers=a)
    assert wrong.status_code == 400


def test_reasons_read_in_vietnamese_with_vietnamese_numbers(app, flagged):
    shown = app.test_client().get(f"{API}/flags/{flagged['far']}", headers=basic("official_a"))
    assert "1.234,5 m" in shown.get_json()["reason"]
    assert shown.get_json()["reason"].startswith("Lần thăm")


def test_dismissing_needs_a_comment_and_is_audited(app, flagged):
    client = app.test_client()
    a, url = basic("official_a"), f"{API}/flags/{flagged['short']}/decision"
    bare = client.post(url, headers=a, json={"decision": "dismiss", "comment": "  "})
    assert bare.status_code == 400 and bare.get_json()["code"] == "400.85"
    done = client.post(url, headers=a, json={"decision": "dismiss", "comment": "Hộ ở gần"})
    assert done.status_code == 200 and done.get_json()["state"] == "dismissed"
    again = client.post(url, headers=a, json={"decision": "confirm", "comment": "Sai"})
    assert again.status_code == 409 and again.get_json()["code"] == "409.85"
    reopened = client.post(url, headers=a, json={"decision": "reopen", "comment": "Xem lại"})
    assert reopened.get_json()["state"] == "open"
    with app.app_context():
        events = db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.target_type == "monitoring_flags",
                   AuditEvent.target_id == str(flagged["short"]))
            .order_by(AuditEvent.id)
        ).all()  # fmt: skip
        assert [(e.action, e.details["comment"]) for e in events] == [
            ("monitoring.dismiss", "Hộ ở gần"),
            ("monitoring.reopen", "Xem lại"),
        ]
        db.session.remove()


def test_agency_leads_read_flags_but_do_not_judge(app, flagged, admin_site):  # noqa: F811
    client = app.test_client()
    answer = client.post(f"{API}/flags/{flagged['short']}/decision", headers=basic("lead_a"),
                         json={"decision": "dismiss", "comment": "Tốt"})  # fmt: skip
    assert answer.status_code in (403, 404)
    assert _flag(app, flagged["short"]).state == FlagState.OPEN


def test_the_flag_page_shows_the_evidence_and_links(app, flagged, browser_of):  # noqa: F811
    page = browser_of("official_a").get(f"/monitoring/flags/{flagged['far']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "1.234,5" in html and 'id="submission-link"' in html and 'id="evidence"' in html
    overview = browser_of("official_a").get("/monitoring?year=2026").get_data(as_text=True)
    assert f'data-flag="{flagged["far"]}"' in overview
    assert f'data-flag="{flagged["b"]}"' not in overview


def test_copied_flag_compares_the_previous_visits_answers(app, admin_site, browser_of):  # noqa: F811
    import datetime as dt

    with app.app_context():
        household = admin_site.households_a[0]
        evidence_of(admin_site.a[1], household_id=household,
                    started=dt.datetime(2026, 5, 1, 8, tzinfo=dt.UTC))  # fmt: skip
        db.session.commit()
        copied = flag_visit(admin_site.a[0], "copied", key="#c", household_id=household,
                            same=9, compared=10, previous_date="2026-05-01").id  # fmt: skip
        db.session.remove()
    html = browser_of("official_a").get(f"/monitoring/flags/{copied}").get_data(as_text=True)
    assert 'id="compared"' in html and "01/05/2026" in html


def test_site_dismissal_redirects_and_shows_the_comment(app, flagged, browser_of):  # noqa: F811
    official = browser_of("official_a")
    url = f"/monitoring/flags/{flagged['short']}/decision"
    empty = official.post(url, {"decision": "dismiss", "comment": ""})
    assert empty.status_code == 302 and _flag(app, flagged["short"]).state == FlagState.OPEN
    done = official.post(url, {"decision": "dismiss", "comment": "Đã gặp chủ hộ"})
    assert done.status_code == 302
    page = official.get(f"/monitoring/flags/{flagged['short']}").get_data(as_text=True)
    assert "Đã gặp chủ hộ" in page and 'data-state="dismissed"' in page


def test_the_summary_counts_per_commune_and_exports_the_same(app, flagged, browser_of):  # noqa: F811
    official = browser_of("official_a")
    page = official.get("/monitoring/summary?year=2026").get_data(as_text=True)
    assert 'id="monitoring_communes"' in page and "Số hộ chưa được thăm" in page
    csv = official.get("/monitoring/summary.csv?year=2026")
    assert csv.status_code == 200
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(csv.get_data())) as archive:
        text = "".join(archive.read(n).decode("utf-8-sig") for n in archive.namelist())
    # commune A: 2 visits, 2 households of which none visited (their evidence names none),
    # one short and one far flag, both open; commune B is official_b's
    assert "Mường Phăng,2," in text and "Lò Văn Một" not in text
    line = next(row for row in text.splitlines() if "Mường Phăng,2," in row)
    assert line.split("Mường Phăng,")[1].split(",")[4:6] == ["1", "1"], line  # short, far
    assert browser_of("cadre_a").get("/monitoring/summary").status_code == 403
