"""partition the tables that grow with every visit, on PostgreSQL (issue 19, 25M households)

`changes` by RANGE (txid), `submission_payloads` by RANGE (submission_id), `audit_events` by
RANGE (at) monthly, `household_versions` by HASH (household_id) into 16: the layout, sizing
and archiving are in docs/partitioning.md, maintenance in `server.operations.partitions`
(`giupho partitions ensure`). Each table is rebuilt as a partitioned table: created, its
partitions made (every range table has a DEFAULT one), rows copied, sequence handed over, the
old table dropped, keys, foreign keys and indexes (as the catalogue lists them) recreated on
the parent (PostgreSQL makes them on every partition). A partitioned table's primary key must contain the partition key,
so `changes`, `audit_events` and `household_versions` get (id, key); ids still come from
their sequence. SQLite is left as it is.

The constants are copied from `server.operations.partitions` (a migration imports no
application code): keep both in step.

Revision ID: df6adec93258
Revises: 392c6f675c4b
Create Date: 2026-12-06 03:27:31.207785

"""
from __future__ import annotations

import datetime as dt

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'df6adec93258'
down_revision = '392c6f675c4b'
branch_labels = None
depends_on = None

HASH_PARTITIONS = 16
MONTHS_AHEAD = 3

# table: (partition clause, kind, key, span, sequence, primary key after, before)
TABLES = {
    "changes": ("RANGE (txid)", "span", "txid", 50_000_000, "changes_id_seq", "id, txid", "id"),
    "submission_payloads": (
        "RANGE (submission_id)", "span", "submission_id", 25_000_000, None,
        "submission_id", "submission_id",
    ),
    "audit_events": ("RANGE (at)", "month", "at", 0, "audit_events_id_seq", "id, at", "id"),
    "household_versions": (
        "HASH (household_id)", "hash", "household_id", 0, "household_versions_id_seq",
        "id, household_id", "id",
    ),
}

INDEXES = """
SELECT indexdef FROM pg_indexes i
WHERE schemaname = current_schema() AND tablename = :table
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                  WHERE c.conindid = format('%I.%I', i.schemaname, i.indexname)::regclass)
"""
CONSTRAINTS = """
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = CAST(:table AS regclass) AND contype IN ('u', 'f')
ORDER BY contype DESC, conname
"""


def _extras(conn, table: str) -> list[str]:
    """What `table` carries besides its columns and primary key (unique and foreign keys,
    indexes), as statements that make them again: read from the catalogue, so an index a
    later migration of another branch added is kept too."""
    made = [
        f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"
        for name, definition in conn.execute(sa.text(CONSTRAINTS), {"table": table})
    ]
    made += [definition for (definition,) in conn.execute(sa.text(INDEXES), {"table": table})]
    return made


CURRENT = {
    "changes": "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint",
    "submission_payloads": "SELECT last_value FROM submissions_id_seq",
}


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _partitions(conn, table: str, source: str) -> list[str]:
    """CREATE statements of the partitions `table` needs for the rows of `source` and the
    coming months, the DEFAULT one included."""
    _clause, kind, key, span, *_ = TABLES[table]
    if kind == "hash":
        return [
            f"CREATE TABLE {table}_h{r:02d} PARTITION OF {table}__new"
            f" FOR VALUES WITH (MODULUS {HASH_PARTITIONS}, REMAINDER {r})"
            for r in range(HASH_PARTITIONS)
        ]
    made = [f"CREATE TABLE {table}_default PARTITION OF {table}__new DEFAULT"]
    if kind == "month":
        starts = {dt.datetime.now(dt.UTC).date().replace(day=1)}
        for _ in range(MONTHS_AHEAD):
            starts.add(_next_month(max(starts)))
        rows = conn.execute(
            sa.text(f"SELECT DISTINCT date_trunc('month', at AT TIME ZONE 'UTC') FROM {source}")
        )
        starts.update(value.date() for (value,) in rows)
        for start in sorted(starts):
            made.append(
                f"CREATE TABLE {table}_y{start.year:04d}m{start.month:02d}"
                f" PARTITION OF {table}__new FOR VALUES FROM ('{start} 00:00:00+00')"
                f" TO ('{_next_month(start)} 00:00:00+00')"
            )
        return made
    first = (conn.execute(sa.text(CURRENT[table])).scalar() or 0) // span
    indexes = set(range(first, first + MONTHS_AHEAD + 1))
    rows = conn.execute(sa.text(f"SELECT DISTINCT {key} / {span} FROM {source}"))
    indexes.update(int(i) for (i,) in rows)
    for i in sorted(indexes):
        made.append(
            f"CREATE TABLE {table}_p{i:04d} PARTITION OF {table}__new"
            f" FOR VALUES FROM ({i * span}) TO ({(i + 1) * span})"
        )
    return made


def _rebuild(table: str, partitioned: bool) -> None:
    """Copy `table` into a new table, partitioned or plain, and put the copy in its place."""
    conn = op.get_bind()
    clause, _kind, _key, _span, sequence, pk_after, pk_before = TABLES[table]
    extras = _extras(conn, table)
    by = f" PARTITION BY {clause}" if partitioned else ""
    conn.execute(
        sa.text(
            f"CREATE TABLE {table}__new (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
            + by
        )
    )
    if partitioned:
        for statement in _partitions(conn, table, table):
            conn.execute(sa.text(statement))
    conn.execute(sa.text(f"INSERT INTO {table}__new SELECT * FROM {table}"))
    if sequence:  # dropping the old table would drop the sequence it owns
        conn.execute(sa.text(f"ALTER SEQUENCE {sequence} OWNED BY {table}__new.id"))
    conn.execute(sa.text(f"DROP TABLE {table}"))
    conn.execute(sa.text(f"ALTER TABLE {table}__new RENAME TO {table}"))
    pk = pk_after if partitioned else pk_before
    conn.execute(sa.text(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY ({pk})"))
    for statement in extras:
        conn.execute(sa.text(statement))


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        _rebuild(table, partitioned=True)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        _rebuild(table, partitioned=False)
