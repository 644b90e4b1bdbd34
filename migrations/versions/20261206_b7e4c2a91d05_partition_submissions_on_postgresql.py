"""partition submissions by RANGE (id) on PostgreSQL; R7's guard becomes a claims table

`submissions` is the biggest table that grows with every visit (docs/partitioning.md). It is
rebuilt as a table partitioned by RANGE (id) in spans of 25,000,000 ids (`submissions_p0000`,
...) with a DEFAULT partition, like `submission_payloads` (migration df6adec93258). Other
tables refer to `submissions(id)`, which is the partition key, so PRIMARY KEY (id) and their
foreign keys stay (they are dropped while the table is rebuilt and made again on it).

A partitioned table cannot hold UNIQUE (instance_id) (its unique keys must contain the
partition key), and that constraint was R7's guard (one submission per instanceID, under any
concurrency). The guard moves to a new table `submission_instances (instance_id PRIMARY KEY,
submission_id)`: ingest claims the instanceID in the statement that inserts the submission
(`INSERT INTO submission_instances ... ON CONFLICT DO NOTHING RETURNING` as a CTE the
submission's INSERT selects from), and the foreign key submissions (instance_id, id) ->
submission_instances (instance_id, submission_id) holds every row to its own claim, so no
path can store an instanceID twice. A trigger frees the claim when a submission is deleted.

SQLite keeps its table and its UNIQUE (instance_id) unchanged: nothing here runs there.

The constants are copied from `server.operations.partitions` (a migration imports no
application code): keep both in step.

Revision ID: b7e4c2a91d05
Revises: 3c1f0e9a7b42
Create Date: 2026-12-06 20:20:00.000000

"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'b7e4c2a91d05'
down_revision = '3c1f0e9a7b42'
branch_labels = None
depends_on = None

SPAN = 25_000_000
SPANS_AHEAD = 3
CLAIMS = "submission_instances"
CLAIM_FK = "fk_submissions_instance_id_submission_instances"
UNIQUE = "uq_submissions_instance_id"
FREE = "submissions_free_instance"

REFERRING = """
SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE contype = 'f' AND confrelid = CAST('submissions' AS regclass) AND conparentid = 0
ORDER BY 1, 2
"""
INDEXES = """
SELECT indexdef FROM pg_indexes i
WHERE schemaname = current_schema() AND tablename = 'submissions'
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                  WHERE c.conindid = format('%I.%I', i.schemaname, i.indexname)::regclass)
"""
CONSTRAINTS = """
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = CAST('submissions' AS regclass) AND contype IN ('u', 'f')
ORDER BY contype DESC, conname
"""


def _referring(conn) -> list[tuple[str, str, str]]:
    """The foreign keys of other tables that refer to `submissions` (each dropped here, made
    again by the caller once the table is rebuilt)."""
    found = conn.execute(sa.text(REFERRING)).all()
    for table, name, _definition in found:
        conn.execute(sa.text(f"ALTER TABLE {table} DROP CONSTRAINT {name}"))
    return found


def _extras(conn, leave_out: str) -> list[str]:
    """What `submissions` carries besides its columns and primary key (unique and foreign
    keys, indexes; not `leave_out`), as statements that make them again."""
    made = [
        f"ALTER TABLE submissions ADD CONSTRAINT {name} {definition}"
        for name, definition in conn.execute(sa.text(CONSTRAINTS))
        if name != leave_out
    ]
    made += [definition for (definition,) in conn.execute(sa.text(INDEXES))]
    return made


def _partitions(conn) -> list[str]:
    """The partitions for the rows of `submissions` and the coming spans, DEFAULT included."""
    made = ["CREATE TABLE submissions_default PARTITION OF submissions__new DEFAULT"]
    last = conn.execute(sa.text("SELECT last_value FROM submissions_id_seq")).scalar() or 0
    first = last // SPAN
    indexes = set(range(first, first + SPANS_AHEAD + 1))
    rows = conn.execute(sa.text(f"SELECT DISTINCT id / {SPAN} FROM submissions"))
    indexes.update(int(i) for (i,) in rows)
    for i in sorted(indexes):
        made.append(
            f"CREATE TABLE submissions_p{i:04d} PARTITION OF submissions__new"
            f" FOR VALUES FROM ({i * SPAN}) TO ({(i + 1) * SPAN})"
        )
    return made


def _rebuild(conn, partitioned: bool, extras: list[str]) -> None:
    """Copy `submissions` into a new table, partitioned or plain, and put it in its place."""
    by = " PARTITION BY RANGE (id)" if partitioned else ""
    conn.execute(
        sa.text(
            "CREATE TABLE submissions__new"
            " (LIKE submissions INCLUDING DEFAULTS INCLUDING CONSTRAINTS)" + by
        )
    )
    if partitioned:
        for statement in _partitions(conn):
            conn.execute(sa.text(statement))
    conn.execute(sa.text("INSERT INTO submissions__new SELECT * FROM submissions"))
    # Dropping the old table would drop the sequence it owns.
    conn.execute(sa.text("ALTER SEQUENCE submissions_id_seq OWNED BY submissions__new.id"))
    conn.execute(sa.text("DROP TABLE submissions"))
    conn.execute(sa.text("ALTER TABLE submissions__new RENAME TO submissions"))
    conn.execute(sa.text("ALTER TABLE submissions ADD CONSTRAINT pk_submissions PRIMARY KEY (id)"))
    for statement in extras:
        conn.execute(sa.text(statement))


def upgrade():
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    conn.execute(
        sa.text(
            f"CREATE TABLE {CLAIMS} ("
            " instance_id VARCHAR(100) NOT NULL,"
            " submission_id BIGINT NOT NULL,"
            f" CONSTRAINT pk_{CLAIMS} PRIMARY KEY (instance_id),"
            # What the foreign key from `submissions` refers to: a row and its own claim.
            f" CONSTRAINT uq_{CLAIMS}_instance_id_submission_id"
            " UNIQUE (instance_id, submission_id))"
        )
    )
    conn.execute(
        sa.text(f"INSERT INTO {CLAIMS} (instance_id, submission_id) SELECT instance_id, id FROM submissions")
    )
    referring = _referring(conn)
    _rebuild(conn, partitioned=True, extras=_extras(conn, leave_out=UNIQUE))
    conn.execute(
        sa.text(
            f"ALTER TABLE submissions ADD CONSTRAINT {CLAIM_FK} FOREIGN KEY (instance_id, id)"
            f" REFERENCES {CLAIMS} (instance_id, submission_id)"
        )
    )
    conn.execute(
        sa.text(
            f"CREATE FUNCTION {FREE}() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN DELETE FROM {CLAIMS}"
            " WHERE instance_id = OLD.instance_id AND submission_id = OLD.id;"
            " RETURN NULL; END $$"
        )
    )
    conn.execute(
        sa.text(
            f"CREATE TRIGGER {FREE} AFTER DELETE ON submissions"
            f" FOR EACH ROW EXECUTE FUNCTION {FREE}()"
        )
    )
    for table, name, definition in referring:
        conn.execute(sa.text(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"))


def downgrade():
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    referring = _referring(conn)
    conn.execute(sa.text(f"DROP TRIGGER {FREE} ON submissions"))
    conn.execute(sa.text(f"DROP FUNCTION {FREE}()"))
    _rebuild(conn, partitioned=False, extras=_extras(conn, leave_out=CLAIM_FK))
    conn.execute(
        sa.text(f"ALTER TABLE submissions ADD CONSTRAINT {UNIQUE} UNIQUE (instance_id)")
    )
    conn.execute(sa.text(f"DROP TABLE {CLAIMS}"))
    for table, name, definition in referring:
        conn.execute(sa.text(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"))
