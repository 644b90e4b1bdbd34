"""Test databases: per-session PostgreSQL schemas and app construction for tests."""

from __future__ import annotations

import os
import time
import uuid

import jinja2
import pytest
import sqlalchemy as sa
from werkzeug.routing import Rule

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
    """Drop `schema`, and the copies `tests.integration.snapshots` kept beside it."""
    engine = sa.create_engine(os.environ[POSTGRES_ENV])
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}_snapshots" CASCADE'))
    engine.dispose()


#: How long a test waits for PostgreSQL's pull horizon (P2) to pass the changes it expects.
#: The horizon is server-wide, and every xdist worker's schema is on the one test server:
#: a write transaction of another worker holds this worker's pulls back for as long as it
#: stays open, which on a slow, shared machine has been more than 30 s (CI, session 14).
#: Waiting is the design working; a wait this long that still fails names what held it.
HORIZON_WAIT_S = 300.0

_LOGGED_BELOW_HORIZON = sa.text(
    "SELECT coalesce(max(txid), 0) < pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
    " FROM changes"
)
_HORIZON_HOLDERS = sa.text(
    "SELECT pid, datname, backend_xid::text, round(extract(epoch FROM now() - xact_start)),"
    " state, left(query, 160) FROM pg_stat_activity"
    " WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid() ORDER BY xact_start"
)


def wait_for_pull_horizon(session, timeout: float = HORIZON_WAIT_S) -> None:
    """Wait until every change logged in `session`'s schema is below the pull horizon, so
    a pull serves it (no-op off PostgreSQL). `session`: a SQLAlchemy session whose
    transaction this rolls back. On timeout, fails naming the transactions that
    held the horizon (pid, database, xid, age in s, state, query)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    deadline, pause = time.monotonic() + timeout, 0.01
    while not session.execute(_LOGGED_BELOW_HORIZON).scalar():
        if time.monotonic() > deadline:
            holders = [tuple(r) for r in session.execute(_HORIZON_HOLDERS)]
            session.rollback()
            raise AssertionError(f"open transactions held the pull horizon back: {holders}")
        session.rollback()
        time.sleep(pause)
        pause = min(pause * 2, 0.25)
    session.rollback()


class _SharedBytecodeCache(jinja2.BytecodeCache):
    """Jinja's compiled templates, kept for every test app of the process.

    Each test builds its own app, hence its own Jinja environment, which would
    compile every template it renders again (about a tenth of a web test's time).
    Jinja's bytecode cache is the documented way to share that work: a bucket is
    keyed by the template's name and file and checked against its source's
    checksum, so an edited template is compiled afresh. The compiled code does not
    depend on the environment's globals or filters (those are looked up when the
    template renders), so each app still renders with its own; it does depend on
    the settings that steer parsing and code generation, which are added to the key
    so an app configured differently never gets another's code.
    """

    def __init__(self) -> None:
        self._code: dict[tuple, bytes] = {}

    @staticmethod
    def _key(bucket: jinja2.bccache.Bucket) -> tuple:
        env = bucket.environment
        autoescape = getattr(env.autoescape, "__func__", env.autoescape)  # an app's method
        settings = (
            tuple(sorted(env.extensions)),
            autoescape,
            env.finalize,
            env.optimized,
            env.trim_blocks,
            env.lstrip_blocks,
            env.keep_trailing_newline,
            env.newline_sequence,
            env.block_start_string,
            env.block_end_string,
            env.variable_start_string,
            env.variable_end_string,
            env.comment_start_string,
            env.comment_end_string,
            env.line_statement_prefix,
            env.line_comment_prefix,
        )
        return bucket.key, settings

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(self._key(bucket))
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[self._key(bucket)] = bucket.bytecode_to_string()


_TEMPLATES = _SharedBytecodeCache()


def _share_url_builders() -> None:
    """Make Werkzeug generate each route's URL builder once per process, not once per app.

    `Rule.compile` writes, compiles and executes Python source for the two URL
    builders of every rule, and a giupho app has about two hundred rules: that is
    nine tenths of `create_app`'s time (0.15 s), paid by each of the ~1,600 tests
    that build an app. The generated function is pure: it reads the rule's
    converters through the `self` it is bound to, and its code depends only on
    the rule's text, its parsed trace, its defaults (constants when they fill a
    placeholder, keyword arguments otherwise) and `append_unknown`, which together
    are the cache key. Every rule still gets its own bound builder, so URLs are
    built exactly as Werkzeug builds them.
    """
    if getattr(Rule._compile_builder, "_giupho_shared", False):
        return
    if not _werkzeug_checked():
        return  # another Werkzeug: each app compiles its own builders, as without the cache
    compile_builder = Rule._compile_builder
    builders: dict[tuple, object] = {}

    def shared(self: Rule, append_unknown: bool = True):
        defaults = self.defaults or {}
        filled = tuple(
            (name, self._converters[name].to_url(defaults[name]))
            for dynamic, name in self._trace
            if dynamic and name in defaults
        )
        key = (self.rule, tuple(self._trace), tuple(map(str, defaults)), filled, append_unknown)
        builder = builders.get(key)
        if builder is None:
            builder = builders[key] = compile_builder(self, append_unknown)
        return builder

    shared._giupho_shared = True
    Rule._compile_builder = shared


#: The Werkzeug minor versions whose `Rule._compile_builder` the cache key was checked
#: against (a private method: a new minor gets no cache until someone checks it again).
_WERKZEUG_CHECKED = ("3.1.",)


def _werkzeug_checked() -> bool:
    from importlib.metadata import version

    return version("werkzeug").startswith(_WERKZEUG_CHECKED) and hasattr(Rule, "_compile_builder")


def build_app(database_url: str, instance_path: str, **config):
    """A test app on `database_url`; the caller disposes it with `dispose_app`.

    The app's templates and URL builders come from caches shared by the process's
    apps (`_SharedBytecodeCache`, `_share_url_builders`): they are pure functions of
    the code, and compiling them again was most of the cost of an app per test.
    """
    _share_url_builders()
    app = create_app(
        {**BASE_TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, **config},
        instance_path=instance_path,
    )
    app.jinja_env.bytecode_cache = _TEMPLATES
    return app


def dispose_app(app) -> None:
    seen.stop(app)  # last-seen times noted by its requests, while the database is there
    replica.dispose(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
