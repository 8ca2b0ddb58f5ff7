"""the monthly recovery overview's opt-in (issue 14, item 2)

Revision ID: toolbox_0006_overview
Revises: toolbox_0005_crisis_review
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db

revision = "toolbox_0006_overview"
down_revision = "toolbox_0005_crisis_review"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "toolbox_overview_monthly",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("since", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )


def downgrade() -> None:
    op.drop_table("toolbox_overview_monthly")
