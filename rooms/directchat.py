"""The direct chat someone uses with the bot before they have a toolbox room."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.db import utcnow
from bot.models import EnrolmentStatus, Participant, RoomKind
from bot.roomdir import toolbox_room_of
from rooms.models import DirectChat


def remember(session: Session, user_id: str, room_id: str, kind: RoomKind) -> None:
    """Note the room of a command someone sent in their direct chat with the bot."""
    if kind is not RoomKind.DIRECT:
        return
    chat = session.get(DirectChat, user_id)
    if chat is None:
        session.add(DirectChat(user_id=user_id, room_id=room_id))
    else:
        chat.room_id, chat.seen_at = room_id, utcnow()


def direct_chat_of(session: Session, user_id: str) -> str | None:
    chat = session.get(DirectChat, user_id)
    return chat.room_id if chat else None


def answerable_pseudonym(session: Session, user_id: str) -> str | None:
    """The pseudonym a consultant's ``!answer`` reaches this person by (as ``!contact`` accepts
    it: chosen after consent), or None for someone who has none yet."""
    p = session.get(Participant, user_id)
    if p is None or not p.pseudonym or p.status == EnrolmentStatus.STARTED.value:
        return None
    return p.pseudonym


def private_room_of(session: Session, user_id: str) -> str | None:
    """Where to tell someone something privately: their toolbox room, else their direct chat."""
    return toolbox_room_of(session, user_id) or direct_chat_of(session, user_id)
