"""Daily check-ins (mood 1-10 with an optional note) and the diary."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import utcnow
from toolbox.limits import DIARY_MAX, TEXT_MAX
from toolbox.models import DiaryEntry, MoodEntry
from toolbox.numbering import check_length

CHART_DAYS = 28
RECENT_ENTRIES = 10


def add_mood(session: Session, user_id: str, score: int, note: str | None = None,
             now: datetime | None = None) -> MoodEntry:
    if not 1 <= score <= 10:
        raise ValueError("mood score must be 1-10")  # the router's integer(min, max) checks first
    entry = MoodEntry(user_id=user_id, score=score, created_at=now or utcnow(),
                      note=check_length(note, TEXT_MAX) if note else None)
    session.add(entry)
    session.flush()
    return entry


def moods_since(session: Session, user_id: str, since: datetime) -> list[MoodEntry]:
    q = (select(MoodEntry).where(MoodEntry.user_id == user_id, MoodEntry.created_at >= since)
         .order_by(MoodEntry.created_at, MoodEntry.id))
    return list(session.scalars(q))


def recent_moods(session: Session, user_id: str, now: datetime | None = None) -> list[MoodEntry]:
    return moods_since(session, user_id, (now or utcnow()) - timedelta(days=CHART_DAYS))


def add_entry(session: Session, user_id: str, text: str, now: datetime | None = None) -> DiaryEntry:
    entry = DiaryEntry(user_id=user_id, text=check_length(text, DIARY_MAX), created_at=now or utcnow())
    session.add(entry)
    session.flush()
    return entry


def recent_entries(session: Session, user_id: str, limit: int = RECENT_ENTRIES) -> list[DiaryEntry]:
    """The latest entries, oldest first."""
    q = (select(DiaryEntry).where(DiaryEntry.user_id == user_id)
         .order_by(DiaryEntry.created_at.desc(), DiaryEntry.id.desc()).limit(limit))
    return list(reversed(list(session.scalars(q))))
