"""Resumable attachment uploads (sync contract C3)

Revision ID: 6f3c9a2e4d33
Revises: 5e2b8f1d3c22
Create Date: 2026-11-22 01:50:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '6f3c9a2e4d33'
down_revision = '5e2b8f1d3c22'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
