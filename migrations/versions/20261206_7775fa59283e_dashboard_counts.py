"""dashboard counts: what the dashboard and the queue count is read from indexes

The households' poverty status becomes a column kept with `properties` (the dashboard's
GROUP BY reads the (commune, status, poverty status) index alone); each household carries
its versions' assessments summed up (`assessed_status`, and `exit_version` / `exit_from`
for an exit: the latest change of status when it left poor or near-poor for a better one),
so exits are found from a partial index instead of reading every household's versions.
Partial indexes find the households with open conflicts and the updates still held; the
(commune, superseded, received) index counts and pages the queue and the month's visits;
the (commune, sender, form version) index lists the queue's senders and forms. Existing rows are
backfilled in SQL: the statuses from their JSON, the exits with window functions over the
versions, reading them as `server.services.households.poverty.track` does.

Revision ID: 7775fa59283e
Revises: ce14e154937d
Create Date: 2026-12-06 03:26:25.097216

"""
from alembic import op
import sqlalchemy as sa

from forms.poverty import load_standards


# revision identifiers, used by Alembic.
revision = '7775fa59283e'
down_revision = 'ce14e154937d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('household_pending_updates', schema=None) as batch_op:
        batch_op.create_index('ix_household_pending_updates_open', ['submission_id'], unique=False, postgresql_where=sa.text('resolved_at IS NULL'), sqlite_where=sa.text('resolved_at IS NULL'))

    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.add_column(sa.Column('poverty_status', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('assessed_status', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('exit_version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('exit_from', sa.String(length=40), nullable=True))
        batch_op.create_index('ix_households_commune_conflicts', ['commune_id'], unique=False, postgresql_where=sa.text('open_conflicts > 0'), sqlite_where=sa.text('open_conflicts > 0'))
        batch_op.create_index('ix_households_commune_exit', ['commune_id'], unique=False, postgresql_where=sa.text('exit_version IS NOT NULL'), sqlite_where=sa.text('exit_version IS NOT NULL'))
        batch_op.create_index('ix_households_commune_poverty', ['commune_id', 'status', 'poverty_status'], unique=False)

    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index('ix_submissions_commune_current', ['commune_id', 'superseded', 'received_at'], unique=False)
        batch_op.create_index('ix_submissions_commune_sender_form', ['commune_id', 'submitter_id', 'form_version_id'], unique=False)

    _backfill()


#: The statuses an exit leaves (server.services.households.poverty.TRANSITIONS at this revision).
_LEFT = ("poor", "near_poor")


def _backfill():
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        status = lambda column: f"substr({column} ->> 'poverty_status', 1, 40)"  # noqa: E731
    else:
        status = lambda column: f"substr(json_extract({column}, '$.poverty_status'), 1, 40)"  # noqa: E731
    conn.execute(sa.text(
        f"UPDATE households SET poverty_status = {status('properties')} "
        f"WHERE {status('properties')} <> ''"
    ))
    ranks = " ".join(
        f"WHEN '{key}' THEN {n}" for n, key in enumerate(load_standards().statuses)
    )
    rank = lambda column: f"(CASE {column} {ranks} ELSE -1 END)"  # noqa: E731
    left = ", ".join(f"'{key}'" for key in _LEFT)
    is_exit = f"c.prev IN ({left}) AND {rank('c.s')} > {rank('c.prev')}"
    conn.execute(sa.text(f"""
        WITH a AS (
            SELECT household_id, version, {status('changes')} AS s
            FROM household_versions WHERE {status('changes')} <> ''
        ), l AS (
            SELECT household_id, version, s,
                LAG(s) OVER (PARTITION BY household_id ORDER BY version) AS prev,
                ROW_NUMBER() OVER (PARTITION BY household_id ORDER BY version DESC) AS latest
            FROM a
        ), c AS (
            SELECT household_id, version, s, prev,
                ROW_NUMBER() OVER (PARTITION BY household_id ORDER BY version DESC) AS n
            FROM l WHERE prev IS NOT NULL AND prev <> s
        ), t AS (
            SELECT l.household_id, l.s AS assessed,
                CASE WHEN {is_exit} THEN c.version END AS exit_version,
                CASE WHEN {is_exit} THEN c.prev END AS exit_from
            FROM l LEFT JOIN c ON c.household_id = l.household_id AND c.n = 1
            WHERE l.latest = 1
        )
        UPDATE households SET assessed_status = t.assessed, exit_version = t.exit_version,
            exit_from = t.exit_from
        FROM t WHERE households.id = t.household_id
    """))


def downgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_commune_sender_form')
        batch_op.drop_index('ix_submissions_commune_current')

    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_index('ix_households_commune_poverty')
        batch_op.drop_index('ix_households_commune_exit', postgresql_where=sa.text('exit_version IS NOT NULL'), sqlite_where=sa.text('exit_version IS NOT NULL'))
        batch_op.drop_index('ix_households_commune_conflicts', postgresql_where=sa.text('open_conflicts > 0'), sqlite_where=sa.text('open_conflicts > 0'))
        batch_op.drop_column('exit_from')
        batch_op.drop_column('exit_version')
        batch_op.drop_column('assessed_status')
        batch_op.drop_column('poverty_status')

    with op.batch_alter_table('household_pending_updates', schema=None) as batch_op:
        batch_op.drop_index('ix_household_pending_updates_open', postgresql_where=sa.text('resolved_at IS NULL'), sqlite_where=sa.text('resolved_at IS NULL'))
