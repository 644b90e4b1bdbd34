"""Review-site sign-ins kept on the server, so that signing out ends them (issue 13,
finding 6): a cookie copied before sign-out opens nothing after it.

A session is a random id in the signed cookie and a `web_sessions` row keyed by its
SHA-256. It ends at sign-out, when its user's password changes or the account is
deactivated, after `WEB_SESSION_IDLE_MINUTES` without a request and `WEB_SESSION_HOURS`
after sign-in whatever happens. Ended rows are deleted at each sign-in by two indexed range
deletes, never by a scan per request; `seen_at` is refreshed at most once a minute.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from flask import current_app

from server.db import db
from server.models import User, WebSession
from server.models.base import utcnow
from server.services import transactional
from server.services.access import seen

#: How stale `seen_at` may get before a request refreshes it (one write a minute at most).
SEEN_RESOLUTION = dt.timedelta(minutes=1)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def _limits(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """(oldest sign-in still valid, oldest last request still valid)."""
    config = current_app.config
    return (
        now - dt.timedelta(hours=config["WEB_SESSION_HOURS"]),
        now - dt.timedelta(minutes=config["WEB_SESSION_IDLE_MINUTES"]),
    )


@transactional
def open_session(user: User) -> str:
    """Start a session for `user`; returns the id for the cookie. Deletes ended sessions."""
    now = utcnow()
    born_after, seen_after = _limits(now)
    db.session.execute(sa.delete(WebSession).where(WebSession.created_at <= born_after))
    db.session.execute(sa.delete(WebSession).where(WebSession.seen_at <= seen_after))
    session_id = secrets.token_urlsafe(32)
    db.session.add(WebSession(id_hash=_hash(session_id), user_id=user.id, created_at=now,
                              seen_at=now))  # fmt: skip
    return session_id


def is_open(user: User, session_id: str | None) -> bool:
    """Whether `session_id` is a live session of `user` (and mark it used)."""
    if not session_id:
        return False
    row = db.session.get(WebSession, _hash(session_id))
    now = utcnow()
    born_after, seen_after = _limits(now)
    if row is None or row.user_id != user.id:
        return False
    if row.created_at <= born_after or row.seen_at <= seen_after:
        return False
    if now - row.seen_at > SEEN_RESOLUTION:
        seen.note_session(row.id_hash, now)  # written in batches, off the request's path
    return True


@transactional
def close_session(session_id: str | None) -> None:
    """End one session (sign-out): every copy of its cookie stops working."""
    if session_id:
        db.session.execute(sa.delete(WebSession).where(WebSession.id_hash == _hash(session_id)))


@transactional
def close_all(user: User) -> None:
    """End every session of `user` (new password, deactivated account)."""
    db.session.execute(sa.delete(WebSession).where(WebSession.user_id == user.id))
