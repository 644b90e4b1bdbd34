"""A populated database built once per worker and copied back for each test that needs it.

Hundreds of tests start from the same world (`tests.integration.live.populate_world`):
places, a user of every role with devices, the published shipped forms. Building it
through the services takes a fifth to a half of a second per test, where copying its
rows back from a copy of the tables takes a few milliseconds.

`restored(name, build)` runs `build()` for the first test of a worker (per database
and name), then copies every table that `build()` filled, as it is, next to the test
database: a separate PostgreSQL schema (`<schema>_snapshots`, dropped with the test
schema) or a separate SQLite file (attached for the copy). Later tests on empty tables
get those rows back with INSERT .. SELECT, in the order of the foreign keys, and a
copy of what `build()` returned; they therefore start from the very rows the first
test's `build()` wrote (same ids, same hashes and tokens, same timestamps). Rows the
tests write afterwards get new ids from the sequences, which have moved past the
snapshot's, as they would after a real build.

The snapshot is only used when it provably describes the whole state: `build()` must
start on empty tables (otherwise it simply runs) and must leave rows only in the
models' tables (otherwise no snapshot is kept and every test builds).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa

from server.db import db
from server.models import Base

T = TypeVar("T")

#: The models' tables, parents before children: the order rows can be inserted in.
TABLES = [t.name for t in Base.metadata.sorted_tables]


@dataclass(frozen=True)
class _Snapshot:
    tables: tuple[str, ...]  # the tables `build()` filled, parents first
    result: Any  # what `build()` returned; each test gets a deep copy


#: (database URL, name) -> snapshot, or None when `build()` cannot be snapshotted.
_SNAPSHOTS: dict[tuple[str, str], _Snapshot | None] = {}


def tables_with_rows(conn: sa.Connection, tables: list[str], prefix: str = "") -> list[str]:
    """Which of `tables` (under `prefix`, a schema or attached database) hold rows, in order.

    One statement for all of them: on tables this small, the round trips are the cost.
    """
    if not tables:
        return []
    query = " UNION ALL ".join(
        f"SELECT {i} WHERE EXISTS (SELECT 1 FROM {prefix}{name})" for i, name in enumerate(tables)
    )
    filled = {row[0] for row in conn.exec_driver_sql(query)}
    return [name for i, name in enumerate(tables) if i in filled]


def restored(name: str, build: Callable[[], T]) -> T:
    """`build()`'s rows and result, built once per worker and database, copied afterwards.

    Runs inside an application context, where the test's tables were just emptied.
    """
    engine = db.engine
    if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
        return build()  # nowhere to keep a copy beside it
    key = (engine.url.render_as_string(hide_password=False), name)
    with engine.connect() as conn:
        if tables_with_rows(conn, TABLES):  # the test added rows first: build on them
            return build()
    if key in _SNAPSHOTS:
        snapshot = _SNAPSHOTS[key]
        if snapshot is None:
            return build()
        _restore(engine, name, snapshot)
        return copy.deepcopy(snapshot.result)
    result = build()
    db.session.remove()
    _SNAPSHOTS[key] = _take(engine, name, result)
    return result


def _take(engine: sa.Engine, name: str, result: Any) -> _Snapshot | None:
    with engine.connect() as conn:
        if _others_have_rows(conn):
            return None
        tables = tables_with_rows(conn, TABLES)
        store = _attach(conn)
        for table in tables:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {store}{name}__{table}")
            conn.exec_driver_sql(f"CREATE TABLE {store}{name}__{table} AS SELECT * FROM {table}")
        conn.commit()
        _detach(conn)
    return _Snapshot(tuple(tables), copy.deepcopy(result))


def _restore(engine: sa.Engine, name: str, snapshot: _Snapshot) -> None:
    with engine.connect() as conn:
        store = _attach(conn)
        for table in snapshot.tables:
            # The copy was made with SELECT *, so its columns are the table's, in order.
            conn.exec_driver_sql(f"INSERT INTO {table} SELECT * FROM {store}{name}__{table}")
        conn.commit()
        _detach(conn)


def _others_have_rows(conn: sa.Connection) -> bool:
    """Whether a table outside the models (PostgreSQL's submission claims, the job queue's
    tables) holds rows: those would not be in the snapshot. A partition is not such a
    table: its rows are read, and written back, through its partitioned model table."""
    if conn.dialect.name == "postgresql":
        found = conn.exec_driver_sql(
            "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
            " AND relkind IN ('r', 'p') AND NOT relispartition"
        )
        names = set(found.scalars())
    else:
        names = set(sa.inspect(conn).get_table_names())
    names -= set(TABLES) | {"alembic_version"}
    return bool(tables_with_rows(conn, sorted(names)))


def _attach(conn: sa.Connection) -> str:
    """Make the snapshots' storage reachable from `conn`; returns the prefix of its tables."""
    if conn.dialect.name == "sqlite":
        path = Path(conn.engine.url.database).with_suffix(".snapshots.sqlite3")
        # ATTACH cannot run inside a transaction; the connection has none open yet
        # (Python's sqlite3 opens one only before a write).
        conn.exec_driver_sql("ATTACH DATABASE ? AS snapshots", (str(path),))
        return "snapshots."
    schema = conn.exec_driver_sql("SELECT current_schema()").scalar_one()
    store = f'"{schema}_snapshots"'
    conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {store}")
    return f"{store}."


def _detach(conn: sa.Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("DETACH DATABASE snapshots")
