"""a café keeps its number while listed

Revision ID: schedules_0002
Revises: schedules_0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'schedules_0002'
down_revision = 'schedules_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cafe') as batch:
        batch.add_column(sa.Column('number', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cafe') as batch:
        batch.drop_column('number')
