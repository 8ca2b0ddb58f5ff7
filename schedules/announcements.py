"""Messages about cafés that go to rooms other than the one a command came from: the announcement
in the café room (with the transaction id its reactions are traced by) and private notes."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.outbox import enqueue, notice_content
from bot.roomdir import toolbox_room_of
from schedules.cafes import cafe_room_of, zone_of
from schedules.models import Cafe
from schedules.texts import Tr, announcement

log = logging.getLogger(__name__)


def announce(session: Session, settings: Settings, cafe: Cafe, tr: Tr) -> str | None:
    """Queue the announcement in the community's café room; returns the room id (None if the
    community has no café room yet)."""
    room = cafe_room_of(session, cafe.community)
    if room is None:
        log.warning("café %s not announced: no café room for its community", cafe.id)
        return None
    assert cafe.announce_txn is not None
    enqueue(session, room.room_id, notice_content(announcement(tr, cafe, zone_of(settings, cafe.community))),
            txn_id=cafe.announce_txn)
    return room.room_id


def tell_privately(session: Session, user_id: str, text: str) -> str | None:
    """Queue a note in the person's toolbox room; returns its txn id, or None if they have none."""
    room_id = toolbox_room_of(session, user_id)
    if room_id is None:
        log.info("no toolbox room for a private café note (user %s)", user_id)
        return None
    return enqueue(session, room_id, notice_content(text)).txn_id
