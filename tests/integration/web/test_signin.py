"""Signing in to the site: the session cookie's settings, lock-out after repeated failures
(shared by every worker through the database), sign-out, and sessions that end when the
password changes or the account is deactivated."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from server.db import db
from server.models import WebSession
from server.services.access import auth, users
from tests.integration.database import build_app, dispose_app
from tests.integration.helpers import PASSWORD
from tests.integration.web.site import SiteClient


def _cookie(response) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("giupho_session"))


def test_the_session_cookie_is_httponly_samesite_lax_and_secure_when_configured(
    app, site, browser_of, database, tmp_path
):
    response = browser_of(None).post("/signin", {"username": "official_a", "password": PASSWORD})
    cookie = _cookie(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie

    secure = build_app(database, str(tmp_path / "secure"), SESSION_COOKIE_SECURE=True)
    try:
        client = SiteClient(secure)
        assert "Secure" in _cookie(client.post("/signin", {"username": "official_a",
                                                           "password": PASSWORD}))  # fmt: skip
    finally:
        dispose_app(secure)


def test_repeated_failures_lock_the_name_out_for_that_address_on_every_worker(
    app, site, browser_of, database, tmp_path
):
    app.config["SIGNIN_MAX_FAILURES"] = 3
    guesser = browser_of(None, address="10.0.0.7")
    for _ in range(2):
        wrong = guesser.post("/signin", {"username": "official_a", "password": "guess"})
        assert wrong.status_code == 401
    third = guesser.post("/signin", {"username": "official_a", "password": "guess"})
    assert third.status_code == 429  # the failure that reaches the limit says so at once
    locked = guesser.post("/signin", {"username": "official_a", "password": PASSWORD})
    assert locked.status_code == 429
    assert "Đăng nhập sai quá nhiều lần" in locked.get_data(as_text=True)
    assert guesser.get("/review").status_code == 401  # the right password did not sign in

    # Another worker (another app on the same database) knows about the lock.
    other = build_app(database, str(tmp_path / "worker2"), SIGNIN_MAX_FAILURES=3)
    try:
        again = SiteClient(other, address="10.0.0.7")
        assert again.post("/signin", {"username": "official_a",
                                      "password": PASSWORD}).status_code == 429  # fmt: skip
    finally:
        dispose_app(other)
    # The official at their own desk is not locked out by someone guessing elsewhere.
    assert browser_of("official_a", address="10.0.0.8").get("/review").status_code == 200


def test_a_success_clears_earlier_failures(app, site, browser_of):
    app.config["SIGNIN_MAX_FAILURES"] = 3
    browser = browser_of(None)
    for _ in range(2):
        browser.post("/signin", {"username": "official_a", "password": "guess"})
    assert browser.sign_in("official_a").status_code == 302
    browser.post("/signout")
    for _ in range(2):
        assert browser.post("/signin", {"username": "official_a",
                                        "password": "guess"}).status_code == 401  # fmt: skip
    assert browser.sign_in("official_a").status_code == 302


def test_signing_out_ends_the_session(site, browser_of):
    browser = browser_of("official_a")
    page = browser.get("/review")
    assert page.status_code == 200 and page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert browser.post("/signout").status_code == 302
    assert browser.get("/review").status_code == 401


def test_a_new_password_or_a_deactivated_account_ends_open_sessions(app, site, browser_of):
    changed, removed = browser_of("official_a"), browser_of("coordinator")
    with app.app_context():
        auth.set_password(users.find("official_a"), "một mật khẩu mới")
        users.deactivate(users.find("coordinator"))
    assert changed.get("/review").status_code == 401
    assert removed.get("/review").status_code == 401


def test_after_sign_in_the_official_returns_to_the_page_asked_for_never_another_site(
    site, browser_of
):
    browser = browser_of(None)
    page = browser.get(f"/review/submissions/{site.a[0]}")
    assert page.status_code == 401 and "Đăng nhập" in page.get_data(as_text=True)
    assert site.a[0] not in page.get_data(as_text=True)  # remembered, not repeated
    form = {"username": "official_a", "password": PASSWORD}
    back = browser.post("/signin", form)
    assert back.headers["Location"] == f"/review/submissions/{site.a[0]}"
    browser.post("/signout")
    away = browser.post("/signin", form | {"next": "https://evil.example/review"})
    assert away.headers["Location"] == "/review"


def test_a_cookie_copied_before_sign_out_opens_nothing_after_it(app, site, browser_of):
    """Issue 13, finding 6: a session cookie copied before sign-out still opened /review."""
    browser = browser_of("official_a")
    copy = SiteClient(app)
    cookie = browser.client.get_cookie("giupho_session")
    copy.client.set_cookie("giupho_session", cookie.value)
    assert copy.get("/review").status_code == 200  # the copy works while the session lives
    assert browser.post("/signout").status_code == 302
    refused = copy.get("/review")
    assert refused.status_code == 401 and 'name="password"' in refused.get_data(as_text=True)


def test_a_session_ends_after_idle_time_and_after_its_lifetime(app, site, browser_of):
    """Issue 13, finding 6: server-side sessions expire when idle and at an absolute age."""
    idle, old = browser_of("official_a"), browser_of("coordinator")
    with app.app_context():
        rows = {row.user.username: row for row in db.session.scalars(sa.select(WebSession))}
        ended = {rows["official_a"].id_hash, rows["coordinator"].id_hash}
        rows["official_a"].seen_at -= dt.timedelta(minutes=app.config["WEB_SESSION_IDLE_MINUTES"])
        rows["coordinator"].created_at -= dt.timedelta(hours=app.config["WEB_SESSION_HOURS"])
        db.session.commit()
    assert idle.get("/review").status_code == 401
    assert old.get("/review").status_code == 401
    fresh = browser_of("official_a")  # signing in again works, and cleans the ended rows up
    assert fresh.get("/review").status_code == 200
    with app.app_context():
        left = set(db.session.scalars(sa.select(WebSession.id_hash)))
    assert left and not left & ended
