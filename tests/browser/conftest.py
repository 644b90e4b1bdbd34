"""Browser tests: headless Chromium (Debian's `chromium`, driven by Playwright) against a live
gunicorn server on 127.0.0.1.

Chromium is found at `GIUPHO_TEST_CHROMIUM` (set by `.ci/run`) or /usr/bin/chromium. Without
it the tests are skipped, unless GIUPHO_REQUIRE_ALL=1 (CI), where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.live import LiveServer, prepare_database
from tests.integration.web.site import Site, populate_full_site, populate_site

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


def chromium_path() -> str:
    path = os.environ.get("GIUPHO_TEST_CHROMIUM") or "/usr/bin/chromium"
    if not Path(path).exists():
        message = f"no Chromium at {path} (set GIUPHO_TEST_CHROMIUM)"
        if os.environ.get("GIUPHO_REQUIRE_ALL") == "1":
            pytest.fail(f"{message} but GIUPHO_REQUIRE_ALL=1: browser tests must run")
        pytest.skip(message)
    return path


class LiveSite:
    """A started server and the world it serves (`tests.integration.web.site.Site`)."""

    def __init__(self, server: LiveServer, site: Site) -> None:
        self.server, self.site = server, site

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def live_site(tmp_path_factory) -> Iterator[LiveSite]:
    """gunicorn (2 workers) on a SQLite file holding the review site's world."""
    chromium_path()
    instance = tmp_path_factory.mktemp("browser-instance")
    url = f"sqlite:///{instance / 'site.sqlite3'}"
    site = prepare_database(url, instance, populate_site)
    with LiveServer(url, instance, workers=2) as server:
        yield LiveSite(server, site)


@pytest.fixture(scope="module")
def live_full_site(tmp_path_factory) -> Iterator[LiveSite]:
    """gunicorn (2 workers) on the review site's world with the household pages' cases: a
    conflict, a possible duplicate and an exit (`Site.cases`)."""
    chromium_path()
    instance = tmp_path_factory.mktemp("browser-households")
    url = f"sqlite:///{instance / 'site.sqlite3'}"
    site = prepare_database(url, instance, populate_full_site)
    with LiveServer(url, instance, workers=2) as server:
        yield LiveSite(server, site)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) with a 1024-pixel-wide window, as on a tablet."""
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="vi-VN")
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()
