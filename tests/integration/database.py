"""Test databases: per-session PostgreSQL schemas and app construction for tests."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from server import create_app, replica
from server.db import db
from server.services.access import seen

POSTGRES_ENV = "GIUPHO_TEST_POSTGRES_URL"

#: Settings every test app gets: cheap password hashing, a fixed key, a known demo password.
BASE_TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_KIB": 1024,
    "DEMO_PASSWORD": "demo-pass",
    # Batch jobs run in a thread of the test's process; the tests of `server.jobs` start
    # real `giupho worker` processes on PostgreSQL's queue themselves.
    "JOBS": "inprocess",
}


def _postgres_url_or_skip() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        message = f"{POSTGRES_ENV} is not set"
        if os.environ.get("GIUPHO_REQUIRE_ALL") == "1":
            pytest.fail(f"{message} but GIUPHO_REQUIRE_ALL=1: PostgreSQL tests must run")
        pytest.skip(message)
    return url


def postgres_schema_url(base_url: str, schema: str) -> str:
    """`base_url` with every connection's search_path set to `schema`."""
    url = sa.engine.make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def make_postgres_schema(prefix: str) -> tuple[str, str]:
    """Create a fresh schema on the test server; returns (schema, URL bound to it)."""
    base = _postgres_url_or_skip()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    schema = f"{prefix}_{worker}_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return schema, postgres_schema_url(base, schema)


def drop_postgres_schema(schema: str) -> None:
    engine = sa.create_engine(os.environ[POSTGRES_ENV])
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def build_app(database_url: str, instance_path: str, **config):
    """A test app on `database_url`; the caller disposes it with `dispose_app`."""
    return create_app(
        {**BASE_TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, **config},
        instance_path=instance_path,
    )


def dispose_app(app) -> None:
    seen.stop(app)  # last-seen times noted by its requests, while the database is there
    replica.dispose(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
