"""Acceptance (issue 15): the Phú Yên situation, read from the report API, the site and the
XLSX export.

Phú Yên after one year: more than 3,000 poor households helped by cadres, about 15% of them
escaped poverty; help counted by source, with what businesses and donors gave "mobilised"
apart. Here: 3,000 households registered poor through the JSON sync API (batches, as
tablets send them), each given support in the year (ledger entries), and 450 of them
visited with an income that lifts them out of poverty (their visits' support repeat carries
their cadre's rice, which the ledger records). Decoys that must not count: a household that
escaped without help, a voided entry, an entry of the year before.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import time

import openpyxl
import pytest
import sqlalchemy as sa

from server.db import db
from server.models import Household, Submission, SupportEntry, SupportSource
from server.services.programme import units as admin_units
from tests.integration.contract.drivers import answers_item
from tests.integration.contract.submissions import visit
from tests.integration.helpers import basic
from tests.integration.live import FormPlaces, populate_world, publish_shipped_xforms
from tests.integration.reports.ledger import (
    add_entries,
    entry,
    lay_catalogue,
    push,
    registration_item,
)
from tests.integration.web.site import SiteClient

HELPED, ESCAPED = 3_000, 450
YEAR = 2026
DAY = dt.date(YEAR, 5, 20)
#: Answers that make a registered household poor: income under the line, 3 deprivations.
POOR = {
    "dim_employment__q_unemployed": "yes",
    "dim_health__q_child_malnourished": "yes",
    "dim_health__q_no_health_insurance": "yes",
}
#: Each household's help, by rule (so the expected totals are arithmetic, not the code's).
CADRE_RICE_VND = 200_000  # every household: 10 kg rice from its cadre
AGENCY_CASH_VND = 1_000_000  # every third household: cash from an agency
BUSINESS_CASH_VND = 5_000_000  # every tenth: cash a business was mobilised to give
DONOR_GIFT_VND = 500_000  # every 25th: a Tết gift from a donor
RICE_ITEM = {
    "support_kind": "rice",
    "support_quantity": "10",
    "support_value": str(CADRE_RICE_VND),
    "support_source": "cadre",
    "support_date": DAY.isoformat(),
}
EXPECTED_SOURCES = {
    "cadre": (0, 3_000 * CADRE_RICE_VND),
    "agency": (1_000 * AGENCY_CASH_VND, 0),
    "business": (300 * BUSINESS_CASH_VND, 0),
    "donor": (0, 120 * DONOR_GIFT_VND),
}  # source: (money, goods) in VND


@pytest.fixture
def phu_yen(app, client):
    """3,000 poor households registered in two communes (cadre_a's villages in commune A,
    cadre_b's in commune B), 450 of them visited out of poverty, and their support."""
    with app.app_context():
        world = populate_world(publish_shipped_xforms)
    villages = {
        "cadre_a": [FormPlaces.village_a1, FormPlaces.village_a2],
        "cadre_b": [FormPlaces.village_b1],
    }
    ids: list[str] = []
    started = time.perf_counter()
    by_cadre: dict[str, list[dict]] = {"cadre_a": [], "cadre_b": []}
    for n in range(HELPED + 1):  # the last one: escaped, never helped
        cadre = "cadre_a" if n % 3 else "cadre_b"
        village = villages[cadre][n % len(villages[cadre])]
        hid, item = registration_item(n, village, "2026-02-10T08:40:00+07:00", **POOR)
        ids.append(hid)
        by_cadre[cadre].append(item)
    for cadre, items in by_cadre.items():
        push(client, world.tokens[cadre], items)
    visits: dict[str, list[dict]] = {"cadre_a": [], "cadre_b": []}
    visited = list(range(0, HELPED, HELPED // ESCAPED))[:ESCAPED]
    for n in [*visited, HELPED]:
        cadre = "cadre_a" if n % 3 else "cadre_b"
        # The escaping visits carry the cadre's rice in the form's support repeat (the ledger
        # makes the entries); the never-helped household's visit carries none.
        support = [RICE_ITEM] if n < HELPED else []
        form = visit(ids[n], income__income_per_person="2500000", support=support)
        visits[cadre].append(answers_item(form, device_time="2026-11-02T09:00:00+07:00"))
    for cadre, items in visits.items():
        push(client, world.tokens[cadre], items)
    sent = time.perf_counter() - started

    with app.app_context():
        kinds = lay_catalogue()
        households = {h.id: h for h in db.session.scalars(sa.select(Household))}
        statuses = {h.properties.get("poverty_status") for h in households.values()}
        assert statuses == {"poor", "above"}, statuses  # the premise: poor, then lifted
        rows = []
        for n, hid in enumerate(ids[:HELPED]):
            h = households[hid]
            if n not in visited:  # the visited ones' rice came with their visit
                rows.append(entry(kinds["rice"], DAY, SupportSource.CADRE, household=h,
                                  quantity=10, value_vnd=CADRE_RICE_VND))  # fmt: skip
            if n % 3 == 0:
                rows.append(entry(kinds["cash"], DAY, SupportSource.AGENCY, household=h,
                                  value_vnd=AGENCY_CASH_VND))  # fmt: skip
            if n % 10 == 0:
                rows.append(entry(kinds["cash"], DAY, SupportSource.BUSINESS, household=h,
                                  value_vnd=BUSINESS_CASH_VND))  # fmt: skip
            if n % 25 == 0:
                rows.append(entry(kinds["tet_gift"], DAY, SupportSource.DONOR, household=h,
                                  quantity=1, value_vnd=DONOR_GIFT_VND))  # fmt: skip
        decoy = households[ids[HELPED]]
        rows.append(entry(kinds["cash"], DAY, SupportSource.AGENCY, household=decoy,
                          value_vnd=9_000_000, voided_at=dt.datetime.now(dt.UTC)))  # fmt: skip
        rows.append(entry(kinds["cash"], dt.date(YEAR - 1, 12, 31), SupportSource.AGENCY,
                          household=decoy, value_vnd=7_000_000))  # fmt: skip
        add_entries(rows)
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission)) == 3_452
        from_visits = sa.select(sa.func.count()).where(SupportEntry.submission_id.is_not(None))
        assert db.session.scalar(from_visits) == ESCAPED
        province = admin_units.find("11").id
    built = time.perf_counter() - started
    print(f"\nPhú Yên: {HELPED + 1} registrations + {ESCAPED + 1} visits pushed in {sent:.1f} s, "
          f"built in {built:.1f} s")  # fmt: skip
    return {"province": province, "query": f"level=province&unit={province}&year={YEAR}"}


def _figures(body: dict) -> dict:
    return {f["key"]: f["value"] for f in body["figures"]}


def test_phu_yen_3000_helped_450_escaped_15_percent_and_support_by_source(app, client, phu_yen):
    started = time.perf_counter()
    got = client.get(f"/api/v1/reports?{phu_yen['query']}", headers=basic("coordinator"))
    print(f"report read in {time.perf_counter() - started:.2f} s")
    assert got.status_code == 200, got.json
    figures = _figures(got.json)
    assert figures["helped"] == HELPED
    assert figures["household_times"] == HELPED  # all of a household's help on one day
    assert figures["escaped"] == ESCAPED
    assert figures["escaped_share"] == pytest.approx(0.15)
    assert figures["repoverty"] == 0
    assert figures["visits"] == ESCAPED + 1  # the never-helped household was visited too
    tables = {t["key"]: t for t in got.json["tables"]}
    by_source = {
        row[0]["value"]: (row[2]["value"], row[3]["value"])
        for row in tables["support_by_source"]["rows"]
    }
    names = {"Cán bộ, đảng viên": "cadre", "Cơ quan, đơn vị": "agency",
             "Doanh nghiệp (vận động)": "business", "Nhà hảo tâm (vận động)": "donor"}  # fmt: skip
    assert {names[k]: v for k, v in by_source.items()} == EXPECTED_SOURCES
    assert figures["support"] == 3_000 * CADRE_RICE_VND + 1_000 * AGENCY_CASH_VND
    assert figures["mobilised"] == 300 * BUSINESS_CASH_VND + 120 * DONOR_GIFT_VND
    children = {c["name"]: (c["helped"], c["escaped"]) for c in got.json["children"]}
    assert sum(h for h, _ in children.values()) == HELPED
    assert sum(e for _, e in children.values()) == ESCAPED

    # The records behind "escaped" are the 450 households, page by page.
    escaped, after = [], ""
    while after is not None:
        page = client.get(
            f"/api/v1/reports/records?figure=escaped&{phu_yen['query']}&limit=200&after={after}",
            headers=basic("coordinator"),
        )
        assert page.status_code == 200, page.json
        escaped += page.json["table"]["rows"]
        after = page.json["next_after"]
    assert len(escaped) == ESCAPED
    assert {row[3]["value"] for row in escaped} == {"above"}

    # The site shows the same numbers, as Vietnamese writes them.
    browser = SiteClient(app)
    browser.sign_in("coordinator")
    body = browser.get(f"/reports?{phu_yen['query']}").get_data(as_text=True)
    value = lambda key: re.search(  # noqa: E731 - a local reader of one figure
        rf'data-figure="{key}">\s*<span class="value">([^<]*)<', body
    ).group(1)
    assert (value("helped"), value("escaped"), value("escaped_share")) == ("3.000", "450", "15%")
    assert value("support") == "1.600.000.000 đ"
    assert value("mobilised") == "1.560.000.000 đ"

    # And the XLSX download of the page, opened as a reader opens it.
    download = browser.get(f"/exports/report.xlsx?{phu_yen['query']}")
    assert download.status_code == 200, download.get_data(as_text=True)[:500]
    book = openpyxl.load_workbook(io.BytesIO(download.data), read_only=True)
    headline = {
        row[0]: row[1] for row in book["Số liệu chính"].iter_rows(min_row=2, values_only=True)
    }
    assert headline["Hộ được giúp đỡ"] == HELPED
    assert headline["Hộ thoát nghèo (trong số hộ được giúp)"] == ESCAPED
    assert headline["Tỷ lệ thoát nghèo"] == pytest.approx(0.15)
    sheet = book["Hỗ trợ theo nguồn"]
    assert [c.value for c in next(sheet.iter_rows(max_row=1))][:4] == [
        "Nguồn", "Vận động", "Tiền (đồng)", "Hiện vật, dịch vụ (đồng)",
    ]  # fmt: skip
    in_file = {row[0]: (row[2], row[3]) for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert {names[k]: v for k, v in in_file.items()} == EXPECTED_SOURCES
