"""A province coordinator reads the programme's report in a real browser: opens the province
report from the menu, drills into a commune, sees its charts drawn by Chart.js, and downloads
the report as XLSX, which opens with openpyxl with its Vietnamese intact."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import openpyxl
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from server.db import db
from server.models import Household, SupportEntry, SupportKind, SupportSource
from server.services.programme import today
from tests.browser.conftest import LiveSite, chromium_path
from tests.browser.test_review_site import SCREENSHOTS, sign_in
from tests.integration.live import LiveServer, prepare_database
from tests.integration.web.site import Site, populate_site

pytestmark = pytest.mark.browser


def populate_with_support() -> Site:
    """The review site's world, with this year's help to commune A's two households (the
    support catalogue is the migration's)."""
    site = populate_site()
    kinds = {k.code: k for k in db.session.scalars(sa.select(SupportKind))}
    day = today().replace(day=1)
    for n, hid in enumerate(site.households_a):
        home = db.session.get(Household, hid)
        where = dict(household_id=hid, commune_id=home.commune_id, village_id=home.village_id)
        db.session.add_all(
            [
                SupportEntry(kind_id=kinds["cash"].id, unit="vnd", value_vnd=2_500_000,
                             given_on=day, source_type=SupportSource.AGENCY, **where),
                SupportEntry(kind_id=kinds["books"].id, unit="set", quantity=2 + n,
                             value_vnd=300_000, pupils=2, given_on=day - dt.timedelta(days=n),
                             source_type=SupportSource.LOCAL_GOVERNMENT, **where),
            ]
        )  # fmt: skip
    db.session.commit()
    return site


@pytest.fixture(scope="module")
def live_report_site(tmp_path_factory) -> Iterator[LiveSite]:
    chromium_path()
    instance = tmp_path_factory.mktemp("browser-reports")
    url = f"sqlite:///{instance / 'site.sqlite3'}"
    site = prepare_database(url, instance, populate_with_support)
    with LiveServer(url, instance, workers=2) as server:
        yield LiveSite(server, site)


def test_a_coordinator_drills_into_a_commune_sees_a_chart_and_downloads_the_xlsx(
    live_report_site, page, tmp_path
):
    url = live_report_site.url
    sign_in(page, url, "coordinator")
    page.click("#reports-link")
    expect(page.locator("#report-title")).to_contain_text("Điện Biên")
    expect(page.locator('[data-figure="helped"] .value')).to_have_text("2")
    expect(page.locator('[data-figure="support"] .value')).to_have_text("5.600.000 đ")

    page.click("#table-children a >> text=Mường Phăng")
    expect(page.locator("#report-title")).to_contain_text("Mường Phăng")
    expect(page.locator('[data-figure="household_times"] .value')).to_have_text("3")
    chart = page.locator("#chart-kinds")
    expect(chart).to_have_attribute("data-drawn", "true")
    drawn = chart.evaluate(
        "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }"
    )
    assert drawn > 1000, "the chart's canvas has nothing painted on it"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "report-commune.png"), full_page=True)

    with page.expect_download() as waiting:
        page.click("#download-xlsx")
    saved = tmp_path / "report.xlsx"
    waiting.value.save_as(saved)
    book = openpyxl.load_workbook(saved, read_only=True)
    assert "Hỗ trợ theo loại" in book.sheetnames
    rows = list(book["Hỗ trợ theo loại"].iter_rows(values_only=True))
    assert rows[0][:2] == ("Loại hỗ trợ", "Đơn vị tính")
    by_kind = {row[0]: row for row in rows[1:]}
    assert by_kind["Bộ sách giáo khoa"][2] == 5  # 2 + 3 sets, Vietnamese names intact
    assert by_kind["Tiền mặt"][3] == 5_000_000


def test_the_printable_page_fits_a4_without_navigation(live_report_site, page, tmp_path):
    url = live_report_site.url
    sign_in(page, url, "coordinator")
    page.click("#reports-link")
    page.click("#print-report")
    expect(page.locator("#report-title")).to_contain_text("Điện Biên")
    expect(page.locator("header.top")).to_have_count(0)
    expect(page.locator("#chart-children")).to_have_attribute("data-drawn", "true")
    page.emulate_media(media="print")
    page.screenshot(path=str(SCREENSHOTS / "report-print.png"), full_page=True)
    widest = page.evaluate(
        "Math.max(...[...document.querySelectorAll('table.report, canvas')]"
        ".map(e => e.getBoundingClientRect().right))"
    )
    body = page.evaluate("document.body.getBoundingClientRect().right")
    assert widest <= body + 1, "a table or chart runs past the page"
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF")
