"""The audit log: who did what to which record. Rows are added inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from server.db import db
from server.models import AuditEvent, User


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
