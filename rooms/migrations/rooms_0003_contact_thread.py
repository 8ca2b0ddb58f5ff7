"""a person's line to the consultants (!contact); the direct chat before enrolment

Revision ID: rooms_0003
Revises: rooms_0002_rest
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db

revision = 'rooms_0003'
down_revision = 'rooms_0002_rest'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rooms_contact_thread',
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('root_txn', sa.String(length=64), nullable=False),
    sa.Column('opened_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('rooms_direct_chat',
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('room_id', sa.String(length=255), nullable=False),
    sa.Column('seen_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id')
    )


def downgrade() -> None:
    op.drop_table('rooms_direct_chat')
    op.drop_table('rooms_contact_thread')
