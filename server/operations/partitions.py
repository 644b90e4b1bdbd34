"""PostgreSQL declarative partitioning of the tables that grow with every visit (issue 19).

The layout (why these tables and these keys: `docs/partitioning.md`):

* `changes` by RANGE of `txid`, the writing transaction's id, which is the pull cursor's
  first half: a pull after a cursor reads only the partitions at or above its txid.
* `submission_payloads` by RANGE of `submission_id` (ids are handed out in arrival order):
  a payload is read by its submission id, and old ranges can be detached and archived.
* `audit_events` by RANGE of `at`, one partition per calendar month (UTC).
* `household_versions` by HASH of `household_id` (16 partitions): a household's history is
  read from one partition, and (household_id, version) stays unique.
* `submissions` by RANGE of `id`, spans like its payloads'. Other tables refer to it by `id`,
  which is the key, so PRIMARY KEY (id) stays; UNIQUE (instance_id) cannot, so R7's guard is
  the claim in `submission_instances` (`server.models.submissions`).

`households` is not partitioned: HASH partitions made the scope filters' literal-id lists
30-50 % slower (docs/partitioning.md).

Every RANGE table has a DEFAULT partition, so an insert never fails for want of a partition.
`ensure` creates the partitions of the coming months (or id spans) and moves any row the
DEFAULT partition holds into the partition made for it; run it daily (`giupho partitions
ensure`, or `periodic`). Rows of `submissions` are not moved (moving is a delete and an
insert, which the foreign keys referring to them refuse or cascade): the partition of their
span starts above them and they stay in DEFAULT (`Ensured.kept`). On SQLite nothing is
partitioned and both functions do nothing.

The migrations `df6adec93258` and `b7e4c2a91d05` (submissions) created the layout; they keep
their own copy of these constants (migrations never import application code), so a change
here needs a migration too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator

import sqlalchemy as sa

from server.db import db

#: How many partitions a HASH table has (fixed: changing it means rewriting the table).
HASH_PARTITIONS = 16


@dataclasses.dataclass(frozen=True)
class Layout:
    """How one table is partitioned: by calendar `month`, by `span` of a growing number, or
    by `hash`. `span` is sized so that one partition holds about a month at national scale
    (25 million households visited monthly); `current` is SQL for the number now reached."""

    table: str
    key: str
    kind: str
    span: int = 0
    current: str = ""
    #: Whether `ensure` moves the rows DEFAULT holds into a new partition; if not, the new
    #: partition starts above them (rows other tables refer to: moving would break them).
    moves: bool = True


LAYOUTS = (
    Layout(
        "changes",
        "txid",
        "span",
        span=50_000_000,
        current="SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint",
    ),
    Layout(
        "submission_payloads",
        "submission_id",
        "span",
        span=25_000_000,
        current="SELECT last_value FROM submissions_id_seq",
    ),
    Layout("audit_events", "at", "month"),
    Layout("household_versions", "household_id", "hash"),
    Layout(
        "submissions",
        "id",
        "span",
        span=25_000_000,
        current="SELECT last_value FROM submissions_id_seq",
        moves=False,
    ),
)

#: A partition maintenance waits at most this long for a lock, so that it never queues
#: behind a long transaction while every pull and ingest queues behind it.
LOCK_TIMEOUT = "5s"
LOCK_NOT_AVAILABLE = "55P03"


_PARTITION_NAME = re.compile(
    "^("
    + "|".join(layout.table for layout in LAYOUTS)
    + r")_(default|p\d{4,}|y\d{4}m\d{2}|h\d{2})$"
)


def is_partition_name(name: str) -> bool:
    """Whether `name` is one of the partitions this module and the migration create."""
    return _PARTITION_NAME.match(name) is not None


@dataclasses.dataclass(frozen=True)
class Partition:
    table: str
    name: str
    bounds: str  # PostgreSQL's own text: FOR VALUES FROM (...) TO (...), DEFAULT, ...
    rows: int  # the planner's estimate (exact after ANALYZE)
    bytes: int


def enabled() -> bool:
    return db.engine.dialect.name == "postgresql"


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def month_name(table: str, start: dt.date) -> str:
    return f"{table}_y{start.year:04d}m{start.month:02d}"


def span_name(table: str, index: int) -> str:
    return f"{table}_p{index:04d}"


def _ranges(layout: Layout, months_ahead: int, today: dt.date) -> Iterator[tuple[str, str, str]]:
    """(partition name, lower bound, upper bound) of every partition `layout` should have:
    the ones for the coming `months_ahead` and the ones the DEFAULT partition has rows for."""
    default = f"{layout.table}_default"
    if layout.kind == "month":
        starts = {month_start(today)}
        for _ in range(months_ahead):
            starts.add(next_month(max(starts)))
        stray = db.session.scalars(
            sa.text(
                f"SELECT DISTINCT date_trunc('month', {layout.key} AT TIME ZONE 'UTC')"
                f" FROM {default}"
            )
        )
        starts.update(value.date() for value in stray)
        for start in sorted(starts):
            yield (
                month_name(layout.table, start),
                f"'{start.isoformat()} 00:00:00+00'",
                f"'{next_month(start).isoformat()} 00:00:00+00'",
            )
        return
    now = db.session.scalar(sa.text(layout.current)) or 0
    first = now // layout.span
    indexes = set(range(first, first + months_ahead + 1))
    stray = db.session.scalars(
        sa.text(f"SELECT DISTINCT {layout.key} / :span FROM {default}"), {"span": layout.span}
    )
    indexes.update(int(i) for i in stray)
    for i in sorted(indexes):
        yield span_name(layout.table, i), str(i * layout.span), str((i + 1) * layout.span)


def _exists(name: str) -> bool:
    return bool(
        db.session.scalar(
            sa.text(
                "SELECT 1 FROM pg_class WHERE relname = :name"
                " AND relnamespace = current_schema()::regnamespace"
            ),
            {"name": name},
        )
    )


def _create(layout: Layout, name: str, low: str, high: str) -> tuple[bool, int, int] | None:
    """Create one partition in its own transaction, taking over the rows of the DEFAULT
    partition that belong to it; returns whether it was made (not when the rows DEFAULT
    keeps fill its range), how many rows moved and how many were kept in DEFAULT (None:
    another process created it meanwhile).

    PostgreSQL refuses a new partition while DEFAULT holds rows of its range, so the rows
    are moved into a plain table that is then attached, all in one transaction: readers see
    every row before and after. A table whose rows are not moved (`Layout.moves`) gets a
    partition that starts above the rows DEFAULT holds of its range."""
    table, key, default = layout.table, layout.key, f"{layout.table}_default"
    session = db.session
    session.execute(sa.text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    # The lock first: an insert between the move and the attach would land in DEFAULT.
    session.execute(sa.text(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"))
    if _exists(name):  # another process made it while this one waited for the lock
        session.rollback()
        return None
    kept = 0
    if not layout.moves:
        kept, highest = session.execute(
            sa.text(
                f"SELECT count(*), max({key}) FROM {default}"
                f" WHERE {key} >= {low} AND {key} < {high}"
            )
        ).one()
        if highest is not None:
            low = str(highest + 1)
            if int(low) >= int(high):  # the strays fill the span: nothing left to make
                session.rollback()
                return False, 0, kept
    where = f"{key} >= {low} AND {key} < {high}"
    session.execute(
        sa.text(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    )
    moved = 0
    if layout.moves:
        moved = session.execute(
            sa.text(
                f"WITH moved AS (DELETE FROM {default} WHERE {where} RETURNING *)"
                f" INSERT INTO {name} SELECT * FROM moved"
            )
        ).rowcount
    # The CHECK lets ATTACH skip scanning the new table; it is redundant once attached.
    session.execute(sa.text(f"ALTER TABLE {name} ADD CONSTRAINT {name}_bounds CHECK ({where})"))
    session.execute(
        sa.text(f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM ({low}) TO ({high})")
    )
    session.execute(sa.text(f"ALTER TABLE {name} DROP CONSTRAINT {name}_bounds"))
    session.commit()
    return True, moved, kept


@dataclasses.dataclass(frozen=True)
class Ensured:
    created: list[str]
    moved: int  # rows taken out of DEFAULT partitions
    skipped: list[str] = dataclasses.field(default_factory=list)  # a lock not had in time
    kept: int = 0  # rows left in DEFAULT partitions (`Layout.moves`), below a new partition


def ensure(months_ahead: int = 3, today: dt.date | None = None) -> Ensured:
    """Create the partitions of this month and the next `months_ahead` (for `span` tables:
    the span now being filled and `months_ahead` more), and of any row DEFAULT holds."""
    if not enabled():
        return Ensured([], 0)
    today = today or dt.datetime.now(dt.UTC).date()
    done = Ensured([], 0)
    for layout in LAYOUTS:
        if layout.kind == "hash":
            continue
        wanted = list(_ranges(layout, months_ahead, today))
        db.session.rollback()
        for name, low, high in wanted:
            if _exists(name):
                continue
            try:
                made = _create(layout, name, low, high)
            except sa.exc.OperationalError as error:
                db.session.rollback()
                if getattr(error.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                    raise
                done.skipped.append(name)  # the next run makes it; DEFAULT holds rows meanwhile
                continue
            if made is not None:
                created, moved, kept = made
                if created:
                    done.created.append(name)
                done = dataclasses.replace(done, moved=done.moved + moved, kept=done.kept + kept)
    db.session.rollback()
    return done


def partitions() -> list[Partition]:
    """Every partition of the partitioned tables, in bound order (DEFAULT last)."""
    if not enabled():
        return []
    rows = db.session.execute(
        sa.text(
            "SELECT parent.relname, child.relname, pg_get_expr(child.relpartbound, child.oid),"
            " greatest(child.reltuples, 0)::bigint, pg_total_relation_size(child.oid)"
            " FROM pg_inherits i"
            " JOIN pg_class parent ON parent.oid = i.inhparent"
            " JOIN pg_class child ON child.oid = i.inhrelid"
            " WHERE parent.relkind = 'p'"
            " AND parent.relnamespace = current_schema()::regnamespace"
            " ORDER BY parent.relname, pg_get_expr(child.relpartbound, child.oid) = 'DEFAULT',"
            " child.relname"
        )
    )
    found = [Partition(*row) for row in rows]
    db.session.rollback()
    return found
