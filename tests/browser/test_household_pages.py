"""A commune official uses the household pages in a real browser: resolves a conflict from the
household page, merges a possible duplicate choosing a value per property and undoes it, and
certifies a poverty exit. Screenshots of the household page and of the duplicate comparison go
where `test_review_site.SCREENSHOTS` says (docs/screenshots/ with GIUPHO_UPDATE_SCREENSHOTS=1;
the README shows the comparison)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_review_site import SCREENSHOTS, sign_in

pytestmark = pytest.mark.browser


def test_an_official_resolves_a_conflict_from_the_household_page(live_full_site, page):
    url, cases = live_full_site.url, live_full_site.site.cases
    sign_in(page, url)
    page.click('#waiting [data-kind="conflicts"] a')
    expect(page.locator("#households tbody tr")).to_have_count(1)
    page.click(f'#households tr[data-household="{cases.conflicted}"] a')
    conflict = page.locator('#conflicts fieldset[data-property="income_per_person"]')
    expect(conflict.locator(".side")).to_have_count(3)  # the two edits and the value before
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "household.png"), full_page=True)

    unchosen = conflict.locator("input[type=radio]:not(:checked)").first
    value = unchosen.get_attribute("value")
    unchosen.check()
    page.click("#conflicts button.primary")
    expect(page.locator(".flash.ok")).to_contain_text("Đã giải quyết mâu thuẫn")
    expect(page.locator("#conflicts")).to_have_count(0)
    money = f"{int(value):,}".replace(",", ".") + " đ"  # vi-VN: 1.300.000 đ
    expect(page.locator('#record tr[data-property="income_per_person"]')).to_contain_text(money)
    expect(page.locator("#versions")).to_contain_text("quyết định giải quyết mâu thuẫn")


def test_an_official_merges_a_duplicate_choosing_values_and_undoes_it(live_full_site, page):
    url, cases = live_full_site.url, live_full_site.site.cases
    kept, absorbed = cases.twins
    sign_in(page, url)
    page.click("nav >> text=Hộ trùng")
    page.click(f'#duplicates tr[data-case="{cases.case_id}"] a')
    expect(page.locator('#comparison tr[data-property="address"]')).to_have_class("differs")
    expect(page.locator("#breakdown")).to_contain_text("Họ tên chủ hộ")
    page.screenshot(path=str(SCREENSHOTS / "duplicate-comparison.png"), full_page=True)

    page.check(f'input[name=survivor][value="{kept}"]')
    page.check(f'input[name="keep:address"][value="{absorbed}"]')
    page.click("#merge")
    expect(page.locator("#case-state")).to_have_text("đã gộp")
    page.goto(f"{url}/review/households/{kept}")
    expect(page.locator('#record tr[data-property="address"]')).to_contain_text("Nhà số 5")

    page.goto(f"{url}/review/duplicates/{cases.case_id}")
    page.click("#undo")
    expect(page.locator("#case-state")).to_have_text("đang chờ xem xét")
    page.goto(f"{url}/review/households/{absorbed}")
    expect(page.locator("#record-status")).to_have_text("đang theo dõi")
    page.goto(f"{url}/review/households/{kept}")
    expect(page.locator('#record tr[data-property="address"]')).to_contain_text("Nhà số 3")


def test_an_official_certifies_a_poverty_exit(live_full_site, page):
    url, cases = live_full_site.url, live_full_site.site.cases
    sign_in(page, url)
    page.click('#waiting [data-kind="exits"] a')
    row = page.locator(f'#exits tr[data-household="{cases.exited}"]')
    expect(row).to_contain_text("thoát cận nghèo")
    day = row.locator("input[name=decision_date]")
    day.fill(day.get_attribute("max"))  # today, where the server is
    row.locator("button[value=certify]").click()
    expect(page.locator(".flash.ok")).to_contain_text("Đã công nhận thoát nghèo")
    expect(page.locator(f'#decided tr[data-household="{cases.exited}"]')).to_contain_text(
        "đã công nhận"
    )
    page.click("nav >> text=Tổng quan")
    expect(page.locator("#exits-certified .count")).to_have_text("1")
