"""mood scores, activity ratings, crisis-plan sections and review date, medication times and the
view log sealed (issue 11, finding 12)

Revision ID: toolbox_0003_rest
Revises: toolbox_0002

The columns change type here (to text); their values are sealed (bound to their rows) by
``bot.db.bring_seals_up_to_date``, which runs after the migrations with the content key.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db

revision = "toolbox_0003_rest"
down_revision = "toolbox_0002"
branch_labels = None
depends_on = None


def _to_text(table: str, column: str, old: sa.types.TypeEngine, new: sa.types.TypeEngine, nullable: bool) -> None:
    with op.batch_alter_table(table) as batch_op:
        batch_op.alter_column(column, existing_type=old, type_=new, existing_nullable=nullable,
                              postgresql_using=f"{column}::text")


def upgrade() -> None:
    _to_text("toolbox_mood", "score", sa.Integer(), bot.db.SealedInt(), False)
    _to_text("toolbox_activity", "importance", sa.Integer(), bot.db.SealedInt(), True)
    _to_text("toolbox_activity", "enjoyment", sa.Integer(), bot.db.SealedInt(), True)
    _to_text("toolbox_crisis_item", "section", sa.String(length=32), bot.db.EncryptedText(), False)
    _to_text("toolbox_crisis_plan", "review_on", sa.Date(), bot.db.SealedDate(), True)
    _to_text("toolbox_medication", "times", sa.String(length=128), bot.db.EncryptedText(), False)
    with op.batch_alter_table("toolbox_share_view") as batch_op:
        batch_op.drop_index(batch_op.f("ix_toolbox_share_view_provider_id"))
    _to_text("toolbox_share_view", "provider_id", sa.String(length=255), bot.db.EncryptedText(), False)
    _to_text("toolbox_share_view", "item", sa.String(length=16), bot.db.EncryptedText(), False)
    _to_text("toolbox_share_view", "shown", sa.Boolean(), bot.db.SealedBool(), False)


def downgrade() -> None:
    raise NotImplementedError("sealed values are not turned back into plain text")
