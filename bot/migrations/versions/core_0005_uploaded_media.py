"""files uploaded for a person, for !forget-me to delete

Revision ID: core_0005
Revises: core_0004_rest
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db

revision = "core_0005"
down_revision = "core_0004_rest"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "uploaded_media",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("url", sa.String(length=512), nullable=False),
        sa.Column("uploaded_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_uploaded_media_owner"), "uploaded_media", ["owner"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_uploaded_media_owner"), table_name="uploaded_media")
    op.drop_table("uploaded_media")
