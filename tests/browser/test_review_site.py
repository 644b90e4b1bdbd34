"""A commune official uses the review site in a real browser: signs in, approves a
submission, returns one with a comment that the cadre's tablet receives at its next pull,
and switches between Vietnamese and English. Screenshots of the dashboard, the review
queue and a submission are taken; with GIUPHO_UPDATE_SCREENSHOTS=1 they replace those in
docs/screenshots/ (the README shows them), otherwise they go to a temporary folder, so a
test run leaves the checkout as it found it."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from tests.integration.helpers import PASSWORD, bearer

pytestmark = pytest.mark.browser

SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("GIUPHO_UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "giupho-screenshots"
)


def sign_in(page, url: str, username: str = "official_a") -> None:
    page.goto(f"{url}/review")
    expect(page.locator("h1")).to_have_text("Đăng nhập")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.stack button.primary")
    expect(page.locator("h1")).to_contain_text("Tổng quan")


def pulled_returns(url: str, token: str) -> list[dict]:
    """Every review_return change a fresh pull of the cadre's tablet gets."""
    found, cursor = [], None
    for _ in range(50):
        query = {"limit": 200} | ({"cursor": cursor} if cursor else {})
        page = requests.get(
            f"{url}/api/v1/sync/pull", params=query, headers=bearer(token), timeout=30
        ).json()
        found += [c for c in page["changes"] if c["kind"] == "review_return"]
        cursor = page["cursor"]
        if not page["has_more"]:
            return found
    raise AssertionError("the pull never ended")


def test_an_official_signs_in_approves_and_sees_the_dashboard_and_queue(live_site, page):
    url, site = live_site.url, live_site.site
    sign_in(page, url)
    expect(page.locator('#waiting [data-kind="received"] .count')).to_have_text(re.compile(r"\d"))
    expect(page.locator("#poverty")).to_contain_text("hộ cận nghèo")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)

    page.click("nav >> text=Hàng chờ duyệt")
    expect(page.locator("#queue tbody tr")).to_have_count(2)
    page.screenshot(path=str(SCREENSHOTS / "review-queue.png"), full_page=True)

    page.click(f'#queue tr[data-instance="{site.a[1]}"] a')
    expect(page.locator("#answers")).to_contain_text("Họ và tên chủ hộ")
    page.screenshot(path=str(SCREENSHOTS / "submission.png"))
    page.click("button[value=approve]")
    expect(page.locator("#state")).to_have_text("đã duyệt")
    expect(page.locator("#history")).to_contain_text("duyệt")


def test_a_returned_submission_reaches_the_cadres_tablet_at_the_next_pull(live_site, page):
    url, site = live_site.url, live_site.site
    token = site.world.tokens["cadre_a"]
    assert pulled_returns(url, token) == []
    sign_in(page, url)
    page.goto(f"{url}/review/submissions/{site.a[0]}")
    page.fill("textarea[name=comment]", "Ảnh nhà bị mờ, chụp lại giúp")
    page.click("button[value=return]")
    expect(page.locator("#state")).to_have_text("đã trả lại")

    (change,) = pulled_returns(url, token)
    assert (change["id"], change["op"]) == (site.a[0], "upsert")
    assert change["data"]["comment"] == "Ảnh nhà bị mờ, chụp lại giúp"
    assert pulled_returns(url, site.world.tokens["cadre_b"]) == []


def test_the_official_switches_between_vietnamese_and_english(live_site, page):
    url, site = live_site.url, live_site.site
    sign_in(page, url)
    page.goto(f"{url}/review/submissions/{site.a[0]}")
    expect(page.locator("button[value=approve]")).to_have_text("Duyệt")
    page.click("form.lang button[value=en]")
    expect(page.locator("button[value=approve]")).to_have_text("Approve")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#answers")).to_contain_text(re.compile("head", re.IGNORECASE))
    page.click("form.lang button[value=vi]")
    expect(page.locator("button[value=approve]")).to_have_text("Duyệt")
