"""batch jobs: Procrastinate's queue (PostgreSQL), the rebuild's checkpoints, two indexes

Batch work moves to a worker through Procrastinate (issue 19): on PostgreSQL its schema
(tables, types, functions, triggers, all named procrastinate_*) goes into the app's schema,
the first of the connection's search_path. Its SQL is the installed Procrastinate's
(`procrastinate>=3.10,<3.11` in pyproject.toml): upgrading Procrastinate past that range
takes a new revision that applies its own migration scripts (procrastinate/sql/migrations).
SQLite (the laptop) runs jobs in process and gets none of it.

The household rebuild keeps a checkpoint per commune and the differences it found; it reads
each commune's households in id order (commune_id, id) and the recheck of recent
registrations reads them by creation time (created_at), both by index.

Revision ID: 392c6f675c4b
Revises: a8b84d16ba3a
Create Date: 2026-12-06 03:26:11.884853

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '392c6f675c4b'
down_revision = 'a8b84d16ba3a'
branch_labels = None
depends_on = None

_PROCRASTINATE_TABLES = (
    "procrastinate_events", "procrastinate_periodic_defers", "procrastinate_jobs",
    "procrastinate_workers",
)
_PROCRASTINATE_TYPES = (
    "procrastinate_job_to_defer_v1", "procrastinate_job_event_type", "procrastinate_job_status",
)


def upgrade():
    op.create_table('household_rebuild_checkpoints',
    sa.Column('commune_key', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('fix', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('after_id', sa.String(length=36), server_default='', nullable=False),
    sa.Column('households', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('differences', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('commune_key', name=op.f('pk_household_rebuild_checkpoints'))
    )
    op.create_table('household_rebuild_differences',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('commune_key', sa.BigInteger(), nullable=False),
    sa.Column('household_id', sa.String(length=36), nullable=False),
    sa.Column('field', sa.String(length=100), nullable=False),
    sa.Column('live', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('rebuilt', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_rebuild_differences'))
    )
    with op.batch_alter_table('household_rebuild_differences', schema=None) as batch_op:
        batch_op.create_index('ix_household_rebuild_differences_commune', ['commune_key', 'id'], unique=False)

    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.create_index('ix_households_commune_id', ['commune_id', 'id'], unique=False)
        batch_op.create_index('ix_households_created_at', ['created_at'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        from procrastinate.schema import SchemaManager

        # On the driver's connection (same transaction): the SQL holds '%' and ':' that
        # SQLAlchemy's text() would take for parameters.
        op.get_bind().connection.driver_connection.execute(SchemaManager.get_schema())


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in _PROCRASTINATE_TABLES:
            op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
        op.execute(
            "DO $$ DECLARE f record; BEGIN"
            " FOR f IN SELECT p.oid::regprocedure AS signature FROM pg_proc p"
            " JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%'"
            " LOOP EXECUTE 'DROP FUNCTION ' || f.signature || ' CASCADE'; END LOOP; END $$"
        )
        for type_ in _PROCRASTINATE_TYPES:
            op.execute(f"DROP TYPE IF EXISTS {type_} CASCADE")

    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_index('ix_households_created_at')
        batch_op.drop_index('ix_households_commune_id')

    with op.batch_alter_table('household_rebuild_differences', schema=None) as batch_op:
        batch_op.drop_index('ix_household_rebuild_differences_commune')

    op.drop_table('household_rebuild_differences')
    op.drop_table('household_rebuild_checkpoints')
