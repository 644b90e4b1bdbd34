"""Issue 16's acceptance in a real browser: an official signs in, opens monitoring, opens a
flagged visit, reads its evidence and dismisses it with a comment; the dismissal is in the
audit with the comment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from server.db import db
from server.models import AuditEvent
from tests.browser.conftest import LiveSite, chromium_path
from tests.browser.test_review_site import sign_in
from tests.integration.database import build_app, dispose_app
from tests.integration.live import LiveServer, prepare_database
from tests.integration.monitoring.view_cases import flag_visit
from tests.integration.web.site import populate_site

pytestmark = pytest.mark.browser


def _flagged_site():
    site = populate_site()
    site.flag_id = flag_visit(site.a[0], "far", metres=1234.5, max_metres=500).id
    return site


@pytest.fixture(scope="module")
def live_flagged(tmp_path_factory) -> Iterator[tuple[LiveSite, str, str]]:
    """gunicorn on the review site's world with a flag on commune A's first visit."""
    chromium_path()
    instance = tmp_path_factory.mktemp("browser-monitoring")
    url = f"sqlite:///{instance / 'site.sqlite3'}"
    site = prepare_database(url, instance, _flagged_site)
    with LiveServer(url, instance, workers=2) as server:
        yield LiveSite(server, site), url, str(instance)


def _audit(url: str, instance: str, flag_id: int) -> list[tuple[str, str]]:
    app = build_app(url, instance)
    try:
        with app.app_context():
            events = db.session.scalars(
                sa.select(AuditEvent).where(
                    AuditEvent.target_type == "monitoring_flags",
                    AuditEvent.target_id == str(flag_id),
                )
            ).all()
            return [(e.action, e.details.get("comment")) for e in events]
    finally:
        dispose_app(app)


def test_an_official_dismisses_a_flagged_visit_with_a_comment(live_flagged, page):
    live, url, instance = live_flagged
    flag_id = live.site.flag_id
    sign_in(page, live.url)
    page.click("#monitoring-link")
    expect(page.locator("h1")).to_have_text("Giám sát các lần thăm hộ")
    expect(page.locator("#monitoring-rates tbody tr")).to_have_count(1)
    row = page.locator(f'#flags tr[data-flag="{flag_id}"]')
    expect(row).to_contain_text("1.234,5 m")  # the reason, with Vietnamese numbers
    row.locator("a").click()
    expect(page.locator("h1")).to_have_text("Xa nhà của hộ")
    expect(page.locator("#evidence")).to_contain_text("Khoảng cách đến hộ")
    expect(page.locator("#submission-link")).to_be_visible()

    page.click('#judgement button[value="dismiss"]')  # no comment: the browser asks for one
    expect(page.locator("#flag")).to_have_attribute("data-state", "open")
    page.fill("#judgement textarea[name=comment]", "Hộ ở nương, cán bộ gặp tại nương")
    page.click('#judgement button[value="dismiss"]')
    expect(page.locator(".flash.ok")).to_have_text("Đã bỏ qua cảnh báo.")
    expect(page.locator("#flag")).to_have_attribute("data-state", "dismissed")
    expect(page.locator("#flag-comment")).to_contain_text("Hộ ở nương")

    assert _audit(url, instance, flag_id) == [
        ("monitoring.dismiss", "Hộ ở nương, cán bộ gặp tại nương")
    ]
