"""Errors as a person sees them in a browser; API clients keep JSON, OpenRosa its XML.

Issue 13, finding 10: an unknown address answered raw JSON to a browser, and signing in
while the database was down showed a generic 500 page.
"""

from __future__ import annotations

import pytest

from tests.integration.database import build_app, dispose_app
from tests.integration.helpers import bearer
from tests.integration.live import free_port
from tests.integration.web.site import SiteClient

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_an_unknown_address_is_a_page_in_the_users_language(app):
    """Issue 13, finding 10: a browser asking for an unknown address gets the site's page,
    Vietnamese by default and English once chosen, with a way back."""
    browser = SiteClient(app)
    response = browser.get("/no/such/page", headers=BROWSER)
    assert response.status_code == 404
    assert response.content_type.startswith("text/html")
    page = response.get_data(as_text=True)
    assert "<h1>Không tìm thấy</h1>" in page
    assert 'href="/review"' in page  # the way back
    browser.post("/language", {"lang": "en"})
    english = browser.get("/no/such/page", headers=BROWSER).get_data(as_text=True)
    assert "<h1>Not found</h1>" in english
    assert "Nothing was found at this address." in english
    wrong_method = browser.client.put("/review", headers=BROWSER)
    assert wrong_method.status_code == 405 and "<h1>" in wrong_method.get_data(as_text=True)


def test_machines_keep_their_error_shapes_for_unknown_addresses(app):
    """Issue 13, finding 10: API and OpenRosa paths answer JSON and XML even to a browser's
    Accept; a client that does not ask for HTML gets JSON anywhere."""
    client = app.test_client()
    api = client.get("/api/v1/no-such-thing", headers=BROWSER)
    assert api.status_code == 404 and api.get_json()["code"] == "404.1"
    plain = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert plain.status_code == 404 and plain.get_json()["code"] == "404.1"
    openrosa = client.get(
        "/key/some-token/formList", headers=BROWSER | {"X-OpenRosa-Version": "1.0"}
    )
    assert openrosa.content_type.startswith("text/xml")


@pytest.fixture(params=["postgres-port", "sqlite-missing-folder"])
def app_without_database(request, tmp_path):
    """An app whose database cannot be reached: a PostgreSQL port nothing listens on, or a
    SQLite file in a folder that does not exist."""
    if request.param == "postgres-port":
        url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/giupho?connect_timeout=3"
    else:
        url = f"sqlite:///{tmp_path / 'gone' / 'giupho.sqlite3'}"
    app = build_app(url, str(tmp_path / "instance"))
    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    yield app
    dispose_app(app)


def test_signing_in_while_the_database_is_down_is_a_503_page(app_without_database):
    """Issue 13, finding 10: the sign-in page, sent while the database is down, answers 503
    with a page saying the database cannot be reached and to try later (Retry-After)."""
    browser = SiteClient(app_without_database)
    form = browser.get("/signin", headers=BROWSER)
    assert form.status_code == 200
    response = browser.post("/signin", {"username": "official_a", "password": "x"})
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    page = response.get_data(as_text=True)
    assert "Không kết nối được cơ sở dữ liệu" in page
    assert "Hãy thử lại sau" in page
    assert 'href="/review"' in page


def test_api_and_openrosa_say_503_while_the_database_is_down(app_without_database):
    """Issue 13, finding 10: the API answers problem 503.1, OpenRosa its envelope, both with
    Retry-After."""
    client = app_without_database.test_client()
    api = client.get("/api/v1/households", headers=bearer("some-token"))
    assert api.status_code == 503 and api.get_json()["code"] == "503.1"
    assert api.headers["Retry-After"].isdigit()
    openrosa = client.get("/key/some-token/formList", headers={"X-OpenRosa-Version": "1.0"})
    assert openrosa.status_code == 503
    assert openrosa.content_type.startswith("text/xml")
    assert b"OpenRosaResponse" in openrosa.data and b'nature="error"' in openrosa.data
    assert openrosa.headers["Retry-After"].isdigit()
