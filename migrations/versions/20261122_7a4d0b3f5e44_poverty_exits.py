"""Poverty exits: an official certifies (or declines) a household's assessed exit from poverty.

Revision ID: 7a4d0b3f5e44
Revises: 6f3c9a2e4d33
Create Date: 2026-11-22 02:15:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7a4d0b3f5e44'
down_revision = '6f3c9a2e4d33'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('poverty_exits',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('household_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=True),
    sa.Column('from_status', sa.String(length=30), nullable=False),
    sa.Column('to_status', sa.String(length=30), nullable=False),
    sa.Column('transition', sa.String(length=40), nullable=False),
    sa.Column('standard', sa.String(length=40), nullable=True),
    sa.Column('assessed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decision', sa.Enum('certified', 'declined', name='exitdecision', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('decision_date', sa.Date(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['commune_id'], ['admin_units.id'], name=op.f('fk_poverty_exits_commune_id_admin_units'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_poverty_exits_decided_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_poverty_exits_household_id_households'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_poverty_exits')),
    sa.UniqueConstraint('household_id', 'version', name=op.f('uq_poverty_exits_household_id_version'))
    )

    with op.batch_alter_table('poverty_exits', schema=None) as batch_op:
        batch_op.create_index('ix_poverty_exits_commune_decision', ['commune_id', 'decision', 'decision_date'], unique=False)


def downgrade():
    with op.batch_alter_table('poverty_exits', schema=None) as batch_op:
        batch_op.drop_index('ix_poverty_exits_commune_decision')

    op.drop_table('poverty_exits')
