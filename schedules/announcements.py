"""Messages about cafés that go to rooms other than the one a command came from: the announcement
in the café room (with the transaction id its reactions are traced by) and private notes."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.models import OutboxMessage, SentEvent
from bot.outbox import enqueue, notice_content, reaction_content
from bot.roomdir import toolbox_room_of
from bot.speaker import Say
from bot.zones import community_zone
from schedules import followup, polls
from schedules.cafes import cafe_room_of
from schedules.delivery import Status, already_handled, txn_for
from schedules.models import Cafe, ReminderLedger
from schedules.rsvp import ANSWERS, REACTIONS
from schedules.wording import announcement, when_text

log = logging.getLogger(__name__)


def announce(session: Session, settings: Settings, cafe: Cafe, tr: Say) -> str | None:
    """Queue the announcement in the community's café room; returns the room id (None if the
    community has no café room yet)."""
    room = cafe_room_of(session, cafe.community)
    if room is None:
        log.warning("café %s not announced: no café room for its community", cafe.id)
        return None
    assert cafe.announce_txn is not None
    zone = community_zone(settings, cafe.community)
    enqueue(session, room.room_id, notice_content(announcement(tr, cafe, zone)), txn_id=cafe.announce_txn)
    # Right under it, the native poll to answer with (reactions and !rsvp work as well).
    question = tr("schedules.poll.question", community=cafe.community, when=when_text(tr, cafe.starts_at, zone))
    answers = [(a, tr(f"schedules.poll.{a}")) for a in ANSWERS]
    enqueue(session, room.room_id, polls.start_content(question, answers), event_type=polls.START_TYPE,
            txn_id=polls.poll_txn(cafe))
    return room.room_id


def tell_privately(session: Session, user_id: str, text: str) -> OutboxMessage | None:
    """Queue a note in the person's toolbox room (None if they have none); it is meant to reach
    them (a cancelled café, a buddy or ride match): m.text, naming them."""
    room_id = toolbox_room_of(session, user_id)
    if room_id is None:
        log.info("no toolbox room for a private café note (user %s)", user_id)
        return None
    return enqueue(session, room_id, notice_content(text, alert=True, mentions=(user_id,)))


def seed_reactions(session: Session, now: datetime) -> bool:
    """Put 👍 🤔 👎 under each sent announcement of a coming café, once, so answering is a tap.
    Returns whether anything was queued."""
    q = (select(Cafe, SentEvent).join(SentEvent, SentEvent.txn_id == Cafe.announce_txn)
         .where(Cafe.starts_at > now, Cafe.cancelled_at.is_(None)))
    queued = False
    for cafe, sent in session.execute(q).all():
        key = f"cafe-seed:{cafe.id}"
        if already_handled(session, key):
            continue
        for i, emoji in enumerate(REACTIONS):
            enqueue(session, sent.room_id, reaction_content(sent.event_id, emoji), event_type="m.reaction",
                    txn_id=f"{txn_for(key)}-{i}")
        session.add(ReminderLedger(key=key, status=Status.SENT.value, due_at=now, handled_at=now))
        session.flush()
        queued = True
    return queued


_SENT = (Status.SENT.value, Status.LATE.value)


def followup_cafe_for(session: Session, event_id: str, room_id: str, user_id: str) -> Cafe | None:
    """The café whose "How was it?" to ``user_id`` is ``event_id`` in ``room_id``; None for any
    other event (someone else's question, any other message)."""
    sent = session.scalar(select(SentEvent).where(SentEvent.event_id == event_id))
    if sent is None or sent.room_id != room_id:
        return None
    q = select(ReminderLedger.key).where(ReminderLedger.user_id == user_id,
                                         ReminderLedger.key.like(followup.KEY_PREFIX + "%"),
                                         ReminderLedger.status.in_(_SENT))
    for key in session.scalars(q):
        if txn_for(key) == sent.txn_id:
            cafe_id = followup.cafe_id_of_key(key)
            return session.get(Cafe, cafe_id) if cafe_id is not None else None
    return None
