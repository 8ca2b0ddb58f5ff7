"""Cafés: scheduling one-off and recurring meetings, listing, cancelling, prompts and attendance."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.errors import Invalid, NotFound
from bot.models import ManagedRoom, Role, RoomKind
from bot.people import participant
from bot.recurrence import Recurrence, Rule
from bot.roomdir import find_rooms
from bot.zones import community_zone
from schedules.models import Cafe, CafePrompt, CafeSeries, Rsvp

LIST_LIMIT = 10
RECENT_DAYS = 60
PLACE_MAX = 200
TOPIC_MAX = 300
TOPIC_SEPARATORS = (" — ", " – ", " -- ")


def split_community(settings: Settings, text: str) -> tuple[str, str]:
    """The community named at the start of ``text`` (names may have spaces) and what follows."""
    words = text.split()
    for n in range(len(words), 0, -1):
        found = settings.community(" ".join(words[:n]))
        if found is not None:
            return found.name, " ".join(words[n:])
    raise Invalid("schedules.cafe.no_community", name=words[0] if words else "",
                  known=", ".join(c.name for c in settings.communities))


def cafe_room_of(session: Session, community: str) -> ManagedRoom | None:
    wanted = community.strip().casefold()
    for room in find_rooms(session, RoomKind.CAFE):
        if (room.community or "").casefold() == wanted:
            return room
    return None


def split_place(text: str) -> tuple[str, str | None]:
    """``Library, Main St — grief and hope`` → place and topic (either dash style)."""
    place, topic = text.strip(), None
    for sep in TOPIC_SEPARATORS:
        if sep in place:
            place, topic = (part.strip() for part in place.split(sep, 1))
            break
    if not place:
        raise Invalid("schedules.cafe.no_place")
    if len(place) > PLACE_MAX or (topic is not None and len(topic) > TOPIC_MAX):
        raise Invalid("schedules.cafe.too_long", place_max=PLACE_MAX, topic_max=TOPIC_MAX)
    return place, topic or None


def schedule(session: Session, *, community: str, rule: Rule, tz: ZoneInfo, place: str,
             topic: str | None, by: str, now: datetime) -> Cafe:
    """Record a café (and its series, for a recurring rule); returns the first meeting."""
    series_id = None
    if isinstance(rule, Recurrence):
        series = CafeSeries(community=community, rule=rule.canonical, place=place, topic=topic,
                            created_by=by, created_at=now)
        session.add(series)
        session.flush()
        series_id = series.id
        starts_at = rule.next_after(now, tz)
    else:
        starts_at = rule.at
    cafe = Cafe(series_id=series_id, community=community, starts_at=starts_at, place=place, topic=topic,
                created_by=by, created_at=now, announce_txn=new_announce_txn(), number=free_number(session, now))
    session.add(cafe)
    session.flush()
    return cafe


# How long a café is taken to last, for "does it overlap another?".
CAFE_LENGTH = timedelta(hours=2)


def overlapping(session: Session, community: str, starts_at: datetime) -> Cafe | None:
    """Another café of the community (not cancelled, not over) within a café's length of ``starts_at``."""
    q = (select(Cafe).where(Cafe.community == community, Cafe.cancelled_at.is_(None),
                            Cafe.starts_at > starts_at - CAFE_LENGTH, Cafe.starts_at < starts_at + CAFE_LENGTH)
         .order_by(Cafe.starts_at))
    return session.scalars(q).first()


def new_announce_txn() -> str:
    return f"cafe-announce-{uuid.uuid4().hex[:20]}"


def materialise_series(session: Session, settings: Settings, now: datetime) -> list[Cafe]:
    """Give every running series its next meeting once the previous one has begun (or was cancelled)."""
    created: list[Cafe] = []
    for series in session.scalars(select(CafeSeries).where(CafeSeries.ended_at.is_(None))):
        meetings = list(session.scalars(select(Cafe).where(Cafe.series_id == series.id)))
        if any(m.starts_at > now and m.cancelled_at is None for m in meetings):
            continue
        after = max([now, *(m.starts_at for m in meetings)])
        rule = Recurrence.from_canonical(series.rule)
        cafe = Cafe(series_id=series.id, community=series.community,
                    starts_at=rule.next_after(after, community_zone(settings, series.community)),
                    place=series.place, topic=series.topic, created_by=series.created_by, created_at=now,
                    announce_txn=new_announce_txn(), number=free_number(session, now))
        session.add(cafe)
        session.flush()
        created.append(cafe)
    session.flush()
    return created


