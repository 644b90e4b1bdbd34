"""The change log behind delta pulls; see `server.models.audit` for the cursor design (P2).

Writers call `record` inside their transaction. Readers call `read` with the
client's cursor and get the changes after it in a stable order, never one
that a still-open transaction could later slip in before the cursor.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from server.db import db
from server.models import Change
from server.problems import Problem


@dataclass(frozen=True, order=True)
class Cursor:
    """A position in the change log: the last (transaction id, row id) a client holds."""

    txid: int = 0
    id: int = 0

    def encode(self) -> str:
        return f"{self.txid}.{self.id}"

    @classmethod
    def decode(cls, text: str | None) -> Cursor:
        """Parse a cursor from a client; empty means the beginning."""
        if not text:
            return cls()
        try:
            txid, row = (int(part) for part in text.split("."))
        except ValueError:
            raise Problem("400.3", field="cursor", reason=text) from None
        if txid < 0 or row < 0:
            raise Problem("400.3", field="cursor", reason=text)
        return cls(txid, row)


@dataclass
class ChangePage:
    changes: list[Change]
    cursor: Cursor
    has_more: bool


def _is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def current_txid() -> sa.ColumnElement[int]:
    """SQL for the writing transaction's id: `pg_current_xact_id()` on PostgreSQL, 0 elsewhere."""
    if _is_postgres():
        return sa.cast(sa.cast(sa.func.pg_current_xact_id(), sa.Text), sa.BigInteger)
    return sa.literal(0, sa.BigInteger)


def record(kind: str, entity_id: str, op: str, unit_id: int | None) -> None:
    """Log that `kind`/`entity_id` was created, updated or deleted (`op`) in `unit_id`'s scope.

    Runs in the caller's transaction; the row carries that transaction's id.
    """
    db.session.execute(
        sa.insert(Change).values(
            txid=current_txid(),
            kind=kind,
            entity_id=str(entity_id),
            op=op,
            unit_id=unit_id,
        )
    )


def read(after: Cursor, limit: int, unit_ids: sa.Select | None = None) -> ChangePage:
    """The next `limit` changes after `after`, filtered to `unit_ids` (None: all units).

    Changes without a unit (nationwide) are always included.
    """
    stmt = sa.select(Change).where(
        sa.tuple_(Change.txid, Change.id) > sa.tuple_(sa.literal(after.txid), sa.literal(after.id))
    )
    if _is_postgres():
        # Only transactions that have all finished: see the module docstring of the model.
        horizon = sa.cast(
            sa.cast(sa.func.pg_snapshot_xmin(sa.func.pg_current_snapshot()), sa.Text),
            sa.BigInteger,
        )
        stmt = stmt.where(Change.txid < horizon)
    if unit_ids is not None:
        stmt = stmt.where(sa.or_(Change.unit_id.is_(None), Change.unit_id.in_(unit_ids)))
    rows = list(db.session.scalars(stmt.order_by(Change.txid, Change.id).limit(limit + 1)))
    has_more = len(rows) > limit
    rows = rows[:limit]
    cursor = Cursor(rows[-1].txid, rows[-1].id) if rows else after
    return ChangePage(rows, cursor, has_more)
