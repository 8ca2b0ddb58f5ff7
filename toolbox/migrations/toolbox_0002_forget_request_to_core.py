"""the forget-me confirmation codes moved to the core (core_0003)

Revision ID: toolbox_0002
Revises: toolbox_0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db

revision = "toolbox_0002"
down_revision = "toolbox_0001"
branch_labels = None
depends_on = "core_0003"


def upgrade() -> None:
    op.drop_table("toolbox_forget_request")


def downgrade() -> None:
    op.create_table(
        "toolbox_forget_request",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("expires_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )
