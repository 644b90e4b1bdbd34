"""The database extensions, created unbound and bound to an app by `init_app`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy as sa
from flask import Flask
from flask_migrate import Migrate, upgrade
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles

from server import replica
from server.json_codec import dumps_text, loads
from server.models import Base
from server.replica import RoutingSession

# Objects stay loaded after commit: services commit before the view renders the
# response, and re-reading every row just to serialise it would double the queries.
# The session class routes a reading request's SELECTs to a read replica when one is set.
db = SQLAlchemy(
    model_class=Base, session_options={"expire_on_commit": False, "class_": RoutingSession}
)
migrate = Migrate()

#: Alembic scripts live next to the package (repository root `migrations/`).
MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")


def engine_options(config: dict[str, Any], url: str | None = None) -> dict[str, Any]:
    """SQLAlchemy engine options for the configured database (or for `url`, the replica's).

    No `pool_pre_ping`: it costs a round trip on every request (a fifth of an
    OpenRosa POST's). Pooled connections are checked after they sat idle
    instead (`_ping_after_idle`). JSON columns go through orjson (`server.json_codec`).

    On PostgreSQL every connection runs with `jit = off`. The app's queries are bounded by a
    scope or a page, so compiling one never pays; but the planner's estimate for an `IN` list
    probed in each of a partitioned table's 16 hash partitions crosses `jit_above_cost`, and
    the rebuild's history read of 500 households spent 126 of its 142 ms compiling (16 ms
    without). Set as a startup option, so it costs no round trip.
    """
    parsed = sa.engine.make_url(url or config["SQLALCHEMY_DATABASE_URI"])
    options: dict[str, Any] = {"json_serializer": dumps_text, "json_deserializer": loads}
    if parsed.get_backend_name() == "sqlite":
        return options
    startup = parsed.query.get("options", "")  # e.g. a search_path: kept, jit added
    startup = " ".join([*(startup if isinstance(startup, tuple) else [startup]), "-c jit=off"])
    return {
        **options,
        "pool_size": config["DB_POOL_SIZE"],
        "connect_args": {"options": startup.strip()},
    }


_IDLE_SINCE = "giupho.idle_since"


def _ping_after_idle(engine: sa.Engine, idle_s: float) -> None:
    """Check a pooled connection before use when it sat unused for `idle_s` or more.

    A server restart or a network cut kills idle connections; one just used
    is alive (and if it died since, the request fails with 503, SQLAlchemy
    drops the whole pool, and the client's retry gets a fresh connection).
    A dead connection found here is replaced before the request sees it
    (`DisconnectionError` makes the pool connect again).
    """

    def on_checkin(_dbapi_connection, record) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def on_checkout(dbapi_connection, record, _proxy) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since < idle_s:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise sa.exc.DisconnectionError(str(exc)) from exc

    sa.event.listen(engine, "checkin", on_checkin)
    sa.event.listen(engine, "checkout", on_checkout)


def _sqlite_pragmas(busy_timeout_ms: int):
    """A connect listener that sets the pragmas every SQLite connection needs."""

    def on_connect(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets readers run while one writer commits; foreign keys are off by default
        # in SQLite; busy_timeout makes a second writer wait instead of failing at once.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


def _begin_before_savepoint(conn: sa.Connection, _name: str) -> None:
    """Open the SQLite transaction before a SAVEPOINT that would otherwise start one itself.

    Python's sqlite3 module only sends BEGIN before INSERT/UPDATE/DELETE. A
    SAVEPOINT sent first makes SQLite start a transaction of its own, which the
    matching RELEASE then commits: rows written in the savepoint would survive
    a rollback of the surrounding transaction (sync contract R8).
    """
    dbapi_connection = conn.connection.dbapi_connection
    if not dbapi_connection.in_transaction:
        dbapi_connection.execute("BEGIN")


def init_app(app: Flask) -> None:
    """Bind the database and migrations to `app`."""
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config))
    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=MIGRATIONS_DIR,
        compare_type=True,
        render_as_batch=True,
    )
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            sa.event.listen(
                engine, "connect", _sqlite_pragmas(app.config["SQLITE_BUSY_TIMEOUT_MS"])
            )
            sa.event.listen(engine, "savepoint", _begin_before_savepoint)
        else:
            _ping_after_idle(engine, app.config["DB_PING_AFTER_IDLE_S"])
    replica.init_app(app, lambda url: engine_options(app.config, url))
    engine = replica.replica_engine_of(app)
    if engine is not None and engine.dialect.name != "sqlite":
        _ping_after_idle(engine, app.config["DB_PING_AFTER_IDLE_S"])


def upgrade_database() -> None:
    """Bring the schema of the current app's database to the latest migration."""
    upgrade(directory=MIGRATIONS_DIR)


_HEAD: list[str] = []  # the code's head revision, read from the scripts once per process
_AT_HEAD: set[str] = set()  # database URLs already seen at the head (never go back down)


def head_revision() -> str:
    """The revision this code's migrations end at."""
    if not _HEAD:
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", MIGRATIONS_DIR)
        _HEAD.append(ScriptDirectory.from_config(config).get_current_head())
    return _HEAD[0]


def schema_revisions() -> tuple[str | None, str]:
    """The current app's database revision and this code's head (readiness, restore).

    Once a database was seen at the head it is not asked again: a schema moves only by
    `giupho db upgrade`, which this process's code would have run to the same head.
    """
    from alembic.runtime.migration import MigrationContext

    expected = head_revision()
    url = db.engine.url.render_as_string(hide_password=False)
    if url in _AT_HEAD:
        return expected, expected
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current == expected:
        _AT_HEAD.add(url)
    return current, expected


class Among(sa.sql.expression.ColumnElement[bool]):
    """`column IN (:name)` for a list bound at execution, as one parameter on PostgreSQL.

    SQLAlchemy's expanding `IN` renders one placeholder per item, each rendered, cast and
    parsed again by the driver at every execution: for the thousands of ids a batch job
    looks up at once (the duplicate recheck reads every candidate's profile of 200
    households) that cost more than the query. On PostgreSQL this renders
    `column = ANY(CAST(:name AS type[]))`, one array parameter; elsewhere the expanding
    `IN`. Built with SQLAlchemy's own compiler extension, so statements stay cached."""

    inherit_cache = True
    type = sa.Boolean()
    _is_implicitly_boolean = True  # a comparison: SQLite's WHERE needs no `= 1`
    _traverse_internals: ClassVar[list] = [
        ("column", sa.sql.visitors.InternalTraversal.dp_clauseelement),
        ("name", sa.sql.visitors.InternalTraversal.dp_string),
    ]

    def __init__(self, column: sa.ColumnElement, name: str) -> None:
        self.column = column
        self.name = name


def among(column: sa.ColumnElement, name: str) -> Among:
    """`column` is one of the list bound as `name` (see `Among`)."""
    return Among(column, name)


@compiles(Among)
def _among_expanding(element: Among, compiler, **kw) -> str:
    return compiler.process(element.column.in_(sa.bindparam(element.name, expanding=True)), **kw)


@compiles(Among, "postgresql")
def _among_array(element: Among, compiler, **kw) -> str:
    array = sa.cast(sa.bindparam(element.name), ARRAY(element.column.type))
    return compiler.process(element.column == sa.any_(array), **kw)
