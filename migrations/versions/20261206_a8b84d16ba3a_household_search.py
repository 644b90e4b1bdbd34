"""household search: a folded search text on each household's duplicate profile

The site's search box (names typed without accents or in any case, CCCD, phone) matches
`duplicate_profiles.search` with LIKE '%...%': a trigram GIN index on PostgreSQL serves it;
on SQLite the (commune, search) index is read for the commune being searched. Existing
profiles are backfilled from their stored JSON with the function that writes new ones.

Revision ID: a8b84d16ba3a
Revises: d9e118a10cd0
Create Date: 2026-12-06 00:38:57.034187

"""
from alembic import op
import sqlalchemy as sa

from server.dedup.keys import Profile, search_text

# revision identifiers, used by Alembic.
revision = 'a8b84d16ba3a'
down_revision = 'd9e118a10cd0'
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade():
    trigrams = "gin_trgm_ops"
    if op.get_bind().dialect.name == "postgresql":
        # In public, not the first schema of the search path: a schema dropped with CASCADE
        # (a test run's) would take the extension and every index using it along. The
        # operator class is named with its schema, whatever the connection's search path.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
        schema = op.get_bind().scalar(sa.text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
            " WHERE e.extname = 'pg_trgm'"
        ))
        trigrams = f'"{schema}".gin_trgm_ops'
    with op.batch_alter_table('duplicate_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search', sa.Text(), server_default='', nullable=False))
    _backfill()
    with op.batch_alter_table('duplicate_profiles', schema=None) as batch_op:
        batch_op.create_index('ix_duplicate_profiles_commune_search', ['commune_id', 'search'], unique=False)
        batch_op.create_index('ix_duplicate_profiles_search_trgm', ['search'], unique=False, postgresql_using='gin', postgresql_ops={'search': trigrams})


def _backfill():
    conn = op.get_bind()
    table = sa.table(
        "duplicate_profiles",
        sa.column("household_id", sa.String),
        sa.column("profile", sa.JSON),
        sa.column("search", sa.Text),
    )
    update = (
        sa.update(table)
        .where(table.c.household_id == sa.bindparam("hid"))
        .values(search=sa.bindparam("text"))
    )
    after = ""
    while True:
        rows = conn.execute(
            sa.select(table.c.household_id, table.c.profile)
            .where(table.c.household_id > after)
            .order_by(table.c.household_id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        conn.execute(update, [
            {"hid": hid, "text": search_text(Profile.from_json(profile or {}))}
            for hid, profile in rows
        ])
        after = rows[-1].household_id


def downgrade():
    with op.batch_alter_table('duplicate_profiles', schema=None) as batch_op:
        batch_op.drop_index('ix_duplicate_profiles_search_trgm', postgresql_using='gin', postgresql_ops={'search': 'gin_trgm_ops'})
        batch_op.drop_index('ix_duplicate_profiles_commune_search')
        batch_op.drop_column('search')
