"""households merged into another: a partial index

A duplicate case follows merge chains by `households.merged_into_id`, and deleting a
household makes PostgreSQL check that none was merged into it: without an index each is a
scan of every household (deleting 20,000 test households took over two minutes, holding
back every pull's snapshot on the server). Merged households are few, so the index holds
only them.

Revision ID: e2a7d4c9b816
Revises: b7e4c2a91d05
Create Date: 2026-12-06 22:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e2a7d4c9b816'
down_revision = 'b7e4c2a91d05'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_households_merged_into',
        'households',
        ['merged_into_id'],
        postgresql_where=sa.text('merged_into_id IS NOT NULL'),
        sqlite_where=sa.text('merged_into_id IS NOT NULL'),
    )


def downgrade():
    op.drop_index('ix_households_merged_into', table_name='households')
