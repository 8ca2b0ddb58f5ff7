"""``!break``: pause every personal reminder and nudge without deleting anything; ``!back`` ends it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.people import on_break, prefs


def take_break(session: Session, user_id: str, now: datetime, length: timedelta | None) -> datetime | None:
    """Start (or change) a break; returns when it ends (None: until ``!back``)."""
    pref = prefs(session, user_id)
    pref.on_break = True
    pref.break_until = now + length if length is not None else None
    return pref.break_until


def end_break(session: Session, user_id: str, now: datetime) -> bool:
    """End the break; False if there was none (or it had already run out)."""
    was_on_break = on_break(session, user_id, now)
    pref = prefs(session, user_id)
    pref.on_break, pref.break_until = False, None
    return was_on_break
