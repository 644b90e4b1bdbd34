"""Duplicate households: blocking keys, possible-duplicate cases, decisions, double entries (D1-D4)

Revision ID: 5e2b8f1d3c22
Revises: 4d1a7e0c2b11
Create Date: 2026-11-22 01:50:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '5e2b8f1d3c22'
down_revision = '4d1a7e0c2b11'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
