"""unfinished uploads: a partial index for the daily sweep of abandoned upload sessions

`giupho worker`'s daily `uploads.sweep` (and `giupho periodic`) deletes the upload sessions
left unfinished for UPLOAD_EXPIRY_DAYS with their chunks; this index lists those sessions
without reading the finished ones, which are one per attachment ever received.

Revision ID: 3c1f0e9a7b42
Revises: 8175f6f7a4ad
Create Date: 2026-12-06 07:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c1f0e9a7b42'
down_revision = '8175f6f7a4ad'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_upload_sessions_unfinished',
        'upload_sessions',
        ['updated_at'],
        postgresql_where=sa.text('completed_at IS NULL'),
        sqlite_where=sa.text('completed_at IS NULL'),
    )


def downgrade():
    op.drop_index('ix_upload_sessions_unfinished', table_name='upload_sessions')
