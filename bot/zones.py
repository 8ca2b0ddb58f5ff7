"""Which IANA time zone times are read and shown in: the person's own, else their community's,
else Europe/Oslo. The one place that resolves zones, for every feature."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

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
    if pref is not None and pref.timezone and _valid(pref.timezone):
        return ZoneInfo(pref.timezone)
    return ZoneInfo(fallback if _valid(fallback) else DEFAULT_ZONE)


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
