"""A commune official runs the annual poverty review in a real browser (issue 18): opens the
campaign (its list built from the commune's households), sees the progress per village, is
told a decision cannot come before the village meeting, records the meeting, the proposal and
the decision once the households are assessed, and downloads the lists as XLSX."""

from __future__ import annotations

import openpyxl
import pytest
import requests
from playwright.sync_api import expect

from tests.browser.test_review_site import SCREENSHOTS, sign_in
from tests.integration.helpers import basic

pytestmark = pytest.mark.browser


def test_an_official_runs_the_annual_review_from_the_campaign_page(live_site, page, tmp_path):
    url, site = live_site.url, live_site.site
    sign_in(page, url)
    page.click("#reviews-link")
    expect(page.locator("h1")).to_contain_text("Rà soát hộ nghèo")
    page.fill("#open-campaign input[name=year]", "2026")
    page.click("#open-campaign button.primary")
    expect(page.locator(".flash.ok")).to_contain_text("Đã mở đợt rà soát")
    expect(page.locator("#stage")).to_have_text("đang rà soát")
    # Commune A's two registered households (near-poor), one in each of its two villages.
    expect(page.locator("#entries tbody tr")).to_have_count(2)
    expect(page.locator("#progress tbody tr")).to_have_count(2)
    campaign_id = page.url.rstrip("/").rsplit("/", 1)[1]

    page.fill("#decision-form input[name=number]", "215/QĐ-UBND")
    page.fill("#decision-form input[name=date]", "2026-12-10")
    page.click("#decision-form button.primary")
    expect(page.locator(".flash.error")).to_contain_text("ghi nhận cuộc họp thôn")
    expect(page.locator("#stage")).to_have_text("đang rà soát")

    for household in site.households_a:  # their registrations are their assessments
        got = requests.post(
            f"{url}/api/v1/reviews/{campaign_id}/households/{household}/assessment",
            json={}, headers=basic("official_a"), timeout=30,
        )  # fmt: skip
        assert got.status_code == 200, got.text
    page.reload()
    expect(page.locator("#progress tbody tr").first.locator("td").nth(2)).to_have_text("1")

    page.fill("#meeting-form input[name=date]", "2026-11-10")
    page.fill("#meeting-form input[name=attendance]", "42")
    page.click("#meeting-form button.primary")
    expect(page.locator("#stage")).to_have_text("đã họp thôn")
    expect(page.locator("#meeting")).to_contain_text("42 người dự")
    page.fill("#proposal-form input[name=date]", "2026-11-15")
    page.click("#proposal-form button.primary")
    expect(page.locator("#stage")).to_have_text("đã đề nghị danh sách")
    page.fill("#decision-form input[name=number]", "215/QĐ-UBND")
    page.fill("#decision-form input[name=date]", "2026-12-10")
    page.click("#decision-form button.primary")
    expect(page.locator("#stage")).to_have_text("đã quyết định")
    expect(page.locator("#decision")).to_contain_text("215/QĐ-UBND, 10/12/2026")
    expect(page.locator("#decision-form")).to_have_count(0)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "review-campaign.png"), full_page=True)

    with page.expect_download() as download:
        page.click("#lists-xlsx")
    path = tmp_path / "lists.xlsx"
    download.value.save_as(path)
    sheet = openpyxl.load_workbook(path).worksheets[0]
    assert [c.value for c in sheet[1]][:2] == ["STT", "Họ và tên chủ hộ"]
    assert {r[1] for r in sheet.iter_rows(min_row=2, values_only=True)} == {
        "Lò Văn Một", "Quàng Thị Hai"}  # fmt: skip
