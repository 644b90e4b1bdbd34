"""Household merge: conflicts, held chains and decision versions (sync contract H3-H9)

Revision ID: 4d1a7e0c2b11
Revises: 9c1fc9059999
Create Date: 2026-11-22 01:50:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '4d1a7e0c2b11'
down_revision = '9c1fc9059999'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
