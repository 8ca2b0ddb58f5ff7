"""after the café: the follow-up answers and opt-outs; a buddy's interests (sealed)

Revision ID: schedules_0003
Revises: schedules_0002
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db

revision = 'schedules_0003'
down_revision = 'schedules_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cafe_companion_request') as batch:
        batch.add_column(sa.Column('interests', bot.db.EncryptedText(), nullable=True))
    op.create_table(
        'cafe_followup_answer',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('cafe_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.String(length=255), nullable=False),
        sa.Column('reaction', bot.db.EncryptedText(), nullable=True),
        sa.Column('note', bot.db.EncryptedText(), nullable=True),
        sa.Column('answered_at', bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['cafe_id'], ['cafe.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('cafe_id', 'user_id'),
    )
    op.create_index('ix_cafe_followup_answer_cafe_id', 'cafe_followup_answer', ['cafe_id'])
    op.create_index('ix_cafe_followup_answer_user_id', 'cafe_followup_answer', ['user_id'])
    op.create_table(
        'cafe_followup_optout',
        sa.Column('user_id', sa.String(length=255), nullable=False),
        sa.Column('since', bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('user_id'),
    )


def downgrade() -> None:
    op.drop_table('cafe_followup_optout')
    op.drop_index('ix_cafe_followup_answer_user_id', table_name='cafe_followup_answer')
    op.drop_index('ix_cafe_followup_answer_cafe_id', table_name='cafe_followup_answer')
    op.drop_table('cafe_followup_answer')
    with op.batch_alter_table('cafe_companion_request') as batch:
        batch.drop_column('interests')
