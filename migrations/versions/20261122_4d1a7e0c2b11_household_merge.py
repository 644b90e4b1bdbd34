"""Household merge: conflicts, held chains and decision versions (sync contract H3-H9)

`households` gains the review flag and counters of open conflicts and held
updates; `household_versions` keeps what the merge recomputes a household
from (every value sent, the offline branch, decisions with their actor,
status and redirect, the conflicts open after each version);
`household_pending_updates` keeps what applying a held update later needs;
`household_conflicts` lists disagreements for reviewers.

Revision ID: 4d1a7e0c2b11
Revises: 9c1fc9059999
Create Date: 2026-11-22 01:50:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '4d1a7e0c2b11'
down_revision = '9c1fc9059999'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('household_conflicts',
    sa.Column('id', BIGID, nullable=False),
    sa.Column('household_id', sa.String(length=36), nullable=False),
    sa.Column('property', sa.String(length=100), nullable=False),
    sa.Column('base_value', sa.Text(), nullable=True),
    sa.Column('writes', JSON, nullable=False),
    sa.Column('provisional', sa.Text(), nullable=True),
    sa.Column('provisional_update', sa.String(length=100), nullable=True),
    sa.Column('detected_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolution_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_household_conflicts_household_id_households'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_household_conflicts_resolved_by_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_conflicts'))
    )
    with op.batch_alter_table('household_conflicts', schema=None) as batch_op:
        batch_op.create_index('ix_household_conflicts_household_open', ['household_id', 'resolved_at'], unique=False)

    with op.batch_alter_table('household_pending_updates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('details', JSON, nullable=True))

    with op.batch_alter_table('household_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=30), server_default='submission', nullable=False))
        batch_op.add_column(sa.Column('sent', JSON, nullable=True))
        batch_op.add_column(sa.Column('branch_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('branch_position', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('conflicts', JSON, nullable=True))
        batch_op.add_column(sa.Column('actor_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('status', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('merged_into_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('note', sa.String(length=40), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_household_versions_actor_id_users'), 'users', ['actor_id'], ['id'], ondelete='RESTRICT')

    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flagged', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('flag_reason', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('open_conflicts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('held_updates', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_column('held_updates')
        batch_op.drop_column('open_conflicts')
        batch_op.drop_column('flag_reason')
        batch_op.drop_column('flagged')

    with op.batch_alter_table('household_versions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_household_versions_actor_id_users'), type_='foreignkey')
        batch_op.drop_column('note')
        batch_op.drop_column('merged_into_id')
        batch_op.drop_column('status')
        batch_op.drop_column('actor_id')
        batch_op.drop_column('conflicts')
        batch_op.drop_column('branch_position')
        batch_op.drop_column('branch_id')
        batch_op.drop_column('sent')
        batch_op.drop_column('kind')

    with op.batch_alter_table('household_pending_updates', schema=None) as batch_op:
        batch_op.drop_column('details')

    op.drop_index('ix_household_conflicts_household_open', table_name='household_conflicts')
    op.drop_table('household_conflicts')
