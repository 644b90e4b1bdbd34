"""blobs: the file store in the database (attachments, upload chunks, export files)

Files that lived in the instance folder of one machine are kept where every machine reaches
them: one row per part of at most 1 MiB under the file's key. The files already in the
attachment folder are moved by `giupho storage migrate` (a command, not this migration: a
migration must not depend on a folder another machine may not have).

On PostgreSQL the parts are stored EXTERNAL: out of line and never compressed, as photos and
zip or XLSX exports do not compress and trying costs CPU on every write.

Revision ID: ce14e154937d
Revises: df6adec93258
Create Date: 2026-12-06 03:25:21.502842

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'ce14e154937d'
down_revision = 'df6adec93258'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'blobs',
        sa.Column('key', sa.String(length=500), nullable=False),
        sa.Column('part', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('key', 'part', name=op.f('pk_blobs')),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE blobs ALTER COLUMN data SET STORAGE EXTERNAL")


def downgrade():
    op.drop_table('blobs')
