"""One lock-out for every way of signing in: the site's form, the API's Basic (and so the
device token issue), OpenRosa's Basic and Digest. A failure on any of them counts toward the
same lock, and while it holds even the right password gets 429 with Retry-After."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from server.db import db
from server.models import AuditEvent
from server.services.access import signin
from tests.integration.helpers import PASSWORD, basic
from tests.integration.openrosa.test_auth import challenges, digest_header
from tests.integration.openrosa.world import OPENROSA, world  # noqa: F401 - fixture
from tests.integration.web.site import SiteClient

ADDRESS = {"REMOTE_ADDR": "127.0.0.1"}


def _lock_out_on_the_site(app, username: str) -> SiteClient:
    guesser = SiteClient(app)
    for _ in range(app.config["SIGNIN_MAX_FAILURES"]):
        guesser.post("/signin", {"username": username, "password": "guess"})
    assert guesser.post("/signin", {"username": username, "password": PASSWORD}).status_code == 429
    return guesser


def _digest(client, username: str, password: str):
    challenge = challenges(client.get("/formList", headers=OPENROSA))["digest"]
    header = digest_header(challenge, username, password, "GET", "/formList")
    return client.get("/formList", headers={**OPENROSA, "Authorization": header})


def _end_the_lock(app) -> None:
    """Age every sign-in failure past the window, as time would."""
    with app.app_context():
        window = dt.timedelta(minutes=app.config["SIGNIN_LOCK_MINUTES"] + 1)
        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.target_type == signin.TARGET)
        )
        for event in events:
            event.at -= window
        db.session.commit()


@pytest.mark.usefixtures("world")
def test_a_lock_out_on_the_site_holds_for_basic_digest_and_token_issue(app, client):
    """Issue 13, finding 5: while an account was locked out on the site, the API's Basic and
    OpenRosa's Digest went on taking guesses and then the right password."""
    app.config["ALLOW_INSECURE_BASIC"] = True
    _lock_out_on_the_site(app, "cadre_a")

    api = client.get("/api/v1/forms", headers=basic("cadre_a"))
    assert api.status_code == 429
    assert api.json["code"] == "429.2" and int(api.headers["Retry-After"]) > 0
    assert "Hãy thử lại sau" in api.json["message"]  # Vietnamese unless asked otherwise
    issue = client.post("/api/v1/devices", json={"name": "Tablet"}, headers=basic("cadre_a"))
    assert issue.status_code == 429 and "Retry-After" in issue.headers

    digest = _digest(client, "cadre_a", PASSWORD)
    assert digest.status_code == 429 and int(digest.headers["Retry-After"]) > 0
    openrosa_basic = client.get("/formList", headers={**OPENROSA, **basic("cadre_a")})
    assert openrosa_basic.status_code == 429

    _end_the_lock(app)
    assert client.get("/api/v1/forms", headers=basic("cadre_a")).status_code == 200
    assert _digest(client, "cadre_a", PASSWORD).status_code == 200
    assert SiteClient(app).post(
        "/signin", {"username": "cadre_a", "password": PASSWORD}
    ).status_code == 302  # fmt: skip


@pytest.mark.usefixtures("world")
def test_failures_on_basic_and_digest_lock_the_site_too(app, client):
    """Issue 13, finding 5: guesses through Basic and Digest count toward the same lock."""
    app.config["SIGNIN_MAX_FAILURES"] = 4
    wrong = [client.get("/api/v1/forms", headers=basic("cadre_a", "guess")) for _ in range(2)]
    assert [r.status_code for r in wrong] == [401, 401]
    assert _digest(client, "cadre_a", "guess").status_code == 401
    assert _digest(client, "cadre_a", "guess").status_code == 429  # the one reaching the limit
    assert _digest(client, "cadre_a", "guess").status_code == 429  # and after it

    site = SiteClient(app)
    refused = site.post("/signin", {"username": "cadre_a", "password": PASSWORD})
    assert refused.status_code == 429
    assert "Đăng nhập sai quá nhiều lần" in refused.get_data(as_text=True)

    _end_the_lock(app)
    assert site.post("/signin", {"username": "cadre_a", "password": PASSWORD}).status_code == 302


@pytest.mark.usefixtures("world")
def test_successful_requests_do_not_write_an_audit_row_each(app, client):
    """Per-request authentication stays read-only while there is nothing to clear."""
    for _ in range(3):
        assert client.get("/api/v1/forms", headers=basic("cadre_a")).status_code == 200
    assert _digest(client, "cadre_a", PASSWORD).status_code == 200
    with app.app_context():
        rows = db.session.scalar(
            sa.select(sa.func.count()).where(AuditEvent.target_type == signin.TARGET)
        )
    assert rows == 0
