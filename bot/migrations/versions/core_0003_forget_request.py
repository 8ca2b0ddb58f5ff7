"""forget-me confirmation codes, now the core's (was toolbox_forget_request)

Revision ID: core_0003
Revises: core_0002
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db

revision = "core_0003"
down_revision = "core_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Pending codes are not carried over: they last ten minutes, and a person whose code is
    # lost by the upgrade is told to send !forget-me again.
    op.create_table(
        "forget_request",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("expires_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )


def downgrade() -> None:
    op.drop_table("forget_request")
