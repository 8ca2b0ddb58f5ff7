"""the daily check-in: its setting and the answers to its prompts (issue 14, item 1)

Revision ID: toolbox_0004_checkin
Revises: toolbox_0003_rest
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db

revision = "toolbox_0004_checkin"
down_revision = "toolbox_0003_rest"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "toolbox_checkin",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("clock", bot.db.EncryptedText(), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("since", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "toolbox_checkin_answer",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("mood_id", sa.Integer(), nullable=True),
        sa.Column("note", bot.db.EncryptedText(), nullable=True),
        sa.Column("answered_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["mood_id"], ["toolbox_mood.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "day"),
    )
    op.create_index(op.f("ix_toolbox_checkin_answer_user_id"), "toolbox_checkin_answer", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_toolbox_checkin_answer_user_id"), table_name="toolbox_checkin_answer")
    op.drop_table("toolbox_checkin_answer")
    op.drop_table("toolbox_checkin")
