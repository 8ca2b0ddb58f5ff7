"""the pseudonym sealed; its comparison key kept only as a keyed hash (issue 11, finding 12)

Revision ID: core_0004_rest
Revises: core_0003

The columns change type here; their values are sealed (bound to their rows) and hashed by
``bot.db.bring_seals_up_to_date``, which runs after the migrations with the content key.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db

revision = "core_0004_rest"
down_revision = "core_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("participant") as batch_op:
        batch_op.alter_column("pseudonym", existing_type=sa.String(length=32), type_=bot.db.EncryptedText(),
                              existing_nullable=True)
        batch_op.alter_column("pseudonym_key", existing_type=sa.String(length=32), type_=sa.String(length=80),
                              existing_nullable=True)


def downgrade() -> None:
    raise NotImplementedError("sealed pseudonyms are not turned back into plain text")
