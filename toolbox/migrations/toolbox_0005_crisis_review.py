"""the crisis plan's last review day, and the review conversation's place (issue 14)

Revision ID: toolbox_0005_crisis_review
Revises: toolbox_0004_checkin
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db

revision = "toolbox_0005_crisis_review"
down_revision = "toolbox_0004_checkin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("toolbox_crisis_plan") as batch_op:
        batch_op.add_column(sa.Column("reviewed_on", bot.db.SealedDate(), nullable=True))
    op.create_table(
        "toolbox_crisis_review",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("started_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("asked_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("question_txn", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("user_id"),
    )


def downgrade() -> None:
    op.drop_table("toolbox_crisis_review")
    with op.batch_alter_table("toolbox_crisis_plan") as batch_op:
        batch_op.drop_column("reviewed_on")
