"""bans and blocks: who may reach peers

Revision ID: rooms_0004_peers
Revises: rooms_0003
Create Date: 2026-12-03 11:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db

revision = 'rooms_0004_peers'
down_revision = 'rooms_0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rooms_ban',
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('by', sa.String(length=255), nullable=False),
    sa.Column('at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('rooms_block',
    sa.Column('blocker', sa.String(length=255), nullable=False),
    sa.Column('blocked', sa.String(length=255), nullable=False),
    sa.Column('at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('blocker', 'blocked')
    )
    with op.batch_alter_table('rooms_block', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rooms_block_blocked'), ['blocked'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rooms_block', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rooms_block_blocked'))
    op.drop_table('rooms_block')
    op.drop_table('rooms_ban')
