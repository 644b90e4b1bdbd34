"""The review site as its users meet it (issue 20), in a real browser: no page a commune
official or a coordinator reaches is wider than a 390-pixel phone; money reads 2.500.000 đ;
the search box finds households however the name is typed, on SQLite and on PostgreSQL.
Phone-width screenshots go where `test_review_site.SCREENSHOTS` says."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from server import create_app
from tests.browser.conftest import LiveSite, chromium_path
from tests.browser.test_review_site import SCREENSHOTS
from tests.integration.database import drop_postgres_schema, make_postgres_schema
from tests.integration.helpers import PASSWORD
from tests.integration.live import LiveServer, prepare_database
from tests.integration.web.site import populate_full_site

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _pages_without_arguments() -> list[str]:
    """Every GET page of the site that takes no argument, from the route map: a page added
    later is measured too."""
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "route-map"},
        instance_path=tempfile.mkdtemp(prefix="giupho-phone-routes-"),
    )
    skip = {"web.static", "web.sign_out", "web.set_language", "web.home", "web.sign_in"}
    found = set()
    for rule in app.url_map.iter_rules():
        page = rule.endpoint.startswith("web.") and "GET" in rule.methods and not rule.arguments
        if page and rule.endpoint not in skip:
            found.add(rule.rule)
    return sorted(found)


def _phone_page(browser, url: str, username: str):
    context = browser.new_context(viewport=PHONE, locale="vi-VN")
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(f"{url}/signin")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.stack button.primary")
    page.wait_for_load_state()
    return context, page


#: The elements reaching past the screen's right edge, for the failure message.
_WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 391)
  .slice(0, 3).map(e => e.tagName + '.' + e.className + '#' + e.id)"""


def _too_wide(page, url: str, paths: list[str]) -> dict[str, tuple]:
    wide = {}
    for path in paths:
        answer = page.goto(f"{url}{path}")
        if (
            answer is None
            or answer.status >= 400
            or "html" not in answer.headers.get("content-type", "")
        ):
            continue  # a refusal or a file: nothing laid out for this user
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide[path] = (width, page.evaluate(_WIDEST))
    return wide


def test_no_page_an_official_or_a_coordinator_reaches_is_wider_than_a_phone(
    live_full_site: LiveSite, browser
):
    url, site = live_full_site.url, live_full_site.site
    cases = site.cases
    records = [
        f"/review/households/{cases.conflicted}",
        f"/review/households/{cases.exited}",
        f"/review/submissions/{site.a[0]}",
        f"/review/duplicates/{cases.case_id}",
        f"/review/quarantine/{site.quarantine_id}",
        f"/reports?level=commune&unit={site.commune_a_id}",
    ]
    everywhere = _pages_without_arguments()
    assert "/review/households" in everywhere and "/review/exits" in everywhere
    for username in ("official_a", "coordinator"):
        context, page = _phone_page(browser, url, username)
        try:
            assert _too_wide(page, url, everywhere + records) == {}, username
            if username == "official_a":
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.goto(f"{url}/review/households/{cases.exited}")
                page.screenshot(path=str(SCREENSHOTS / "household-phone.png"), full_page=True)
                page.goto(f"{url}/review/submissions")
                page.screenshot(path=str(SCREENSHOTS / "queue-phone.png"), full_page=True)
        finally:
            context.close()


def test_money_reads_as_officials_write_it(live_full_site: LiveSite, browser):
    url, cases = live_full_site.url, live_full_site.site.cases
    context, page = _phone_page(browser, url, "official_a")
    try:
        page.goto(f"{url}/review/households/{cases.exited}")
        expect(page.locator("#support")).to_contain_text("6.000.000 đ")
        income = page.locator('#record tr[data-property="income_per_person"]')
        expect(income).to_contain_text("4.500.000 đ")
        assert not re.search(r"\b4500000\b", income.inner_text())
    finally:
        context.close()


def _search(page, url: str, typed: str) -> list[str]:
    page.goto(f"{url}/review/households")
    page.fill("input[name=q]", typed)
    page.locator("input[name=q]").press("Enter")
    page.wait_for_load_state()
    return page.locator("#households tbody tr[data-household]").evaluate_all(
        "rows => rows.map(r => r.dataset.household)"
    )


def _search_everywhere(live: LiveSite, browser) -> None:
    url, cases = live.url, live.site.cases
    context, page = _phone_page(browser, url, "official_a")
    try:
        home = cases.conflicted  # Lường Văn Bốn, phone 0987000111
        for typed in ("luong van bon", "LƯỜNG VĂN BỐN", "Lường văn bốn", "0987 000 111"):
            assert _search(page, url, typed) == [home], typed
        assert sorted(_search(page, url, "ca van nam")) == sorted(cases.twins)
        assert _search(page, url, "Sùng A Páo") == []
    finally:
        context.close()


def test_search_ignores_accents_and_case_on_sqlite(live_full_site: LiveSite, browser):
    _search_everywhere(live_full_site, browser)


@pytest.fixture(scope="module")
def live_full_site_postgres(tmp_path_factory) -> Iterator[LiveSite]:
    """The same world served from PostgreSQL (a schema of GIUPHO_TEST_POSTGRES_URL)."""
    chromium_path()
    schema, url = make_postgres_schema("giupho_browser")
    instance = tmp_path_factory.mktemp("browser-postgres")
    try:
        site = prepare_database(url, instance, populate_full_site)
        with LiveServer(url, instance, workers=2) as server:
            yield LiveSite(server, site)
    finally:
        drop_postgres_schema(schema)


def test_search_ignores_accents_and_case_on_postgresql(live_full_site_postgres, browser):
    _search_everywhere(live_full_site_postgres, browser)


def test_the_household_page_shows_the_members_and_the_deprivation_checklist(
    live_full_site: LiveSite, page
):
    from forms.poverty import load_standards
    from tests.browser.test_review_site import sign_in

    url, cases = live_full_site.url, live_full_site.site.cases
    sign_in(page, url)
    page.goto(f"{url}/review/households/{cases.exited}")
    people = page.locator("#members tbody tr")
    expect(people).to_have_count(2)  # the head and the spouse of the registration
    expect(people.nth(0)).to_contain_text("Lò Thị Sáu")
    expect(people.nth(0)).to_contain_text("Chủ hộ")
    expect(people.nth(1)).to_contain_text("Lò Thị Hoa")
    assert "spouse" not in people.nth(1).inner_text()  # the relation in words
    standard = load_standards().get("vn-2022-2026")
    dimensions = page.locator("#deprivations [data-dimension]")
    expect(dimensions).to_have_count(len(standard.dimensions))
    expect(dimensions.nth(0).locator("h3")).to_have_text(standard.dimensions["employment"].vi)
    items = page.locator("#deprivations li")
    expect(items).to_have_count(len(standard.indicators))
    expect(items.filter(has_text="Không thiếu hụt")).not_to_have_count(0)
    assert page.locator("#deprivations").inner_text().count("Chưa đánh giá") == 0
