"""CSRF protection for the site: a random token per session, required on every POST.

Every form carries the token in a hidden `csrf_token` field (scripts may
send the `X-CSRF-Token` header instead). A request that changes state
without the session's token is refused with 400 before its view runs, so a
page on another site cannot act with an official's session. The sign-in
form is protected too (login CSRF): an anonymous visitor gets a token with
the page.
"""

from __future__ import annotations

import hmac
import secrets

from flask import abort, request, session

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"


def token() -> str:
    """This session's token, created on first use."""
    if FIELD not in session:
        session[FIELD] = secrets.token_urlsafe(32)
    return session[FIELD]


def renew() -> None:
    """A new token (at sign-in and sign-out: a token seen before cannot be replayed)."""
    session[FIELD] = secrets.token_urlsafe(32)


def protect() -> None:
    """Before every site request: refuse an unsafe method without the session's token."""
    if request.method in SAFE_METHODS:
        return
    expected = session.get(FIELD)
    given = request.form.get(FIELD) or request.headers.get(HEADER) or ""
    if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
        abort(400, description="csrf")


def template_globals() -> dict:
    return {"csrf_token": token}
