"""Users and their scope (the admin units they work in)."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from server.db import db
from server.models import AdminUnit, Role, User
from server.problems import N_, Problem
from server.services import audit, transactional
from server.services.access import auth, sessions


def find(username: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.username == username))


@transactional
def create_user(
    username: str,
    full_name: str,
    role: Role,
    password: str | None = None,
    units: Iterable[AdminUnit] = (),
    actor: User | None = None,
) -> User:
    """Create a user working in `units`. Without a password they can only use device tokens."""
    username = username.strip().lower()
    if not username:
        raise Problem("400.2", field="username")
    if find(username) is not None:
        raise Problem("409.5", what=N_("entity.user"), name=username)
    user = User(
        username=username,
        full_name=full_name.strip(),
        role=Role(role),
        password_hash=auth.hash_password(password) if password else None,
        digest_ha1=auth.digest_ha1(username, password) if password else None,
        units=list(units),
    )
    db.session.add(user)
    audit.record(
        actor,
        "user.create",
        user,
        username=username,
        role=user.role.value,
        units=[u.path for u in user.units],
    )
    return user


@transactional
def set_scope(user: User, units: Iterable[AdminUnit], actor: User | None = None) -> None:
    """Replace the admin units `user` works in."""
    user.units = list(units)
    audit.record(actor, "user.scope", user, units=[u.path for u in user.units])


@transactional
def deactivate(user: User, actor: User | None = None) -> None:
    """Stop `user` from signing in; their records and history stay."""
    user.active = False
    sessions.close_all(user)
    audit.record(actor, "user.deactivate", user)
