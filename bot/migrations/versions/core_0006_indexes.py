"""indexes for the access paths that grew with the population (issue 13)

Revision ID: core_0006_indexes
Revises: core_0005

``handled_event`` and ``sent_event`` by room (a room's traces dropped when the bot leaves it, one
per ``!forget-me``), ``handled_event`` by age (the prune at start), and ``outbox_message`` by room
and id (each room's queue in order, for the sender's turns). Without them each of these statements
reads the whole table, which grows with every person and every message.
"""
from __future__ import annotations

from alembic import op

revision = "core_0006_indexes"
down_revision = "core_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_handled_event_room_id", "handled_event", ["room_id"], unique=False)
    op.create_index("ix_handled_event_handled_at", "handled_event", ["handled_at"], unique=False)
    op.create_index("ix_sent_event_room_id", "sent_event", ["room_id"], unique=False)
    op.create_index("ix_outbox_message_room_id_id", "outbox_message", ["room_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_message_room_id_id", table_name="outbox_message")
    op.drop_index("ix_sent_event_room_id", table_name="sent_event")
    op.drop_index("ix_handled_event_handled_at", table_name="handled_event")
    op.drop_index("ix_handled_event_room_id", table_name="handled_event")
