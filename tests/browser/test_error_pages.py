"""A person in a browser meets an unknown address, and the sign-in page while the database is
down: pages of the site in their language, with a way back (issue 13, finding 10).

The servers here run the app in this process (Werkzeug's server on a thread, 127.0.0.1):
one on a migrated SQLite file, one on a PostgreSQL port nothing listens on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from server.db import upgrade_database
from tests.integration.database import build_app, dispose_app
from tests.integration.live import free_port

pytestmark = pytest.mark.browser


def _serve(app) -> Iterator[str]:
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        dispose_app(app)


@pytest.fixture(scope="module")
def site_url(tmp_path_factory) -> Iterator[str]:
    instance = tmp_path_factory.mktemp("errors-instance")
    app = build_app(f"sqlite:///{instance / 'site.sqlite3'}", str(instance))
    with app.app_context():
        upgrade_database()
    app.testing = False
    yield from _serve(app)


@pytest.fixture(scope="module")
def down_url(tmp_path_factory) -> Iterator[str]:
    instance = tmp_path_factory.mktemp("down-instance")
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/giupho?connect_timeout=3"
    app = build_app(url, str(instance))
    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    yield from _serve(app)


def test_an_unknown_address_shows_a_page_in_vietnamese_then_english(site_url, page):
    """Issue 13, finding 10: not raw JSON but the site's page, in the chosen language."""
    response = page.goto(f"{site_url}/khong/co/trang/nay")
    assert response is not None and response.status == 404
    expect(page.locator("main h1")).to_have_text("Không tìm thấy")
    expect(page.locator("main")).to_contain_text("Không tìm thấy nội dung tại địa chỉ này.")
    page.click("form.lang button[value=en]")
    page.goto(f"{site_url}/khong/co/trang/nay")
    expect(page.locator("main h1")).to_have_text("Not found")
    expect(page.locator("main")).to_contain_text("Nothing was found at this address.")
    page.click("main a")  # the way back: the dashboard asks to sign in
    expect(page.locator("main h1")).to_have_text("Sign in")


def test_signing_in_while_the_database_is_down_says_so(down_url, page):
    """Issue 13, finding 10: a 503 page saying the database cannot be reached, not a 500."""
    page.goto(f"{down_url}/signin")
    expect(page.locator("main h1")).to_have_text("Đăng nhập")
    page.fill("input[name=username]", "official_a")
    page.fill("input[name=password]", "mật khẩu")
    with page.expect_response(lambda r: r.url.endswith("/signin")) as answer:
        page.click("form.stack button.primary")
    assert answer.value.status == 503
    assert answer.value.headers.get("retry-after")
    expect(page.locator("main h1")).to_have_text("Không kết nối được cơ sở dữ liệu")
    expect(page.locator("main")).to_contain_text("Hãy thử lại sau")
