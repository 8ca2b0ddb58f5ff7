"""what a flag found and a moderation entry's pseudonym sealed (issue 11, finding 12)

Revision ID: rooms_0002_rest
Revises: rooms_0001

The columns change type here; their values are sealed (bound to their rows) by
``bot.db.bring_seals_up_to_date``, which runs after the migrations with the content key.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db

revision = "rooms_0002_rest"
down_revision = "rooms_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rooms_flag") as batch_op:
        batch_op.alter_column("details", existing_type=sa.String(length=128), type_=bot.db.EncryptedText(),
                              existing_nullable=False)
    with op.batch_alter_table("rooms_moderation_entry") as batch_op:
        batch_op.alter_column("target_pseudonym", existing_type=sa.String(length=32), type_=bot.db.EncryptedText(),
                              existing_nullable=True)


def downgrade() -> None:
    raise NotImplementedError("sealed values are not turned back into plain text")
