"""Acceptance (issue 15): the Tây Hòa situation, read back by kind and source from the report
API, the site and the XLSX export.

Tây Hòa after four years (2015-2018): agencies gave nearly 500 million đồng, 30 kg rice,
48 kg sugar and lent 49 million for livestock; communes gave 745 million, 1,009 kg rice,
97 sets of books, 1,075 notebooks, 59 sets of clothes, 17 bicycles and 40 workdays, helping
1,325 household-times (lượt hộ) and 796 pupils. The gifts are many entries, as the ledger
records them one by one, to 265 households registered through the sync API, over five days
of the phase; a gift of 2019 is outside it.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import pytest

from server.db import db
from server.models import Household, SupportSource
from server.services.programme import units as admin_units
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

AGENCY, COMMUNE = SupportSource.AGENCY, SupportSource.LOCAL_GOVERNMENT
HOUSEHOLDS = 265
DAYS = [dt.date(2015, 3, 1), dt.date(2016, 3, 1), dt.date(2017, 3, 1), dt.date(2018, 3, 1),
        dt.date(2018, 12, 1)]  # fmt: skip
#: (source, kind, count of entries, quantity each, value each, pupils each)
ENTRIES = [
    (AGENCY, "cash", 50, None, 10_000_000, None),
    (AGENCY, "rice", 3, 10, None, None),
    (AGENCY, "sugar", 4, 12, None, None),
    (AGENCY, "loan_capital", 7, None, 7_000_000, None),  # lent to raise cows
    (COMMUNE, "cash", 745, None, 1_000_000, None),
    (COMMUNE, "rice", 1, 9, None, None),
    (COMMUNE, "rice", 500, 2, None, None),
    (COMMUNE, "books", 97, 1, None, 1),
    (COMMUNE, "notebooks", 193, 5, None, 3),
    (COMMUNE, "notebooks", 22, 5, None, 2),
    (COMMUNE, "clothes", 59, 1, None, 1),
    (COMMUNE, "bicycle", 17, 1, None, 1),
    (COMMUNE, "workdays", 20, 2, None, None),
]
#: What the province published, by (source, kind): a quantity, or for money the VND.
PUBLISHED = {
    ("Cơ quan, đơn vị", "Tiền mặt"): 500_000_000,
    ("Cơ quan, đơn vị", "Gạo"): 30,
    ("Cơ quan, đơn vị", "Đường"): 48,
    ("Cơ quan, đơn vị", "Cho vay vốn"): 49_000_000,
    ("Cấp ủy, chính quyền địa phương", "Tiền mặt"): 745_000_000,
    ("Cấp ủy, chính quyền địa phương", "Gạo"): 1_009,
    ("Cấp ủy, chính quyền địa phương", "Bộ sách giáo khoa"): 97,
    ("Cấp ủy, chính quyền địa phương", "Vở viết"): 1_075,
    ("Cấp ủy, chính quyền địa phương", "Bộ quần áo"): 59,
    ("Cấp ủy, chính quyền địa phương", "Xe đạp"): 17,
    ("Cấp ủy, chính quyền địa phương", "Ngày công lao động"): 40,
}
HOUSEHOLD_TIMES, PUPILS = 1_325, 796


@pytest.fixture
def tay_hoa(app, client):
    with app.app_context():
        world = populate_world(publish_shipped_xforms)
    items, ids = [], []
    for n in range(HOUSEHOLDS):
        village = (FormPlaces.village_a1, FormPlaces.village_a2)[n % 2]
        hid, item = registration_item(n, village, "2015-01-10T08:00:00+07:00")
        ids.append(hid)
        items.append(item)
    push(client, world.tokens["cadre_a"], items)
    with app.app_context():
        kinds = lay_catalogue()
        households = [db.session.get(Household, hid) for hid in ids]
        rows, slot = [], 0
        for source, code, count, quantity, value, pupils in ENTRIES:
            for _ in range(count):
                # Slot s is household s % 265 on day s // 265: 1,325 household-times.
                where = slot % (HOUSEHOLDS * len(DAYS))
                household, day = households[where % HOUSEHOLDS], DAYS[where // HOUSEHOLDS]
                rows.append(entry(kinds[code], day, source, household=household,
                                  quantity=quantity, value_vnd=value, pupils=pupils))  # fmt: skip
                slot += 1
        rows.append(entry(kinds["rice"], dt.date(2019, 1, 2), COMMUNE, household=households[0],
                          quantity=100))  # fmt: skip
        add_entries(rows)
        db.session.commit()
        commune = admin_units.find(FormPlaces.commune_a).id
    assert slot >= HOUSEHOLDS * len(DAYS)  # the premise: every slot has a gift
    return f"level=commune&unit={commune}&phase=2015-2018"


def _amount(row: list) -> int | float:
    """A (source, kind) row's published amount: its quantity, or its value for money."""
    unit, quantity, value = row[2], row[3], row[4]
    return value if unit == "đồng" else quantity


def test_tay_hoa_support_by_kind_and_source_household_times_and_pupils(app, client, tay_hoa):
    got = client.get(f"/api/v1/reports?{tay_hoa}", headers=basic("official_a"))
    assert got.status_code == 200, got.json
    figures = {f["key"]: f["value"] for f in got.json["figures"]}
    assert (figures["household_times"], figures["pupils"]) == (HOUSEHOLD_TIMES, PUPILS)
    assert figures["helped"] == HOUSEHOLDS
    tables = {t["key"]: t for t in got.json["tables"]}
    rows = [[c["value"] for c in row] for row in tables["support_by_source_kind"]["rows"]]
    assert {(r[0], r[1]): _amount(r) for r in rows} == PUBLISHED
    assert figures["money"] == 500_000_000 + 49_000_000 + 745_000_000

    browser = SiteClient(app)
    browser.sign_in("official_a")
    body = browser.get(f"/reports?{tay_hoa}").get_data(as_text=True)
    shown = re.search(r'data-figure="household_times">\s*<span class="value">([^<]*)<', body)
    assert shown.group(1) == "1.325"
    table = body.split('id="table-support_by_source_kind"')[1].split("</table>")[0]
    cells = [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
        for tr in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]
    on_site = {(c[0], c[1]): (c[4] if c[2] == "đồng" else c[3]) for c in cells if c}
    assert on_site[("Cơ quan, đơn vị", "Tiền mặt")] == "500.000.000 đ"
    assert on_site[("Cấp ủy, chính quyền địa phương", "Vở viết")] == "1.075"
    assert on_site[("Cấp ủy, chính quyền địa phương", "Gạo")] == "1.009"
    assert len(on_site) == len(PUBLISHED)

    download = browser.get(f"/exports/report.xlsx?{tay_hoa}")
    assert download.status_code == 200, download.get_data(as_text=True)[:500]
    book = openpyxl.load_workbook(io.BytesIO(download.data), read_only=True)
    sheet = book["Hỗ trợ theo nguồn và loại"]
    in_file = {(r[0], r[1]): _amount(list(r)) for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert in_file == PUBLISHED
