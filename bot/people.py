"""Who someone is to the bot. Roles come from Matrix ids (config) and the database, never from
display names."""

from __future__ import annotations

from datetime import datetime
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db import utcnow
from bot.models import EnrolmentStatus, Participant, Provider, Role, UserPref


def resolve_role(session: Session, settings: Settings, user_id: str) -> Role:
    if user_id in settings.people.admins:
        return Role.ADMIN
    if user_id in settings.people.consultants:
        return Role.CONSULTANT
    if session.get(Provider, user_id) is not None:
        return Role.PROVIDER
    p = session.get(Participant, user_id)
    if p is not None and p.status == EnrolmentStatus.ACTIVE.value:
        return Role.PARTICIPANT
    if p is not None and (p.status == EnrolmentStatus.LEFT.value or p.approved_at is not None):
        return Role.FORMER  # left, or back and waiting for a consultant: the toolbox stays theirs
    return Role.GUEST


def language_of(session: Session, settings: Settings, user_id: str) -> str:
    pref = session.get(UserPref, user_id)
    if pref is not None and pref.language:
        return pref.language
    return settings.language


def prefs(session: Session, user_id: str) -> UserPref:
    pref = session.get(UserPref, user_id)
    if pref is None:
        pref = UserPref(user_id=user_id)
        session.add(pref)
        session.flush()
    return pref


def on_break(session: Session, user_id: str, now: datetime | None = None) -> bool:
    """Whether reminders and nudges to this person are paused (``!break``)."""
    pref = session.get(UserPref, user_id)
    if pref is None or not pref.on_break:
        return False
    return pref.break_until is None or pref.break_until > (now or utcnow())


# People per ``IN`` list: far below SQLite's and PostgreSQL's limits on bound parameters.
_IN_CHUNK = 500


def breaks_of(session: Session, user_ids: Iterable[str]) -> dict[str, datetime | None]:
    """Of ``user_ids``, those with a break set, and when it ends (None: when they end it): for
    ``on_break_then``, one statement per ``_IN_CHUNK`` people rather than ``on_break`` for each."""
    people = sorted(set(user_ids))
    found: dict[str, datetime | None] = {}
    for n in range(0, len(people), _IN_CHUNK):
        q = select(UserPref.user_id, UserPref.break_until).where(UserPref.user_id.in_(people[n:n + _IN_CHUNK]),
                                                                 UserPref.on_break.is_(True))
        found.update((user_id, until) for user_id, until in session.execute(q))
    return found


def on_break_then(breaks: dict[str, datetime | None], user_id: str, at: datetime) -> bool:
    """``on_break(session, user_id, at)`` from ``breaks_of``."""
    if user_id not in breaks:
        return False
    until = breaks[user_id]
    return until is None or until > at


def participant(session: Session, user_id: str) -> Participant | None:
    return session.get(Participant, user_id)


def participant_by_pseudonym(session: Session, pseudonym: str) -> Participant | None:
    key = pseudonym_key(pseudonym)
    return session.scalar(select(Participant).where(Participant.pseudonym_key == key))


def pseudonym_key(pseudonym: str) -> str:
    """Case- and spacing-insensitive form used for uniqueness."""
    return " ".join(pseudonym.split()).casefold()
