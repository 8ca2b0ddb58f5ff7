"""After the café: the morning after, everyone who said yes or maybe is asked "How was it?".

They answer with a reaction (👍 😐 👎) under the question or by replying to it in their own words;
both are kept sealed, and the consultant sees counts only (small ones suppressed). An answer
counts as attendance where the café has none recorded. ``!cafe followup off`` stops the question.
Delivery (exactly once, through the ledger) lives in ``reminders``/``delivery``; this module is the
domain: who is asked, when, and what their answers add up to.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.models import EnrolmentStatus, Participant
from bot.recurrence import wall_time
from schedules.models import Cafe, FollowupAnswer, FollowupOptOut, Rsvp

# The local morning hour (the community's zone) the question is sent, the day after the café.
ASK_AT = time(10, 0)
KEY_PREFIX = "cafe-followup:"
REACTIONS = {"👍": "good", "😐": "okay", "👎": "bad"}
ANSWERS = tuple(REACTIONS.values())
MAX_NOTE = 2000
# Skin tones and presentation selectors do not change what a reaction means.
_MODIFIERS = {chr(c) for c in range(0x1F3FB, 0x1F400)} | {"\ufe0f", "\ufe0e"}


def ask_time(cafe: Cafe, tz: ZoneInfo) -> datetime:
    """``ASK_AT`` on the local day after the café started."""
    day = cafe.starts_at.astimezone(tz).date() + timedelta(days=1)
    return wall_time(day, ASK_AT.hour, ASK_AT.minute, tz)


def cafe_id_of_key(key: str) -> int | None:
    """The café of a follow-up ledger key ``cafe-followup:<cafe>:<person tag>``."""
    if not key.startswith(KEY_PREFIX):
        return None
    part = key[len(KEY_PREFIX):].split(":", 1)[0]
    return int(part) if part.isdigit() else None


def wants_followup(session: Session, user_id: str) -> bool:
    return session.get(FollowupOptOut, user_id) is None


def set_followup(session: Session, user_id: str, on: bool, now: datetime) -> bool:
    """Turn the question on or off; returns whether anything changed."""
    row = session.get(FollowupOptOut, user_id)
    if on and row is not None:
        session.delete(row)
    elif not on and row is None:
        session.add(FollowupOptOut(user_id=user_id, since=now))
    else:
        return False
    session.flush()
    return True


def to_ask(session: Session, cafe: Cafe) -> list[str]:
    """Who is asked after this café: said yes or maybe, is still an active participant, and has
    not turned the question off. (A break pauses it at delivery, as every personal reminder.)"""
    # One statement, however many said yes (not a look-up of each person and their opt-out).
    q = (select(Rsvp.user_id)
         .join(Participant, Participant.user_id == Rsvp.user_id)
         .outerjoin(FollowupOptOut, FollowupOptOut.user_id == Rsvp.user_id)
         .where(Rsvp.cafe_id == cafe.id, Rsvp.answer.in_(("yes", "maybe")),
                Participant.status == EnrolmentStatus.ACTIVE.value, FollowupOptOut.user_id.is_(None))
         .order_by(Rsvp.id))
    return list(session.scalars(q))


def answer_for_reaction(key: str) -> str | None:
    return REACTIONS.get("".join(ch for ch in key if ch not in _MODIFIERS))


def _answer_row(session: Session, cafe_id: int, user_id: str, now: datetime) -> FollowupAnswer:
    row = session.scalar(select(FollowupAnswer).where(FollowupAnswer.cafe_id == cafe_id,
                                                      FollowupAnswer.user_id == user_id))
    if row is None:
        row = FollowupAnswer(cafe_id=cafe_id, user_id=user_id, answered_at=now)
        session.add(row)
    row.answered_at = now
    return row


def record_reaction(session: Session, cafe_id: int, user_id: str, answer: str, now: datetime) -> FollowupAnswer:
    """The newest reaction is the answer."""
    assert answer in ANSWERS
    row = _answer_row(session, cafe_id, user_id, now)
    row.reaction = answer
    session.flush()
    return row


def record_note(session: Session, cafe_id: int, user_id: str, text: str, now: datetime) -> FollowupAnswer:
    """A reply in the person's own words (the newest one is kept)."""
    row = _answer_row(session, cafe_id, user_id, now)
    row.note = text[:MAX_NOTE]
    session.flush()
    return row


def answers_of(session: Session, user_id: str) -> list[tuple[FollowupAnswer, Cafe]]:
    q = (select(FollowupAnswer, Cafe).join(Cafe, Cafe.id == FollowupAnswer.cafe_id)
         .where(FollowupAnswer.user_id == user_id).order_by(Cafe.starts_at))
    return [(a, c) for a, c in session.execute(q).all()]


def answered_count(session: Session, cafe_id: int) -> int:
    """How many answered at all (a reaction, a reply or both): each counts as having come."""
    return session.scalar(select(func.count(FollowupAnswer.id)).where(FollowupAnswer.cafe_id == cafe_id)) or 0


def tally(session: Session, cafe_id: int) -> Counter[str]:
    """``good``/``okay``/``bad`` and ``answered`` for one café. Whole rows are loaded: the
    reaction is sealed, so only the ORM reads it."""
    counts: Counter[str] = Counter({a: 0 for a in ANSWERS})
    for row in session.scalars(select(FollowupAnswer).where(FollowupAnswer.cafe_id == cafe_id)):
        counts["answered"] += 1
        if row.reaction in ANSWERS:
            counts[row.reaction] += 1
    return counts


def erase_person(session: Session, user_id: str) -> None:
    session.execute(delete(FollowupAnswer).where(FollowupAnswer.user_id == user_id))
    session.execute(delete(FollowupOptOut).where(FollowupOptOut.user_id == user_id))
