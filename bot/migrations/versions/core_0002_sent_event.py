"""sent events by transaction id

Revision ID: core_0002
Revises: core_0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db

revision = "core_0002"
down_revision = "core_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sent_event",
        sa.Column("txn_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("sent_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("txn_id"),
    )
    op.create_index("ix_sent_event_event_id", "sent_event", ["event_id"])


def downgrade() -> None:
    op.drop_index("ix_sent_event_event_id", table_name="sent_event")
    op.drop_table("sent_event")
