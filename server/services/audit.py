"""The audit log: who did what to which record. Rows are added inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from server.db import db
from server.models import AuditEvent, Role, User
from server.models.people import user_scope
from server.services.access import scope


@dataclass(frozen=True)
class Ref:
    """A record named by its table and key, for writers that hold no ORM object of it
    (ingest writes submissions with Core statements)."""

    __tablename__: str
    key: str


def record(actor: User | None, action: str, target: Any = None, **details: Any) -> AuditEvent:
    """Add an audit event for `action` (e.g. "form.publish") on `target` (a model or None).

    Does not commit: the event belongs to the transaction of the change it
    describes, so both are stored or neither is.
    """
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=target.__tablename__ if target is not None else None,
        target_id=_key(target) if target is not None else None,
        details=details,
    )
    db.session.add(event)
    return event


def events_for(target: Any) -> list[AuditEvent]:
    """Every audit event about `target`, oldest first."""
    key = _key(target)
    stmt = (
        sa.select(AuditEvent)
        .where(AuditEvent.target_type == target.__tablename__, AuditEvent.target_id == key)
        .order_by(AuditEvent.id)
    )
    return list(db.session.scalars(stmt))


def _key(target: Any) -> str:
    """The primary key of `target` as text, flushing first if it is new."""
    if isinstance(target, Ref):
        return target.key
    if sa.inspect(target).identity is None:
        db.session.flush()
    return "/".join(str(part) for part in sa.inspect(target).identity)


# -- reading the log -------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One field of an edit: its value before and after."""

    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Shown:
    """An audit event as a page shows it."""

    id: int
    at: Any
    actor: str  # the actor's full name and user name; "" for the system (commands)
    action: str
    target_type: str | None
    target_id: str | None
    changes: list[Change]  # from `before` and `after`
    details: dict[str, Any]  # everything else the event recorded


def shown(events: list[AuditEvent]) -> list[Shown]:
    """`events` with their actors' names and their edits split into fields."""
    ids = {e.actor_id for e in events if e.actor_id is not None}
    names = {}
    if ids:
        rows = db.session.execute(
            sa.select(User.id, User.full_name, User.username).where(User.id.in_(ids))
        )
        names = {uid: f"{full} ({username})" for uid, full, username in rows}
    found = []
    for event in events:
        details = dict(event.details or {})
        before, after = details.pop("before", None) or {}, details.pop("after", None) or {}
        fields = list(dict.fromkeys([*before, *after]))
        changes = [Change(f, before.get(f), after.get(f)) for f in fields]
        found.append(
            Shown(
                event.id,
                event.at,
                names.get(event.actor_id, ""),
                event.action,
                event.target_type,
                event.target_id,
                changes,
                details,
            )
        )
    return found


def visible(viewer: User) -> sa.Select:
    """The audit events `viewer` may read: all for an admin; else those done by, or about,
    the viewer or a user who works only inside the viewer's units (the people they manage).

    Events of the system (commands, actor None) are an admin's to read.
    """
    stmt = sa.select(AuditEvent)
    if viewer.role == Role.ADMIN:
        return stmt
    inside = scope.unit_ids(viewer)
    outside = sa.exists().where(user_scope.c.user_id == User.id, ~user_scope.c.unit_id.in_(inside))
    placed = sa.exists().where(user_scope.c.user_id == User.id)
    people = sa.select(User.id).where(sa.or_(User.id == viewer.id, sa.and_(placed, ~outside)))
    people_keys = sa.select(sa.cast(User.id, sa.String)).where(User.id.in_(people))
    return stmt.where(
        sa.or_(
            AuditEvent.actor_id.in_(people),
            sa.and_(AuditEvent.target_type == "users", AuditEvent.target_id.in_(people_keys)),
        )
    )
