"""Password sign-in for the review site, with a lock-out after repeated failures.

Failures are audit events (`signin.failure`) keyed by user name and client
address, so the count is shared by every worker and machine that serves the
same database, and the audit log shows who was guessing at which account.
After `SIGNIN_MAX_FAILURES` failures within `SIGNIN_LOCK_MINUTES` (and
since the last success) that name is locked for that address until the
oldest failure of the window ages out; the password is not even checked
meanwhile, so guessing gains nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from server.db import db
from server.models import AuditEvent, User
from server.models.base import utcnow
from server.services import audit, transactional
from server.services.access import auth

FAILURE = "signin.failure"
SUCCESS = "signin.success"
TARGET = "signin"


@dataclass(frozen=True)
class SignIn:
    """The outcome: the user, or why not (`locked_until` when locked out)."""

    user: User | None
    locked_until: dt.datetime | None = None


def _key(username: str, address: str) -> audit.Ref:
    return audit.Ref(TARGET, f"{username.strip().lower()[:50]}|{address[:45]}")


def locked_until(username: str, address: str, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the lock on (`username`, `address`) ends, or None when it is not locked."""
    config = current_app.config
    window = dt.timedelta(minutes=config["SIGNIN_LOCK_MINUTES"])
    now = now or utcnow()
    stmt = (
        sa.select(AuditEvent.action, AuditEvent.at)
        .where(
            AuditEvent.target_type == TARGET,
            AuditEvent.target_id == _key(username, address).key,
            AuditEvent.at > now - window,
        )
        .order_by(AuditEvent.id.desc())
        .limit(config["SIGNIN_MAX_FAILURES"] + 1)
    )
    failures = []
    for action, at in db.session.execute(stmt):
        if action == SUCCESS:
            break
        failures.append(at)
    if len(failures) < config["SIGNIN_MAX_FAILURES"]:
        return None
    return failures[config["SIGNIN_MAX_FAILURES"] - 1] + window


@transactional
def sign_in(username: str, password: str, address: str) -> SignIn:
    """Check the password of `username` signing in from `address`, unless locked out."""
    until = locked_until(username, address)
    if until is not None:
        return SignIn(None, until)
    user = auth.authenticate_password(username, password)
    key = _key(username, address)
    if user is None:
        audit.record(None, FAILURE, key, username=username.strip().lower()[:80], address=address)
        return SignIn(None, locked_until(username, address))
    audit.record(user, SUCCESS, key, address=address)
    return SignIn(user)


def session_fingerprint(user: User) -> str:
    """A value that changes when the user's password does: a session remembers it, so a new
    password signs out every other session."""
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]
