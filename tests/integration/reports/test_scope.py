"""Who reads which report: an official their commune only, an agency lead their agency,
a coordinator their province, cadres none; and the figures of a small programme."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from server.db import db
from server.models import SupportSource
from server.models.programme import Pair
from server.services.programme import agencies
from server.services.programme import units as admin_units
from tests.integration.helpers import basic
from tests.integration.programme import world
from tests.integration.reports.ledger import add_entries, entry, lay_catalogue
from tests.integration.web.site import SiteClient

DAY = dt.date(2026, 3, 10)


@pytest.fixture
def programme(app):
    with app.app_context():
        found = world.build()
        kinds = lay_catalogue()
        a, a2, b = found.household_a, found.household_a2, found.household_b
        add_entries(
            [
                entry(kinds["rice"], DAY, SupportSource.AGENCY, household=a, quantity=10,
                      value_vnd=200_000, source_agency_id=found.agency.id),
                entry(kinds["rice"], DAY, SupportSource.CADRE, household=a, quantity=5,
                      value_vnd=100_000, source_user_id=found.cadre.id),
                entry(kinds["cash"], DAY + dt.timedelta(days=1), SupportSource.BUSINESS,
                      household=a2, quantity=1_000_000, value_vnd=1_000_000),
                entry(kinds["books"], DAY, SupportSource.LOCAL_GOVERNMENT, household=b,
                      quantity=2, value_vnd=300_000, pupils=2),
                entry(kinds["cash"], dt.date(2025, 6, 1), SupportSource.AGENCY, household=b,
                      value_vnd=9_000_000),
            ]
        )  # fmt: skip
        db.session.add(Pair(household_id=a.id, helper_user_id=found.cadre.id,
                            starts_on=dt.date(2025, 1, 1)))  # fmt: skip
        commune_a = admin_units.find("11/03325")
        agencies.assign(found.agency, commune_a, "poor", starts_on=dt.date(2026, 1, 1))
        db.session.commit()
        ids = {
            "province": admin_units.find("11").id,
            "a": commune_a.id,
            "b": admin_units.find("11/03316").id,
            "agency": found.agency.id,
        }
    return ids


def _get(client, user, **params):
    return client.get("/api/v1/reports", query_string=params, headers=basic(user))


def _figures(body) -> dict:
    return {f["key"]: f["value"] for f in body["figures"]}


def test_a_coordinator_reads_the_province_with_its_communes(client, programme):
    got = _get(client, "coordinator", level="province", unit=programme["province"], year=2026)
    assert got.status_code == 200, got.json
    figures = _figures(got.json)
    assert figures["helped"] == 3
    assert figures["household_times"] == 3
    assert figures["assigned"] == 1
    assert figures["support"] == 600_000  # the programme's own; the business apart
    assert figures["mobilised"] == 1_000_000
    assert figures["pupils"] == 2
    english = _get(client, "coordinator", level="province", unit=programme["province"],
                   year=2026, lang="en").json  # fmt: skip
    assert english["figures"][1]["label"] == "Households helped"
    assert english["tables"][1]["columns"][0]["label"] == "Kind of support"
    children = {c["name"]: c for c in got.json["children"]}
    assert sorted(c["helped"] for c in children.values()) == [1, 2]


def test_an_official_reads_their_commune_and_not_another(client, programme):
    mine = _get(client, "official.a", level="commune", unit=programme["a"], year=2026)
    assert mine.status_code == 200
    assert _figures(mine.json)["helped"] == 2
    other = _get(client, "official.a", level="commune", unit=programme["b"], year=2026)
    assert other.status_code == 403
    assert other.json["code"] == "403.51"
    province = _get(client, "official.a", level="province", unit=programme["province"])
    assert province.status_code == 403


def test_cadres_read_no_report_and_unknown_units_are_told(client, programme):
    got = _get(client, "cadre", level="commune", unit=programme["a"])
    assert (got.status_code, got.json["code"]) == (403, "403.50")
    got = _get(client, "admin", level="commune", unit=999_999)
    assert (got.status_code, got.json["code"]) == (404, "404.50")
    got = _get(client, "admin", level="district", unit=programme["a"])
    assert (got.status_code, got.json["code"]) == (400, "400.54")
    got = _get(client, "admin", level="village", unit=programme["a"])
    assert (got.status_code, got.json["code"]) == (400, "400.53")


def test_an_agency_lead_reads_their_agency(client, programme):
    got = _get(client, "lead", level="agency", agency=programme["agency"], year=2026)
    assert got.status_code == 200, got.json
    assert "Sở Y tế" in got.json["title"]
    figures = _figures(got.json)
    # The agency's and its cadre's rice in commune A; not the business's cash nor commune B.
    assert (figures["helped"], figures["support"], figures["communes"]) == (1, 300_000, 1)
    other = _get(client, "official.a", level="agency", agency=programme["agency"])
    assert other.status_code == 403


def test_the_site_shows_the_report_with_vietnamese_numbers_and_drills_down(app, programme):
    browser = SiteClient(app)
    browser.sign_in("coordinator")
    page = browser.get(f"/reports?level=province&unit={programme['province']}&year=2026")
    assert page.status_code == 200, page.get_data(as_text=True)[:2000]
    body = page.get_data(as_text=True)
    assert 'id="reports-link"' in body
    assert re.search(r'data-figure="support">\s*<span class="value">600\.000 đ<', body)
    assert re.search(r'data-figure="mobilised">\s*<span class="value">1\.000\.000 đ<', body)
    assert f'href="/exports/report.xlsx?level=province&amp;unit={programme["province"]}' in body
    commune = re.search(
        r'<a href="(/reports\?level=commune&amp;unit=\d+[^"]*)">Xã Mường Phăng', body
    )
    drilled = browser.get(commune.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert re.search(r'data-figure="helped">\s*<span class="value">2<', drilled)
    printed = browser.get(f"/reports/print?level=commune&unit={programme['a']}&year=2026")
    assert printed.status_code == 200 and "@page" not in printed.get_data(as_text=True)
    assert 'id="reports-link"' not in printed.get_data(as_text=True)  # no navigation


def test_the_records_behind_a_figure_are_listed(app, programme):
    browser = SiteClient(app)
    browser.sign_in("official.a")
    page = browser.get(
        f"/reports/records?figure=helped&level=commune&unit={programme['a']}&year=2026"
    )
    body = page.get_data(as_text=True)
    assert page.status_code == 200, body[:2000]
    assert "Lò Văn Một" in body and "Lò Thị Hai" in body and "Quàng Văn Ba" not in body
    api = app.test_client().get(
        "/api/v1/reports/records",
        query_string={"figure": "support", "level": "commune", "unit": programme["a"],
                      "year": "2026", "source": "business"},
        headers=basic("official.a"),
    )  # fmt: skip
    assert api.status_code == 200, api.json
    rows = api.json["table"]["rows"]
    assert [r[5]["value"] for r in rows] == [1_000_000]
