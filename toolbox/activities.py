"""The activity plan (behavioural activation): planned things, done with importance and enjoyment."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, load_only

from bot.db import utcnow
from toolbox.limits import MAX_OPEN_ACTIVITIES, TEXT_MAX
from toolbox.models import Activity
from toolbox.numbering import check_length, ensure_room, pick

# Done activities stay on the list this long, so the person sees what they managed lately.
DONE_SHOWN_FOR = timedelta(days=7)


def listed(session: Session, user_id: str, now: datetime | None = None) -> list[Activity]:
    """Open activities and those done in the last week, by time."""
    since = (now or utcnow()) - DONE_SHOWN_FOR
    q = (select(Activity).where(Activity.user_id == user_id)
         .where(or_(Activity.done_at.is_(None), Activity.done_at >= since))
         .order_by(Activity.due_at, Activity.id))
    return list(session.scalars(q))


def add(session: Session, user_id: str, due_at: datetime, text: str) -> Activity:
    open_count = session.scalar(select(func.count()).select_from(Activity)
                                .where(Activity.user_id == user_id, Activity.done_at.is_(None))) or 0
    ensure_room(open_count, MAX_OPEN_ACTIVITIES, "activity")
    activity = Activity(user_id=user_id, due_at=due_at, text=check_length(text, TEXT_MAX))
    session.add(activity)
    session.flush()
    return activity


def mark_done(session: Session, user_id: str, n: int, importance: int | None = None,
              enjoyment: int | None = None, now: datetime | None = None) -> Activity:
    activity = pick(listed(session, user_id, now), n, "activity")
    activity.done_at = activity.done_at or now or utcnow()
    if importance is not None:
        activity.importance = importance
    if enjoyment is not None:
        activity.enjoyment = enjoyment
    return activity


def remove(session: Session, user_id: str, n: int, now: datetime | None = None) -> Activity:
    activity = pick(listed(session, user_id, now), n, "activity")
    session.delete(activity)
    session.flush()
    return activity


def due_between(session: Session, start: datetime, end: datetime) -> list[Activity]:
    """Open activities whose time falls in [start, end), for reminders: their id, person and time
    only (nothing sealed is opened; ``texts_of`` reads the texts of those sent)."""
    q = (select(Activity).options(load_only(Activity.id, Activity.user_id, Activity.due_at))
         .where(Activity.done_at.is_(None), Activity.due_at >= start, Activity.due_at < end)
         .order_by(Activity.due_at))
    return list(session.scalars(q))


# Ids per ``IN`` list: far below SQLite's and PostgreSQL's limits on bound parameters.
_IN_CHUNK = 500


def texts_of(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """The text of each activity in ``ids`` (those still there), opened: one statement per
    ``_IN_CHUNK`` ids, none for none."""
    wanted = sorted(set(ids))
    found: dict[int, str] = {}
    for n in range(0, len(wanted), _IN_CHUNK):
        q = select(Activity).options(load_only(Activity.id, Activity.text)).where(
            Activity.id.in_(wanted[n:n + _IN_CHUNK]))
        found.update((a.id, a.text) for a in session.scalars(q))
    return found
