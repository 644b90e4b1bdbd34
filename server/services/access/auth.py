"""Passwords (argon2) and device tokens (random, stored hashed, revocable).

Passwords are hashed with argon2id because people choose weak ones. Device
tokens are 256 random bits, so a single SHA-256 is enough to make a stolen
database useless and keeps the lookup to one indexed equality per request.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy.orm import joinedload

from server.db import db
from server.models import Device, User
from server.models.base import utcnow
from server.models.people import user_scope
from server.problems import Problem
from server.services import audit, transactional, txcache
from server.services.access import seen, sessions

#: The HTTP Digest realm. It is part of every stored HA1, so it never changes.
DIGEST_REALM = "giupho"

#: How stale `last_seen_at` may get before a request notes a new one (`seen`: written in
#: batches off the request's path, at most one write per device per interval).
LAST_SEEN_RESOLUTION = dt.timedelta(minutes=1)


def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"], memory_cost=config["ARGON2_MEMORY_KIB"]
    )


def hash_password(password: str) -> str:
    """An argon2id hash of `password` with the configured cost."""
    return _hasher().hash(password)


def digest_ha1(username: str, password: str) -> str:
    """HA1 = MD5(username:realm:password), what HTTP Digest (RFC 7616, MD5) checks against.

    ODK Collect only speaks Digest with MD5, so the server has to keep this
    password-equivalent value (for this realm only) beside the argon2 hash;
    `OPENROSA_DIGEST` turns Digest off where that trade-off is not wanted.
    """
    text = f"{username}:{DIGEST_REALM}:{password}"
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches `password_hash`; False for a missing or corrupt hash."""
    if not password_hash:
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@transactional
def set_password(user: User, password: str, actor: User | None = None) -> None:
    """Give `user` a new password."""
    user.password_hash = hash_password(password)
    user.digest_ha1 = digest_ha1(user.username, password)
    sessions.close_all(user)  # every open sign-in ends with the old password
    audit.record(actor, "user.password", user)


def authenticate_password(username: str, password: str) -> User | None:
    """The active user with these credentials, or None.

    A hash written with weaker parameters than the current ones is upgraded
    on a successful login.
    """
    username = username.strip().lower()  # usernames are stored lower-case
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        _hasher().hash(password)  # same cost as a real check: do not reveal which names exist
        return None
    if not user.active or not verify_password(user.password_hash, password):
        return None
    # Users created before Digest existed get their HA1 at their next password login.
    if _hasher().check_needs_rehash(user.password_hash) or user.digest_ha1 != digest_ha1(
        user.username, password
    ):
        _rehash(user, password)
    return user


@transactional
def _rehash(user: User, password: str) -> None:
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.digest_ha1 = digest_ha1(user.username, password)


def digest_user(username: str) -> User | None:
    """The active user `username` with a Digest HA1, or None (unknown, inactive, no password)."""
    user = db.session.scalar(sa.select(User).where(User.username == username.strip().lower()))
    if user is None or not user.active or not user.digest_ha1:
        return None
    return user


def token_hash(token: str) -> str:
    """The stored form of a device token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh device token: 256 random bits, URL-safe (it goes in ODK Collect's server URL)."""
    return secrets.token_urlsafe(32)


def demo_token(username: str) -> str:
    """The device token the demo seed gives `username`, derived from the secret key.

    Derived rather than random so `run` can print the ODK Collect link again
    on every start while the database only stores its hash.
    """
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    digest = hmac.new(key, f"giupho-demo-device:{username}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@transactional
def register_device(
    user: User, name: str, token: str | None = None, actor: User | None = None
) -> tuple[Device, str]:
    """Create a device credential for `user`; returns it with the token (shown only once)."""
    token = token or new_token()
    device = Device(user=user, name=name, token_hash=token_hash(token))
    db.session.add(device)
    audit.record(actor, "device.register", device, user=user.username, name=name)
    return device, token


@transactional
def revoke_device(device: Device, actor: User | None = None) -> None:
    """Revoke `device`: its token stops working at once; nothing it sent is touched."""
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        audit.record(actor, "device.revoke", device)


#: Built once: every OpenRosa POST authenticates, and building the statement cost a tenth
#: of a millisecond. The user's directly assigned units come in the same round trip (one row
#: per unit; a user has a handful): every submission's place check needs them
#: (`scope_units`), and a second query was a fifth of an OpenRosa POST's round trips.
_BY_TOKEN = (
    sa.select(Device, user_scope.c.unit_id)
    .options(joinedload(Device.user))
    .outerjoin(user_scope, user_scope.c.user_id == Device.user_id)
    .where(Device.token_hash == sa.bindparam("token_hash"))
)
_SCOPE_OF = sa.select(user_scope.c.unit_id).where(user_scope.c.user_id == sa.bindparam("user_id"))


def authenticate_token(token: str) -> Device:
    """The device holding `token`, for an active user.

    Raises Problem 401.1 for an unknown token or an inactive user, 401.2 for a
    revoked device.
    """
    rows = db.session.execute(_BY_TOKEN, {"token_hash": token_hash(token)}).all()
    device = rows[0][0] if rows else None
    if device is None or not device.user.active:
        raise Problem("401.1")
    if device.revoked_at is not None:
        raise Problem("401.2")
    units = frozenset(unit_id for _device, unit_id in rows if unit_id is not None)
    txcache.remember(("scope_units", device.user_id), lambda: units)
    now = utcnow()
    if device.last_seen_at is None or now - device.last_seen_at > LAST_SEEN_RESOLUTION:
        seen.note_device(device.id, now)
    return device


def scope_units(user: User) -> frozenset[int]:
    """The units assigned to `user` in `user_scope` (not their agency's), read once per
    transaction: with the device token when one authenticated the request."""

    def read() -> frozenset[int]:
        # a plain SELECT (not `connection()`), so a reading request may go to the replica
        rows = db.session.execute(_SCOPE_OF, {"user_id": user.id})
        return frozenset(rows.scalars())

    return txcache.remember(("scope_units", user.id), read)
