"""Behind a reverse proxy (`GIUPHO_PROXY_HOPS`): the sign-in lock-out keys on the client's
address from X-Forwarded-For, not the proxy's, and forged headers are not trusted without it.

Issue 13 (README security section: what an operator must set): without the setting, every
client behind the proxy shares its address, so one guesser locks an official out
everywhere.
"""

from __future__ import annotations

from tests.integration.database import build_app, dispose_app
from tests.integration.helpers import PASSWORD
from tests.integration.web.site import SiteClient

PROXY = "127.0.0.1"  # the reverse proxy, as the server sees it


def _lock_out(app, headers: dict) -> None:
    guesser = SiteClient(app, PROXY)
    for _ in range(3):
        guesser.post("/signin", {"username": "official_a", "password": "guess"}, headers=headers)
    locked = guesser.post(
        "/signin", {"username": "official_a", "password": PASSWORD}, headers=headers
    )
    assert locked.status_code == 429


def test_behind_a_proxy_the_lock_out_keys_on_the_forwarded_client_address(
    app, site, database, tmp_path
):
    proxied = build_app(database, str(tmp_path / "proxied"), PROXY_HOPS=1, SIGNIN_MAX_FAILURES=3)
    try:
        _lock_out(proxied, {"X-Forwarded-For": "10.0.0.7"})
        official = SiteClient(proxied, PROXY)
        official.get("/signin", headers={"X-Forwarded-For": "10.0.0.8"})
        answer = official.post(
            "/signin",
            {"username": "official_a", "password": PASSWORD},
            headers={"X-Forwarded-For": "10.0.0.8"},
        )
        assert answer.status_code == 302  # the official's own address is not locked out
    finally:
        dispose_app(proxied)


def test_without_the_setting_forwarded_addresses_are_not_trusted(app, site):
    app.config["SIGNIN_MAX_FAILURES"] = 3
    _lock_out(app, {"X-Forwarded-For": "10.0.0.7"})
    # A guesser cannot pick a fresh address per guess: the header is ignored.
    again = SiteClient(app, PROXY)
    answer = again.post(
        "/signin",
        {"username": "official_a", "password": PASSWORD},
        headers={"X-Forwarded-For": "10.0.0.9"},
    )
    assert answer.status_code == 429
