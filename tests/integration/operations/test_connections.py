"""How the app's PostgreSQL connections are set up (`server.db.engine_options`).

Every connection runs with `jit = off` (the planner's cost estimate for an `IN` list probed
in each hash partition made it JIT-compile a 16 ms read for 126 ms), and the startup options
the database URL names itself (the tests' `search_path`, a replica's read-only role) still
apply: the app adds its option to them instead of replacing them.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server import replica
from server.db import db
from tests.integration.access.test_read_replica import read_only
from tests.integration.database import build_app, dispose_app

pytestmark = pytest.mark.postgres_only


def _settings(connection) -> tuple[str, str, str]:
    return tuple(
        connection.execute(
            sa.text(
                "SELECT current_setting('jit'), current_schema(),"
                " current_setting('default_transaction_read_only')"
            )
        ).one()
    )


def test_connections_run_without_jit_and_keep_the_urls_own_options(database, tmp_path):
    schema = sa.engine.make_url(database).query["options"].split("search_path=")[1]
    app = build_app(database, str(tmp_path), DATABASE_REPLICA_URL=read_only(database))
    try:
        with app.app_context():
            with db.engine.connect() as primary:
                assert _settings(primary) == ("off", schema, "off")
            with replica.replica_engine_of(app).connect() as read:
                assert _settings(read) == ("off", schema, "on")
    finally:
        dispose_app(app)
