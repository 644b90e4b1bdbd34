"""The audit log and the change log that drives delta pulls.

Change log and cursors (sync contract P2)
-----------------------------------------
Every write that a tablet must learn about adds a `changes` row in the same
transaction. A pull returns rows after the client's cursor, in cursor order.

A plain auto-increment id is not a safe cursor on PostgreSQL: ids are handed
out when a row is inserted, not when its transaction commits, so a reader can
see id 11 (committed) while id 10 is still in an open transaction, advance
its cursor past 10, and never see it. The fix used here:

* each row records the writing transaction's id, `txid =
  pg_current_xact_id()` (64-bit, never wraps);
* a reader, in ONE statement, only returns rows whose `txid` is below
  `pg_snapshot_xmin(pg_current_snapshot())`, the oldest transaction still
  running. Every transaction below that horizon has finished, and any
  transaction that has not yet taken an id will get one at or above it, so no
  row can appear later below the horizon;
* the cursor is the pair `(txid, id)` of the last row returned and rows are
  read in `(txid, id)` order, so all rows of one transaction stay together.

The price is that one long *write* transaction holds back every pull until it
ends (never past it), which is why write transactions are kept short. Transaction
ids are the server's, not the database's: a long write of another database on the
same PostgreSQL server holds pulls back too (give giupho its own server). A
read-only transaction never takes an id, so a long read (pg_dump in `giupho
backup`, a large export) does not hold pulls back, however old its snapshot
(`tests/integration/sync/test_changes.py`).

SQLite allows one writer at a time and a writer keeps the lock from its first
write until commit, so ids are handed out in commit order: there `txid` is 0
and the id alone is the cursor.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, BigID, JSONDoc, UTCDateTime, utcnow


class AuditEvent(Base):
    """Who did what to which record, and when; never updated or deleted."""

    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    action: Mapped[str] = mapped_column(sa.String(80))
    target_type: Mapped[str | None] = mapped_column(sa.String(40))
    target_id: Mapped[str | None] = mapped_column(sa.String(100))
    details: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Change(Base):
    """One change a client may pull: which record (`kind`, `entity_id`) and where (`unit_id`).

    `unit_id` is the admin unit whose scope the change belongs to; None means
    every user (a nationwide form, say).
    """

    __tablename__ = "changes"
    __table_args__ = (
        sa.Index("ix_changes_cursor", "txid", "id"),
        sa.Index("ix_changes_unit_cursor", "unit_id", "txid", "id"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    txid: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    kind: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[str] = mapped_column(sa.String(100))
    op: Mapped[str] = mapped_column(sa.String(10))
    unit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="RESTRICT")
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
