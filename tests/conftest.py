"""Fixtures shared by the whole suite: an app per test on SQLite and PostgreSQL.

The database schema is built once per backend and test session by running
the migrations (so every run tests them); each test then starts from empty
tables (emptied, which is much faster than rebuilding the schema).

PostgreSQL tests run when GIUPHO_TEST_POSTGRES_URL is set, each session (or
xdist worker) in its own schema, and are skipped otherwise, unless
GIUPHO_REQUIRE_ALL=1 (CI), where a missing PostgreSQL fails them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from server.db import db, upgrade_database
from tests.integration.database import (
    build_app,
    dispose_app,
    drop_postgres_schema,
    make_postgres_schema,
)
from tests.integration.snapshots import TABLES, tables_with_rows

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(autouse=True)
def _no_giupho_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep a developer's GIUPHO_* variables out of the tests (test switches stay)."""
    for name in list(os.environ):
        if (
            name.startswith("GIUPHO_")
            and not name.startswith("GIUPHO_TEST_")
            and name != "GIUPHO_REQUIRE_ALL"
        ):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session", params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[str]:
    """The URL of a database migrated to the latest revision, one per backend and session."""
    instance = tmp_path_factory.mktemp(f"instance-{request.param}")
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{instance / 'test.sqlite3'}"
    else:
        schema, url = make_postgres_schema("giupho_test")
    app = build_app(url, str(instance))
    with app.app_context():
        upgrade_database()
    dispose_app(app)
    yield url
    if schema is not None:
        drop_postgres_schema(schema)


def empty_tables() -> None:
    """Empty every table of the current app's database.

    DELETE rather than TRUNCATE on PostgreSQL too: on tables this small it takes
    milliseconds, where TRUNCATE's file swaps take about 0.4 s per test. Only the
    tables that hold rows are emptied (most tests fill a few of the 44), found with
    one query: on PostgreSQL a DELETE per table was most of this function's time.
    """
    with db.engine.connect() as conn:
        tables = list(reversed(tables_with_rows(conn, TABLES)))
        if not tables:
            return
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # ON DELETE RESTRICT fires row by row in SQLite, even for a self-reference
            # (admin_units.parent_id) emptied in one statement: checks off meanwhile.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        for name in tables:
            conn.execute(sa.text(f"DELETE FROM {name}"))
        conn.commit()
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")


@pytest.fixture
def app(database: str, tmp_path):
    """A giupho app on empty tables.

    No application context stays pushed: a request would reuse it, and the
    test and the request would then share one database session.
    """
    app = build_app(
        database, str(tmp_path / "instance"), ATTACHMENT_DIR=str(tmp_path / "attachments")
    )
    with app.app_context():
        empty_tables()
    yield app
    dispose_app(app)


@pytest.fixture
def ctx(app):
    """An application context for tests that call services directly."""
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the combinations a marker says do not apply, instead of skipping them.

    `postgres_only`: the behaviour exists only with concurrent writers (SQLite has one
    writer at a time), or concerns PostgreSQL's connections; `sqlite_only`: SQLite's single
    write lock. `protocols("openrosa")`: the test drives a feature only those
    protocols have. CI requires that nothing is skipped, so these are deselected.
    """
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        params = params.params if params else {}
        if item.get_closest_marker("postgres_only") and params.get("database") == "sqlite":
            drop.append(item)
            continue
        if item.get_closest_marker("sqlite_only") and params.get("database") == "postgres":
            drop.append(item)
            continue
        only = item.get_closest_marker("protocols")
        if only and "protocol" in params and params["protocol"] not in only.args:
            drop.append(item)
            continue
        keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
