"""Password sign-in, with one lock-out after repeated failures shared by every way in.

The review site's form, the API's Basic authentication (which is also how a
device token is issued), and OpenRosa's Basic and Digest all count failures
here and all refuse while the name is locked, even the right password
(issue 13, finding 5). Digest never shows the password: a wrong digest
response is the failure.

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
import math
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from server.db import db
from server.models import AuditEvent, User
from server.models.base import utcnow
from server.problems import Problem
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


def _failures(username: str, address: str, now: dt.datetime) -> list[dt.datetime]:
    """Failures on (`username`, `address`) within the window and since the last success,
    newest first (at most one more than the limit)."""
    config = current_app.config
    window = dt.timedelta(minutes=config["SIGNIN_LOCK_MINUTES"])
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
    return failures


def locked_until(username: str, address: str, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the lock on (`username`, `address`) ends, or None when it is not locked."""
    config = current_app.config
    failures = _failures(username, address, now or utcnow())
    if len(failures) < config["SIGNIN_MAX_FAILURES"]:
        return None
    window = dt.timedelta(minutes=config["SIGNIN_LOCK_MINUTES"])
    return failures[config["SIGNIN_MAX_FAILURES"] - 1] + window


def locked_problem(until: dt.datetime) -> Problem:
    """Problem 429.2 for a lock ending at `until`, with the seconds to wait in `retry_after`
    (the error handlers send it as the Retry-After header)."""
    seconds = max(1, math.ceil((until - utcnow()).total_seconds()))
    local = until.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
    problem = Problem(
        "429.2",
        details={"locked_until": until.isoformat(), "retry_after": seconds},
        time=local.strftime("%H:%M %d/%m/%Y"),
    )
    problem.retry_after = seconds
    return problem


def check_not_locked(username: str, address: str) -> None:
    """Raise Problem 429.2 while (`username`, `address`) is locked out."""
    until = locked_until(username, address)
    if until is not None:
        raise locked_problem(until)


@transactional
def record_failure(username: str, address: str) -> dt.datetime | None:
    """Count a failed sign-in; returns when the lock ends if this failure reached the limit."""
    key = _key(username, address)
    audit.record(None, FAILURE, key, username=username.strip().lower()[:80], address=address)
    return locked_until(username, address)


@transactional
def record_success(user: User, username: str, address: str, always: bool = True) -> None:
    """Count a success (it clears earlier failures). With `always` off (per-request
    authentication of the API and OpenRosa), only when there are failures to clear, so a
    request does not write an audit row."""
    if always or _failures(username, address, utcnow()):
        audit.record(user, SUCCESS, _key(username, address), address=address)


@transactional
def sign_in(username: str, password: str, address: str, always_record: bool = True) -> SignIn:
    """Check the password of `username` signing in from `address`, unless locked out."""
    until = locked_until(username, address)
    if until is not None:
        return SignIn(None, until)
    user = auth.authenticate_password(username, password)
    if user is None:
        return SignIn(None, record_failure(username, address))
    record_success(user, username, address, always=always_record)
    return SignIn(user)


def check_password(username: str, password: str, address: str) -> User | None:
    """For per-request Basic authentication (API, token issue, OpenRosa): the user, None for
    a wrong name or password, Problem 429.2 while locked out (even for the right password)."""
    outcome = sign_in(username, password, address, always_record=False)
    if outcome.locked_until is not None:
        raise locked_problem(outcome.locked_until)
    return outcome.user


def session_fingerprint(user: User) -> str:
    """A value that changes when the user's password does: a session remembers it, so a new
    password signs out every other session."""
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]
