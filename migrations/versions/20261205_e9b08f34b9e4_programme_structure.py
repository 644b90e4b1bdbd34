"""Programme structure: agencies with kind, level, parent and lead; agency assignments to
communes and villages for a period; pairs of helpers and households; the agency-lead role.

The old `agency_units` table (never written by any code) gives way to `agency_assignments`.

Revision ID: e9b08f34b9e4
Revises: 8b5e1c4f6a55
Create Date: 2026-12-05 18:45:04.967856

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e9b08f34b9e4'
down_revision = '8b5e1c4f6a55'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agency_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.Enum('poor', 'special_difficulty', 'coastal', 'island', 'other', name='unitcategory', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('phase', sa.String(length=20), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('note', sa.String(length=1000), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_on IS NULL OR ends_on >= starts_on', name=op.f('ck_agency_assignments_assignment_period_order')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_agency_assignments_agency_id_agencies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_agency_assignments_created_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['admin_units.id'], name=op.f('fk_agency_assignments_unit_id_admin_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_assignments'))
    )
    with op.batch_alter_table('agency_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_assignments_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index('ix_agency_assignments_unit', ['unit_id', 'ends_on'], unique=False)

    op.create_table('pairs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.String(length=36), nullable=False),
    sa.Column('helper_user_id', sa.Integer(), nullable=True),
    sa.Column('helper_agency_id', sa.Integer(), nullable=True),
    sa.Column('priority', sa.SmallInteger(), nullable=True),
    sa.Column('capacity_note', sa.String(length=1000), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('end_reason', sa.String(length=200), nullable=True),
    sa.Column('replaced_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(helper_user_id IS NULL) <> (helper_agency_id IS NULL)', name=op.f('ck_pairs_pair_one_helper')),
    sa.CheckConstraint('ends_on IS NULL OR ends_on >= starts_on', name=op.f('ck_pairs_pair_period_order')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_pairs_created_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['helper_agency_id'], ['agencies.id'], name=op.f('fk_pairs_helper_agency_id_agencies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['helper_user_id'], ['users.id'], name=op.f('fk_pairs_helper_user_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_pairs_household_id_households'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['replaced_by_id'], ['pairs.id'], name=op.f('fk_pairs_replaced_by_id_pairs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pairs'))
    )
    with op.batch_alter_table('pairs', schema=None) as batch_op:
        batch_op.create_index('ix_pairs_helper_agency', ['helper_agency_id', 'ends_on'], unique=False)
        batch_op.create_index('ix_pairs_helper_user', ['helper_user_id', 'ends_on'], unique=False)
        batch_op.create_index('ix_pairs_household', ['household_id', 'ends_on'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_users_role'), type_='check')
        batch_op.create_check_constraint(
            'role', sa.column('role').in_(['cadre', 'commune_official', 'coordinator', 'agency_lead', 'admin'])
        )

    op.drop_table('agency_units')
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.Enum('agency', 'team', 'organisation', name='agencykind', native_enum=False, create_constraint=True, length=20), server_default='agency', nullable=False))
        batch_op.add_column(sa.Column('level', sa.Enum('central', 'province', 'district', 'commune', name='agencylevel', native_enum=False, create_constraint=True, length=20), server_default='province', nullable=False))
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('home_unit_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('lead_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.create_index(batch_op.f('ix_agencies_home_unit_id'), ['home_unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agencies_lead_id'), ['lead_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agencies_parent_id'), ['parent_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_agencies_lead_id_users'), 'users', ['lead_id'], ['id'], ondelete='SET NULL', use_alter=True)
        batch_op.create_foreign_key(batch_op.f('fk_agencies_parent_id_agencies'), 'agencies', ['parent_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_foreign_key(batch_op.f('fk_agencies_home_unit_id_admin_units'), 'admin_units', ['home_unit_id'], ['id'], ondelete='RESTRICT')



def downgrade():
    op.execute("UPDATE users SET role = 'coordinator' WHERE role = 'agency_lead'")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_users_role'), type_='check')
        batch_op.create_check_constraint(
            'role', sa.column('role').in_(['cadre', 'commune_official', 'coordinator', 'admin'])
        )

    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_agencies_home_unit_id_admin_units'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_agencies_parent_id_agencies'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_agencies_lead_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_agencies_parent_id'))
        batch_op.drop_index(batch_op.f('ix_agencies_lead_id'))
        batch_op.drop_index(batch_op.f('ix_agencies_home_unit_id'))
        batch_op.drop_constraint(batch_op.f('ck_agencies_agencykind'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_agencies_agencylevel'), type_='check')
        batch_op.drop_column('active')
        batch_op.drop_column('lead_id')
        batch_op.drop_column('home_unit_id')
        batch_op.drop_column('parent_id')
        batch_op.drop_column('level')
        batch_op.drop_column('kind')

    op.create_table('agency_units',
    sa.Column('agency_id', sa.INTEGER(), nullable=False),
    sa.Column('unit_id', sa.INTEGER(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_agency_units_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['admin_units.id'], name=op.f('fk_agency_units_unit_id_admin_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('agency_id', 'unit_id', name=op.f('pk_agency_units'))
    )
    with op.batch_alter_table('pairs', schema=None) as batch_op:
        batch_op.drop_index('ix_pairs_household')
        batch_op.drop_index('ix_pairs_helper_user')
        batch_op.drop_index('ix_pairs_helper_agency')

    op.drop_table('pairs')
    with op.batch_alter_table('agency_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_agency_assignments_unit')
        batch_op.drop_index(batch_op.f('ix_agency_assignments_agency_id'))

    op.drop_table('agency_assignments')
