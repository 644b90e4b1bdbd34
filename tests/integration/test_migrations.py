"""Migrations: they build exactly the models' schema, and go down and up again cleanly."""

from __future__ import annotations

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from server.db import MIGRATIONS_DIR, db, upgrade_database
from server.models import Base
from server.operations.schema_objects import include_name
from tests.integration.contract.drivers import DRIVERS
from tests.integration.contract.submissions import household_id, registration, visit
from tests.integration.database import (
    build_app,
    dispose_app,
    drop_postgres_schema,
    make_postgres_schema,
)
from tests.integration.live import populate_world, publish_shipped_xforms


def test_migrated_schema_has_no_pending_autogenerate_diff(ctx):
    with db.engine.connect() as conn:
        opts = {"compare_type": True, "include_name": include_name}  # as `flask db migrate`
        context = MigrationContext.configure(conn, opts=opts)
        assert compare_metadata(context, Base.metadata) == []


@pytest.fixture
def fresh_url(database, tmp_path):
    """An empty database of the same backend as `database`."""
    if database.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    schema, url = make_postgres_schema("giupho_fresh")
    yield url
    drop_postgres_schema(schema)


def test_downgrade_to_base_and_upgrade_again(fresh_url, tmp_path):
    app = build_app(fresh_url, str(tmp_path / "instance"))
    try:
        with app.app_context():
            upgrade_database()
            tables = set(sa.inspect(db.engine).get_table_names())
            assert set(Base.metadata.tables) <= tables
            flask_migrate.downgrade(directory=MIGRATIONS_DIR, revision="base")
            assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
            upgrade_database()
            assert set(Base.metadata.tables) <= set(sa.inspect(db.engine).get_table_names())
    finally:
        dispose_app(app)


def test_an_install_with_data_upgrades_to_the_programme_structure(fresh_url, tmp_path):
    """The programme-structure migration rebuilds `users` on SQLite (its role CHECK gains the
    agency lead). On an install with users referred to by devices and audit events, that
    rebuild failed on the foreign keys and `make run` stopped: migrations now run with
    SQLite's foreign keys off and checked after. Both backends keep every row."""
    app = build_app(fresh_url, str(tmp_path / "instance"))
    try:
        with app.app_context():
            flask_migrate.upgrade(directory=MIGRATIONS_DIR, revision="8b5e1c4f6a55")
            with db.engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "INSERT INTO users (id, username, full_name, role, active, created_at)"
                        " VALUES (1, 'lo.van.hung', 'Lò Văn Hùng', 'cadre', :t, :now)"
                    ),
                    {"t": True, "now": "2026-12-01 00:00:00+00:00"},
                )
                conn.execute(
                    sa.text(
                        "INSERT INTO devices (id, user_id, name, token_hash, created_at)"
                        " VALUES (1, 1, 'tablet', :h, :now)"
                    ),
                    {"h": "0" * 64, "now": "2026-12-01 00:00:00+00:00"},
                )
            upgrade_database()
            with db.engine.begin() as conn:
                assert conn.scalar(sa.text("SELECT count(*) FROM devices")) == 1
                conn.execute(sa.text("UPDATE users SET role = 'agency_lead' WHERE id = 1"))
                if db.engine.dialect.name == "sqlite":
                    assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        dispose_app(app)


PARTITIONED = (
    "changes",
    "submission_payloads",
    "audit_events",
    "household_versions",
    "submissions",
)
OWN_PARTITIONS = (
    "SELECT count(*) FROM pg_inherits JOIN pg_class c ON c.oid = inhrelid"
    " WHERE c.relnamespace = current_schema()::regnamespace"
)


def _counts(conn) -> dict[str, int]:
    return {t: conn.scalar(sa.text(f"SELECT count(*) FROM {t}")) for t in PARTITIONED}


def _kinds(conn) -> set[str]:
    rows = conn.execute(
        sa.text(
            "SELECT relkind FROM pg_class WHERE relname IN :names"
            " AND relnamespace = current_schema()::regnamespace"
        ).bindparams(sa.bindparam("names", expanding=True)),
        {"names": list(PARTITIONED)},
    )
    return {kind for (kind,) in rows}


@pytest.mark.postgres_only
def test_the_partitioning_goes_down_and_up_again_with_its_rows(fresh_url, tmp_path):
    """Issue 19's migration on an install with data: every row kept both ways, ids still
    from their sequences, and a row of an earlier month in that month's partition."""
    app = build_app(fresh_url, str(tmp_path / "instance"))
    try:
        with app.app_context():
            upgrade_database()
            world = populate_world(publish_shipped_xforms)
            driver = DRIVERS["json"](app.test_client(), world.tokens["cadre_a"])
            home = registration()
            assert driver.submit(home).means("accepted")
            assert driver.submit(visit(household_id(home))).means("accepted")
            with db.engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "INSERT INTO audit_events (action, details, at)"
                        " VALUES ('test.old', '{}', '2025-06-30 23:59:59+00')"
                    )
                )
                before = _counts(conn)
            assert all(before.values()), before
            db.session.remove()

            flask_migrate.downgrade(directory=MIGRATIONS_DIR, revision="a8b84d16ba3a")
            with db.engine.begin() as conn:
                assert _kinds(conn) == {"r"}
                assert _counts(conn) == before
                assert conn.scalar(sa.text(OWN_PARTITIONS)) == 0
                assert "submission_instances" not in sa.inspect(conn).get_table_names()

            upgrade_database()
            with db.engine.begin() as conn:
                assert _kinds(conn) == {"p"}
                assert _counts(conn) == before
                assert conn.scalar(sa.text(OWN_PARTITIONS)) > 0
                # Every stored submission holds the claim of its instanceID (R7's guard).
                claims = "SELECT count(*) FROM submissions JOIN submission_instances c"
                claims += " ON c.instance_id = submissions.instance_id AND c.submission_id = id"
                assert conn.scalar(sa.text(claims)) == before["submissions"]
                old = "SELECT tableoid::regclass::text FROM audit_events WHERE action = 'test.old'"
                assert conn.scalar(sa.text(old)) == "audit_events_y2025m06"
                newest = conn.scalar(sa.text("SELECT max(id) FROM audit_events"))
                added = conn.scalar(
                    sa.text(
                        "INSERT INTO audit_events (action, details, at)"
                        " VALUES ('test.new', '{}', now()) RETURNING id"
                    )
                )
                assert added > newest
            assert driver.submit(visit(household_id(home))).means("accepted")
    finally:
        dispose_app(app)