def community_of(session: Session, settings: Settings, user_id: str) -> str | None:
    p = participant(session, user_id)
    if p is None or not p.community:
        return None
    found = settings.community(p.community)
    return found.name if found is not None else p.community


def _listed(session: Session, now: datetime) -> list[Cafe]:
    q = select(Cafe).where(Cafe.starts_at > now, Cafe.cancelled_at.is_(None))
    return list(session.scalars(q.order_by(Cafe.starts_at, Cafe.id)))


def free_number(session: Session, now: datetime) -> int:
    """The smallest number no listed café has (a café keeps its number while it is listed)."""
    taken = {c.number for c in _listed(session, now) if c.number is not None}
    return next(n for n in range(1, len(taken) + 2) if n not in taken)


def upcoming(session: Session, now: datetime, community: str | None = None) -> list[Cafe]:
    """The next cafés (not cancelled), soonest first; every community when ``community`` is None.
    Each has its number (given here to cafés planned before numbers were kept)."""
    cafes = _listed(session, now)
    for cafe in cafes:
        if cafe.number is None:
            cafe.number = free_number(session, now)
            session.flush()
    if community is not None:
        cafes = [c for c in cafes if c.community.casefold() == community.casefold()]
    return cafes[:LIST_LIMIT]


def recent(session: Session, now: datetime) -> list[Cafe]:
    """Cafés that have begun in the last two months, most recent first (for attendance)."""
    q = select(Cafe).where(Cafe.starts_at <= now, Cafe.starts_at > now - timedelta(days=RECENT_DAYS),
                           Cafe.cancelled_at.is_(None))
    return list(session.scalars(q.order_by(Cafe.starts_at.desc(), Cafe.id.desc())))[:LIST_LIMIT]


def upcoming_for(session: Session, settings: Settings, user_id: str, role: Role, now: datetime) -> list[Cafe]:
    """What ``!cafe`` numbers for this person: staff see every community, others their own."""
    if role in (Role.CONSULTANT, Role.ADMIN):
        return upcoming(session, now)
    community = community_of(session, settings, user_id)
    return upcoming(session, now, community) if community else []


def pick(cafes: list[Cafe], n: int | None) -> Cafe:
    """The café with number n in ``!cafe``; the soonest when n is None."""
    if not cafes:
        raise NotFound("schedules.cafe.none_upcoming")
    if n is None:
        return cafes[0]
    for cafe in cafes:
        if cafe.number == n:
            return cafe
    raise NotFound("schedules.cafe.no_such", n=n, count=len(cafes))


def cancel(session: Session, cafe: Cafe, now: datetime, *, whole_series: bool = False) -> list[str]:
    """Cancel a meeting (and end its series if asked); returns who had said yes or maybe."""
    cafe.cancelled_at = now
    if whole_series and cafe.series_id is not None:
        series = session.get(CafeSeries, cafe.series_id)
        if series is not None:
            series.ended_at = now
    q = select(Rsvp.user_id).where(Rsvp.cafe_id == cafe.id, Rsvp.answer.in_(("yes", "maybe")))
    return sorted(session.scalars(q))


def set_prompt(session: Session, cafe: Cafe, text: str, by: str, now: datetime) -> CafePrompt:
    """Store (or replace) the reflection prompt for a café."""
    prompt = session.scalar(select(CafePrompt).where(CafePrompt.cafe_id == cafe.id))
    if prompt is None:
        prompt = CafePrompt(cafe_id=cafe.id, text=text, created_by=by, created_at=now)
        session.add(prompt)
    else:
        prompt.text, prompt.created_by, prompt.created_at = text, by, now
    session.flush()
    return prompt


def mark_attended(cafe: Cafe, count: int) -> None:
    if count < 0:
        raise Invalid("schedules.cafe.bad_count")
    cafe.attended = count
