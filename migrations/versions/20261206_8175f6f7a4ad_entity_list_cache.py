"""entity list cache: the CSV and MD5 of each scope's entity list, kept between requests

The OpenRosa manifest showed the MD5 of a CSV it built for every request, and the
media download built it again (issue 19). `entity_list_cache` keeps one entry per
scope (hash of the unit and paired household ids) and dataset, with the version of
the households it was made from; `made_at` is indexed for pruning old entries.

Revision ID: 8175f6f7a4ad
Revises: 7775fa59283e
Create Date: 2026-12-06 03:27:25.203483

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8175f6f7a4ad'
down_revision = '7775fa59283e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'entity_list_cache',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scope_key', sa.String(length=64), nullable=False),
        sa.Column('dataset', sa.String(length=100), nullable=False),
        sa.Column('version_key', sa.String(length=64), nullable=False),
        sa.Column('md5', sa.String(length=32), nullable=False),
        sa.Column('body', sa.LargeBinary(), nullable=False),
        sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_entity_list_cache')),
        sa.UniqueConstraint('scope_key', 'dataset', name='uq_entity_list_cache_scope_dataset'),
    )
    op.create_index('ix_entity_list_cache_made_at', 'entity_list_cache', ['made_at'])


def downgrade():
    op.drop_index('ix_entity_list_cache_made_at', table_name='entity_list_cache')
    op.drop_table('entity_list_cache')
