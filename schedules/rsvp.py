"""RSVP: answers by command or by reacting to a café announcement, and their counts."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.models import SentEvent
from schedules.models import Cafe, CafeReaction, Rsvp

ANSWERS = ("yes", "maybe", "no")
NORWEGIAN = {"ja": "yes", "kanskje": "maybe", "nei": "no"}
REACTIONS = {"👍": "yes", "🤔": "maybe", "👎": "no"}
# Skin tones and the emoji presentation selector do not change what a reaction means.
_MODIFIERS = {chr(c) for c in range(0x1F3FB, 0x1F400)} | {"\ufe0f", "\ufe0e"}


def answer_for_reaction(key: str) -> str | None:
    bare = "".join(ch for ch in key if ch not in _MODIFIERS)
    return REACTIONS.get(bare)


def cafe_for_announcement(session: Session, event_id: str, room_id: str | None = None) -> Cafe | None:
    """The café whose announcement is ``event_id`` (found through the core's sent-event record);
    with ``room_id``, only when the announcement was posted in that room."""
    sent = session.scalar(select(SentEvent).where(SentEvent.event_id == event_id))
    if sent is None or (room_id is not None and sent.room_id != room_id):
        return None
    return session.scalar(select(Cafe).where(Cafe.announce_txn == sent.txn_id))


def answer_of(session: Session, cafe: Cafe, user_id: str) -> str | None:
    rsvp = _rsvp(session, cafe.id, user_id)
    return rsvp.answer if rsvp is not None else None


def set_answer(session: Session, cafe: Cafe, user_id: str, answer: str, now: datetime,
               reaction_event_id: str | None = None) -> Rsvp:
    assert answer in ANSWERS
    rsvp = _rsvp(session, cafe.id, user_id)
    if rsvp is None:
        rsvp = Rsvp(cafe_id=cafe.id, user_id=user_id, answer=answer)
        session.add(rsvp)
    rsvp.answer, rsvp.reaction_event_id, rsvp.updated_at = answer, reaction_event_id, now
    session.flush()
    return rsvp


def react(session: Session, cafe: Cafe, user_id: str, event_id: str, answer: str, now: datetime) -> Rsvp:
    """A reaction on the announcement: the newest reaction is the answer."""
    if session.get(CafeReaction, event_id) is None:
        session.add(CafeReaction(event_id=event_id, cafe_id=cafe.id, user_id=user_id, answer=answer,
                                 reacted_at=now))
    return set_answer(session, cafe, user_id, answer, now, reaction_event_id=event_id)


def reaction_of(session: Session, reaction_event_id: str) -> CafeReaction | None:
    return session.get(CafeReaction, reaction_event_id)


def announcement_room(session: Session, cafe_id: int) -> str | None:
    """The room the café's announcement (the event people react to) was posted in."""
    cafe = session.get(Cafe, cafe_id)
    if cafe is None or cafe.announce_txn is None:
        return None
    sent = session.get(SentEvent, cafe.announce_txn)
    return sent.room_id if sent is not None else None


def unreact(session: Session, reaction_event_id: str, now: datetime) -> Cafe | None:
    """A reaction was removed: fall back to the person's previous standing reaction, or withdraw
    the answer if none is left. An answer given later by command is kept. Returns the café
    touched, or None when the event was no RSVP reaction."""
    reaction = session.get(CafeReaction, reaction_event_id)
    if reaction is None:
        return None
    cafe_id, user_id = reaction.cafe_id, reaction.user_id
    session.delete(reaction)
    session.flush()
    rsvp = _rsvp(session, cafe_id, user_id)
    if rsvp is not None and rsvp.reaction_event_id == reaction_event_id:
        previous = session.scalar(
            select(CafeReaction)
            .where(CafeReaction.cafe_id == cafe_id, CafeReaction.user_id == user_id)
            .order_by(CafeReaction.reacted_at.desc(), CafeReaction.event_id.desc())
        )
        if previous is None:
            session.delete(rsvp)
        else:
            rsvp.answer, rsvp.reaction_event_id, rsvp.updated_at = previous.answer, previous.event_id, now
        session.flush()
    return session.get(Cafe, cafe_id)


def counts(session: Session, cafe_ids: list[int]) -> dict[int, Counter[str]]:
    """Answers per café: ``{cafe_id: Counter(yes=.., maybe=.., no=..)}``."""
    result: dict[int, Counter[str]] = {cid: Counter() for cid in cafe_ids}
    if cafe_ids:
        for cafe_id, answer in session.execute(select(Rsvp.cafe_id, Rsvp.answer).where(Rsvp.cafe_id.in_(cafe_ids))):
            result[cafe_id][answer] += 1
    return result


def coming(session: Session, cafe_id: int) -> list[Rsvp]:
    """Those who said yes or maybe."""
    q = select(Rsvp).where(Rsvp.cafe_id == cafe_id, Rsvp.answer.in_(("yes", "maybe")))
    return list(session.scalars(q.order_by(Rsvp.id)))


def erase_person(session: Session, user_id: str) -> None:
    session.execute(delete(CafeReaction).where(CafeReaction.user_id == user_id))
    session.execute(delete(Rsvp).where(Rsvp.user_id == user_id))


def _rsvp(session: Session, cafe_id: int, user_id: str) -> Rsvp | None:
    return session.scalar(select(Rsvp).where(Rsvp.cafe_id == cafe_id, Rsvp.user_id == user_id))
