"""Alembic environment for giupho, run through Flask-Migrate inside an application context.

The target metadata is the models' (`server.models.Base.metadata`); the
engine is the app's, so migrations run against whatever database the app is
configured for (SQLite or PostgreSQL).
"""

import contextlib

import sqlalchemy as sa
from alembic import context
from flask import current_app

from server.models.base import UTCDateTime
from server.operations.schema_objects import include_name

config = context.config


def _migrate():
    return current_app.extensions["migrate"]


def render_item(type_, obj, autogen_context):
    """Render giupho's own column types as the plain SQLAlchemy types they store as.

    Migrations must not import application code: a later refactor of
    `server.models` would otherwise break old revisions.
    """
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, sa.JSON) and "postgresql" in obj._variant_mapping:
        # Alembic's own rendering of this variant forgets the `sa.` before Text().
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return "sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')"
    return False


def _skip_empty_autogenerate(migration_context, revision, directives):
    # `flask db migrate` with no model change should not write an empty revision.
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []


def run_migrations_offline() -> None:
    """Emit SQL for the app's database URL without connecting (`flask db upgrade --sql`)."""
    engine = _migrate().db.engine
    context.configure(
        url=engine.url,
        target_metadata=_migrate().db.metadata,
        literal_binds=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run migrations on a connection of the app's engine."""
    args = dict(_migrate().configure_args)
    args.setdefault("process_revision_directives", _skip_empty_autogenerate)
    args.setdefault("render_item", render_item)
    args.setdefault("include_name", include_name)  # partitions, the job queue's tables
    with _migrate().db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=_migrate().db.metadata, **args)
        with _sqlite_foreign_keys_off(connection), context.begin_transaction():
            context.run_migrations()


@contextlib.contextmanager
def _sqlite_foreign_keys_off(connection: sa.Connection):
    """On SQLite, foreign keys off while migrating, checked after.

    Alembic changes a SQLite table by copying it into a new one and dropping the old
    (batch mode). With foreign keys on, dropping `users` fails as soon as any row refers to
    a user, so a migration that changes `users` stopped every install that has data (the
    CHECK constraint of the agency-lead role). SQLite's documented procedure for such a
    change is this: foreign keys off (outside the transaction: the pragma is a no-op inside
    one), the change, then `PRAGMA foreign_key_check` must find nothing, foreign keys on.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.dbapi_connection
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"the migration left rows without their parent: {broken[:5]}")
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
