"""The change log behind delta pulls; see `server.models.audit` for the cursor design (P2).

Writers call `record` inside their transaction. Readers call `read` with the
client's cursor and get the changes after it in a stable order, never one
that a still-open transaction could later slip in before the cursor.

Most changes belong to a place (`unit_id`): every tablet working there learns
them. A pair belongs to its helper: `pair_changed` logs it under the helper's key
(`helper_key`, "u<user id>" or "a<agency id>") and the household's unit, and
only the helper's pulls render it (`helper_clause` picks those rows out), as the
household's state when the household is (still) in their scope, else as its
removal (sync contract P1: the tablet learns what to drop).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from server.db import db
from server.models import Change, Household, Pair
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


#: The change-log kind of a pair started, ended or reassigned (`pair_changed`).
PAIR_CHANGE = "pair"


def helper_key(user_id: int | None = None, agency_id: int | None = None) -> str:
    """How the change log names a pair's helper: "u<user id>" or "a<agency id>"."""
    return f"u{user_id}" if user_id is not None else f"a{agency_id}"


def pair_entity(helper: str, household_id: str) -> str:
    """The `entity_id` of a pair change: the helper's key and the household, "u12:<uuid>"."""
    return f"{helper}:{household_id}"


def parse_pair_entity(entity_id: str) -> tuple[str, str]:
    """(helper key, household id) of a pair change's `entity_id`."""
    helper, _, household_id = entity_id.partition(":")
    return helper, household_id


def pair_changed(pair: Pair) -> None:
    """Log that `pair` started, ended or changed, in the caller's transaction.

    The helper's tablets learn it at their next pull: a household newly paired
    arrives in full; one whose pair ended leaves the tablet, unless it is still
    theirs some other way (their village, another pair). Call it for both the
    old and the new pair of a reassignment.
    """
    if pair.household_id is None or (pair.helper_user_id is None and pair.helper_agency_id is None):
        db.session.flush()  # ids given through relationships are set on flush
    place = db.session.execute(
        sa.select(Household.village_id, Household.commune_id).where(
            Household.id == pair.household_id
        )
    ).first()
    unit_id = (place.village_id or place.commune_id) if place is not None else None
    helper = helper_key(pair.helper_user_id, pair.helper_agency_id)
    record(PAIR_CHANGE, pair_entity(helper, pair.household_id), "upsert", unit_id)


def membership_changed(user_id: int, agency_ids: list[int], on) -> None:
    """Log, for the tablets of user `user_id`, every household currently paired with one of
    `agency_ids` (their team or organisation before and after a change of agency).

    A pair change of a team is logged under the team ("a<id>"), before the cursor of a user
    who joins it later: without this, the new member's tablet never received the team's
    households, and one who left kept them. Each is logged under the user ("u<id>"); the
    pull sends it in full while it is theirs and its removal otherwise (`pair_changed`).
    """
    if not agency_ids:
        return
    rows = db.session.execute(
        sa.select(Pair.household_id, Household.village_id, Household.commune_id)
        .join(Household, Household.id == Pair.household_id)
        .where(
            Pair.helper_agency_id.in_(agency_ids),
            Pair.starts_on <= on,
            sa.or_(Pair.ends_on.is_(None), Pair.ends_on > on),
        )
    )
    helper = helper_key(user_id)
    for household_id, village_id, commune_id in rows:
        record(PAIR_CHANGE, pair_entity(helper, household_id), "upsert", village_id or commune_id)


def helper_clause(helpers: list[str]) -> sa.ColumnElement[bool]:
    """SQL: a change row is a pair change of one of `helpers` (keys from `helper_key`)."""
    if not helpers:
        return sa.false()
    return sa.and_(
        Change.kind == PAIR_CHANGE,
        sa.or_(*(Change.entity_id.startswith(f"{h}:", autoescape=True) for h in helpers)),
    )


def after_clause(after: Cursor) -> sa.ColumnElement[bool]:
    """SQL: a change row comes after `after` in cursor order.

    The plain `txid >= ...` adds nothing to the row comparison but lets PostgreSQL skip the
    partitions below the cursor (`changes` is partitioned by txid; it does not prune on a
    row comparison)."""
    return sa.and_(
        Change.txid >= sa.literal(after.txid),
        sa.tuple_(Change.txid, Change.id) > sa.tuple_(sa.literal(after.txid), sa.literal(after.id)),
    )


def read(
    after: Cursor,
    limit: int,
    unit_ids: sa.Select | None = None,
    also: sa.ColumnElement[bool] | None = None,
) -> ChangePage:
    """The next `limit` changes after `after`, filtered to `unit_ids` (None: all units).

    Changes without a unit (nationwide) are always included, and those `also`
    picks (a user's pairs and paired households, wherever they are).
    """
    stmt = sa.select(Change).where(after_clause(after))
    if _is_postgres():
        # Only transactions that have all finished: see the module docstring of the model.
        horizon = sa.cast(
            sa.cast(sa.func.pg_snapshot_xmin(sa.func.pg_current_snapshot()), sa.Text),
            sa.BigInteger,
        )
        stmt = stmt.where(Change.txid < horizon)
    if unit_ids is not None:
        wanted = [Change.unit_id.is_(None), Change.unit_id.in_(unit_ids)]
        stmt = stmt.where(sa.or_(*wanted, *([also] if also is not None else [])))
    rows = list(db.session.scalars(stmt.order_by(Change.txid, Change.id).limit(limit + 1)))
    has_more = len(rows) > limit
    rows = rows[:limit]
    cursor = Cursor(rows[-1].txid, rows[-1].id) if rows else after
    return ChangePage(rows, cursor, has_more)
