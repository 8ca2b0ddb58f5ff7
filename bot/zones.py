"""Which IANA time zone times are read and shown in: the person's own, else their community's,
else Europe/Oslo. The one place that resolves zones, for every feature."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.errors import Invalid
from bot.models import Participant, UserPref

DEFAULT_ZONE = "Europe/Oslo"


def community_zone_name(settings: Settings, community: str | None) -> str:
    """The community's configured zone, else Europe/Oslo."""
    found = settings.community(community) if community else None
    return found.timezone if found is not None else DEFAULT_ZONE


def community_zone(settings: Settings, community: str | None) -> ZoneInfo:
    return ZoneInfo(community_zone_name(settings, community))


def zone_name(session: Session, settings: Settings, user_id: str) -> str:
    """Their own preference, else their community's zone, else Europe/Oslo."""
    pref = session.get(UserPref, user_id)
    if pref is not None and pref.timezone and _valid(pref.timezone):
        return pref.timezone
    person = session.get(Participant, user_id)
    return community_zone_name(settings, person.community if person is not None else None)


def person_zone(session: Session, settings: Settings, user_id: str) -> ZoneInfo:
    return ZoneInfo(zone_name(session, settings, user_id))


def preferred_zone(session: Session, user_id: str, fallback: str) -> ZoneInfo:
    """For jobs without settings: the person's own preference, else ``fallback``."""
    pref = session.get(UserPref, user_id)
    return zone_or(pref.timezone if pref is not None else None, fallback)


def zone_or(own: str | None, fallback: str) -> ZoneInfo:
    """``preferred_zone`` once the person's own preference (``UserPref.timezone``, or None) is read."""
    if own and _valid(own):
        return ZoneInfo(own)
    return ZoneInfo(fallback if _valid(fallback) else DEFAULT_ZONE)


def with_own_zone(query: Select[Any], user_id: ColumnElement[str]) -> Select[Any]:
    """``query`` with each row's person's own zone preference (``UserPref.timezone``, or None) as
    its last column: one statement for a whole population's zones, where ``preferred_zone`` per
    row would be one per person. Give it to ``zone_or`` with the row's fallback."""
    return query.add_columns(UserPref.timezone).outerjoin(UserPref, UserPref.user_id == user_id)


def valid_zone(name: str) -> str:
    """The IANA zone name as the database knows it (``europe/oslo`` -> ``Europe/Oslo``)."""
    lowered = name.strip().casefold()
    for known in _known_zones():
        if known.casefold() == lowered:
            return known
    raise Invalid("toolbox.zone.unknown")


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _valid(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
