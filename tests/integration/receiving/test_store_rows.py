"""Many rows in one statement (`ingest_store.insert_rows` / `update_rows`): on PostgreSQL one
JSON document read by `jsonb_populate_recordset` / `jsonb_to_recordset`, elsewhere an
executemany. Both must store exactly what an executemany of the same rows stores: NULLs, the
JSON null SQLAlchemy writes for None, text of any script, non-finite floats, aware times and
enums. Runs on SQLite and PostgreSQL (the `ctx` fixture)."""

from __future__ import annotations

import datetime as dt
import math

import pytest
import sqlalchemy as sa

from server.db import db
from server.models import HouseholdStatus
from server.models.base import JSONDoc, UTCDateTime, enum_column
from server.services.receiving import store

META = sa.MetaData()


def _table(name: str) -> sa.Table:
    return sa.Table(
        name,
        META,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(60)),
        sa.Column("note", sa.Text),
        sa.Column("score", sa.Float),
        sa.Column("doc", JSONDoc),
        sa.Column("at", UTCDateTime),
        sa.Column("status", enum_column(HouseholdStatus)),
        sa.Column("flag", sa.Boolean),
    )


BY_ROWS, BY_EXECUTEMANY = _table("probe_rows"), _table("probe_executemany")
ICT = dt.timezone(dt.timedelta(hours=7))
ROWS = [
    {"id": 1, "name": "Lò Văn Mình 𝄞", "note": 'quotes " \' and \\ back', "score": 1.5,
     "doc": {"a": float("nan"), "b": [1, None, "Đình"], "c": {"d": float("inf")}},
     "at": dt.datetime(2026, 12, 6, 9, 30, 15, 123456, tzinfo=ICT),
     "status": HouseholdStatus.ACTIVE, "flag": True},
    {"id": 2, "name": None, "note": None, "score": float("nan"), "doc": None, "at": None,
     "status": None, "flag": None},
    {"id": 3, "name": "", "note": "", "score": float("inf"), "doc": [], "at": None,
     "status": "merged", "flag": False},
    {"id": 4, "name": "x", "note": "\n\t", "score": float("-inf"), "doc": "text",
     "at": dt.datetime(1900, 1, 1, tzinfo=dt.UTC), "status": None, "flag": False},
    {"id": 5, "name": "y", "note": None, "score": -0.0, "doc": {"big": 2**70},
     "at": None, "status": None, "flag": None},
]  # fmt: skip


def _stored(table: sa.Table) -> list[tuple]:
    """Every row as text (a JSON column's NULL and JSON null differ; NaN is comparable)."""
    conn = db.session.connection()
    columns = [sa.cast(c, sa.Text) for c in table.c]
    raw = [tuple(r) for r in conn.execute(sa.select(*columns).order_by(table.c.id))]
    read = [
        tuple(repr(v) if isinstance(v, float) else v for v in r)
        for r in conn.execute(sa.select(table).order_by(table.c.id))
    ]
    return list(zip(raw, read, strict=True))


@pytest.fixture
def probes(ctx):
    """The probe tables, made for the test and dropped after it: the session's database is
    shared by the whole run, whose schema must stay the migrations' (`test_migrations`)."""
    for meta in (META, OTHER):
        meta.create_all(db.engine)
    yield
    db.session.rollback()
    for meta in (META, OTHER):
        meta.drop_all(db.engine)


def test_insert_rows_stores_what_an_executemany_stores(probes):
    store.insert_rows(BY_ROWS, [dict(r) for r in ROWS])
    db.session.connection().execute(sa.insert(BY_EXECUTEMANY), [dict(r) for r in ROWS])
    assert _stored(BY_ROWS) == _stored(BY_EXECUTEMANY)
    scores = [r[1][3] for r in _stored(BY_ROWS)]
    if db.session.connection().dialect.name == "postgresql":
        assert scores[1:4] == [repr(math.nan), repr(math.inf), repr(-math.inf)]
    # A known key is skipped, as ON CONFLICT DO NOTHING does.
    store.insert_rows(BY_ROWS, [{**ROWS[1], "name": "again"}], key=("id",))
    assert _stored(BY_ROWS) == _stored(BY_EXECUTEMANY)


def test_update_rows_changes_what_an_executemany_changes(probes):
    for table in (BY_ROWS, BY_EXECUTEMANY):
        db.session.connection().execute(sa.insert(table), [dict(r) for r in ROWS])
    updates = [
        {"key": 1, "was": "Lò Văn Mình 𝄞", "new_name": "Nguyễn Thị Hoà", "new_score": math.nan,
         "new_doc": None, "new_at": dt.datetime(2027, 1, 1, tzinfo=ICT), "new_status": None},
        {"key": 2, "was": None, "new_name": None, "new_score": None, "new_doc": {"x": [None]},
         "new_at": None, "new_status": HouseholdStatus.MERGED},  # `was` NULL: no row matches
        {"key": 3, "was": "", "new_name": "z", "new_score": -math.inf, "new_doc": {"n": math.nan},
         "new_at": None, "new_status": "active"},
        {"key": 4, "was": "not x", "new_name": "never", "new_score": 0.0, "new_doc": None,
         "new_at": None, "new_status": None},  # guarded: the name is not what it was
    ]  # fmt: skip
    update = store.RowsUpdate(
        BY_ROWS,
        (("id", "key"), ("name", "was")),
        (("name", "new_name"), ("score", "new_score"), ("doc", "new_doc"), ("at", "new_at"),
         ("status", "new_status")),
        kept=frozenset({"status"}),
    )  # fmt: skip
    assert store.update_rows(update, [dict(u) for u in updates]) == 2
    reference = store.RowsUpdate(BY_EXECUTEMANY, update.where, update.values, update.kept)
    db.session.connection().execute(reference.statement(), [dict(u) for u in updates])
    assert _stored(BY_ROWS) == _stored(BY_EXECUTEMANY)
    first = _stored(BY_ROWS)[0][1]
    assert first[1] == "Nguyễn Thị Hoà" and first[6] == "active"  # kept when given None


OTHER = sa.MetaData()
BYTES_ROWS, BYTES_EXECUTEMANY = (
    sa.Table(
        name,
        OTHER,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("body", sa.LargeBinary),
        sa.Column("kind", sa.String(10), default="plain"),
        sa.Column("doc", JSONDoc, default=dict),
        sa.Column("n", sa.BigInteger),
    )
    for name in ("probe_bytes_rows", "probe_bytes_executemany")
)


def test_insert_rows_fills_defaults_and_sql_values_and_keeps_bytes(probes):
    conn = db.session.connection()
    rows = [
        {"id": 1, "body": bytes(range(256)) + "Lò \x00".encode()},
        {"id": 2, "body": b""},
        {"id": 3, "body": None},
    ]
    seven = sa.literal(7, sa.BigInteger)
    store.insert_rows(BYTES_ROWS, [dict(r) for r in rows], sql=(("n", seven),))
    conn.execute(sa.insert(BYTES_EXECUTEMANY).values(n=seven), [dict(r) for r in rows])
    read = [
        [tuple(r) for r in conn.execute(sa.select(t).order_by(t.c.id))]
        for t in (BYTES_ROWS, BYTES_EXECUTEMANY)
    ]
    assert read[0] == read[1]
    assert read[0][0][1:] == (rows[0]["body"], "plain", {}, 7)
