"""Everything that falls due, as one list: café room and private reminders, reflection prompts,
confidentiality reminders, the daily digest, and every feature's personal reminders.

Each item has a key unique per reminder *and* occurrence; ``delivery`` sends each key once.
Nothing here sends or formats beyond choosing catalogue keys: text is rendered at delivery time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Callable, Collection, Iterable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.contracts import DigestSource, DueReminder, PictureSource, ReminderSource
from bot.durations import Offset, parse_offset, reminder_time
from bot.models import RoomKind
from bot.notices import consultants_to_alert
from bot.people import on_break
from bot.recurrence import wall_time
from bot.roomdir import find_rooms, toolbox_rooms_of
from bot.speaker import Say
from bot.zones import community_zone
from schedules import followup, polls
from schedules.cafes import cafe_room_of
from schedules.digest import digest_text
from schedules.models import Cafe, CafePrompt, Rsvp
from schedules.wording import topic_part, when_text

MAX_CONFIDENTIALITY_PER_WINDOW = 20


@dataclass(frozen=True)
class Due:
    key: str
    due_at: datetime
    room_id: str | None  # None: nowhere to send it (recorded as skipped)
    render: Callable[[Session, Say], str]
    user_id: str | None = None  # a personal reminder: in that person's language, paused on a break
    # Meant to reach someone: sent as m.text (clients notify), naming ``mentions(session, at)`` in a
    # group room. Forum prompts and confidentiality reminders are for no one in particular: notices.
    alert: bool = False
    mentions: Callable[[Session, datetime], Collection[str]] | None = None
    # Not a message: given the rendered text, the event type and content to send (None: skip it).
    event: Callable[[Session, str], tuple[str, dict[str, Any]] | None] | None = None
    # A picture sent right after the text (a personal reminder's; see ``bot.contracts.PictureSource``).
    picture: PictureSource | None = None
    # Reactions put under the sent message once (see ``delivery.seed_reactions``).
    reactions: tuple[str, ...] = ()


def user_tag(user_id: str) -> str:
    """A short stable tag for a person in reminder keys (keys are logged; ids need not be)."""
    return hashlib.sha256(user_id.encode()).hexdigest()[:16]


def room_offsets(settings: Settings) -> list[tuple[str, Offset]]:
    return [(text, parse_offset(text)) for text in settings.schedules.cafe_room_reminders]


def _live_cafes(session: Session, start: datetime, end: datetime, reach: timedelta) -> list[Cafe]:
    """Cafés not cancelled whose reminders (up to ``reach`` before them) could fall in [start, end)."""
    q = select(Cafe).where(Cafe.cancelled_at.is_(None), Cafe.starts_at >= start - timedelta(days=1),
                           Cafe.starts_at < end + reach + timedelta(days=1))
    return list(session.scalars(q))


def _cafe_render(key: str, cafe: Cafe, tz: ZoneInfo) -> Callable[[Session, Say], str]:
    return lambda s, tr: tr(key, when=when_text(tr, cafe.starts_at, tz), place=cafe.place,
                            topic=topic_part(tr, cafe), community=cafe.community)


def coming(session: Session, cafe_id: int, at: datetime) -> list[str]:
    """Who said yes or maybe to a café (and is not on a break): a café-room reminder names them."""
    q = select(Rsvp.user_id).where(Rsvp.cafe_id == cafe_id, Rsvp.answer.in_(("yes", "maybe")))
    return [user_id for user_id in session.scalars(q) if not on_break(session, user_id, at)]


def cafe_room_reminders(session: Session, settings: Settings, start: datetime, end: datetime) -> list[Due]:
    offsets = room_offsets(settings)
    reach = max([o for _, o in offsets if isinstance(o, timedelta)], default=timedelta())
    found: list[Due] = []
    for cafe in _live_cafes(session, start, end, reach):
        tz = community_zone(settings, cafe.community)
        room = cafe_room_of(session, cafe.community)
        for text, offset in offsets:
            at = reminder_time(cafe.starts_at, offset, tz)
            # A reminder whose time had passed when the café was scheduled is not owed.
            if start <= at < end and cafe.created_at <= at < cafe.starts_at:
                found.append(Due(key=f"cafe-room:{cafe.id}:{text}", due_at=at,
                                 room_id=room.room_id if room else None,
                                 render=_cafe_render("schedules.reminder.cafe_room", cafe, tz),
                                 alert=True, mentions=lambda s, now, c=cafe.id: coming(s, c, now)))
    return found


def cafe_private_reminders(session: Session, settings: Settings, start: datetime, end: datetime) -> list[Due]:
    before = parse_offset(settings.schedules.cafe_private_reminder)
    reach = before if isinstance(before, timedelta) else timedelta()
    found: list[Due] = []
    for cafe in _live_cafes(session, start, end, reach):
        tz = community_zone(settings, cafe.community)
        at = reminder_time(cafe.starts_at, before, tz)
        if not (start <= at < end):
            continue
        q = select(Rsvp.user_id).where(Rsvp.cafe_id == cafe.id, Rsvp.answer.in_(("yes", "maybe")),
                                       Rsvp.updated_at <= at)
        coming = list(session.scalars(q))
        rooms = toolbox_rooms_of(session, coming)  # one statement for the café's hundreds, not one each
        for user_id in coming:
            found.append(Due(key=f"cafe-private:{cafe.id}:{user_tag(user_id)}", due_at=at,
                             room_id=rooms.get(user_id), user_id=user_id,
                             render=_cafe_render("schedules.reminder.cafe_private", cafe, tz), alert=True))
    return found


def cafe_followups(session: Session, settings: Settings, start: datetime, end: datetime) -> list[Due]:
    """The morning after a café, "How was it?" to each who said yes or maybe (see ``followup``)."""
    found: list[Due] = []
    q = select(Cafe).where(Cafe.cancelled_at.is_(None), Cafe.starts_at >= start - timedelta(days=2),
                           Cafe.starts_at < end)
    for cafe in session.scalars(q):
        tz = community_zone(settings, cafe.community)
        at = followup.ask_time(cafe, tz)
        if not (start <= at < end):
            continue
        asked = followup.to_ask(session, cafe)
        rooms = toolbox_rooms_of(session, asked)
        for user_id in asked:
            found.append(Due(key=f"{followup.KEY_PREFIX}{cafe.id}:{user_tag(user_id)}", due_at=at,
                             room_id=rooms.get(user_id), user_id=user_id,
                             render=_cafe_render("schedules.followup.ask", cafe, tz), alert=True,
                             reactions=followup.REACTIONS))
    return found


def poll_ends(session: Session, settings: Settings, start: datetime, end: datetime) -> list[Due]:
    """Each café's poll closes when the café starts."""
    found: list[Due] = []
    q = select(Cafe).where(Cafe.cancelled_at.is_(None), Cafe.starts_at >= start, Cafe.starts_at < end)
    for cafe in session.scalars(q):
        room = cafe_room_of(session, cafe.community)

        def event(s: Session, text: str, c: Cafe = cafe) -> tuple[str, dict[str, Any]] | None:
            sent = polls.poll_event_of(s, c)
            return (polls.END_TYPE, polls.end_content(sent.event_id, text)) if sent is not None else None

        found.append(Due(key=f"cafe-poll-end:{cafe.id}", due_at=cafe.starts_at,
                         room_id=room.room_id if room else None,
                         render=lambda s, tr: tr("schedules.poll.ended"), event=event))
    return found


def forum_room(session: Session) -> str | None:
    rooms = find_rooms(session, RoomKind.FORUM)
    return rooms[0].room_id if rooms else None


def cafe_prompts(session: Session, settings: Settings, start: datetime, end: datetime) -> list[Due]:
    days = timedelta(days=settings.schedules.prompt_days_before)
    forum = forum_room(session)
    found: list[Due] = []
    # A prompt goes out before its café starts: those of cafés already begun by ``start`` are not read.
    q = select(CafePrompt, Cafe).join(Cafe, Cafe.id == CafePrompt.cafe_id).where(Cafe.cancelled_at.is_(None),
                                                                                 Cafe.starts_at > start)
    for prompt, cafe in session.execute(q):
        # Set later than that? It goes out as soon as it is set.
        at = max(cafe.starts_at - days, prompt.created_at)
        if start <= at < end and at < cafe.starts_at:
            tz = community_zone(settings, cafe.community)
            text = prompt.text
            key = f"cafe-prompt:{prompt.id}:{prompt.created_at.isoformat()}"
            cafe_room = find_rooms(session, RoomKind.CAFE, community=cafe.community)
            # The forum, and the café's own room (a key of its own, so each is sent exactly once).
            for suffix, room_id in (("", forum), (":cafe", cafe_room[0].room_id if cafe_room else None)):
                if room_id is None and suffix:
                    continue
                found.append(Due(key=key + suffix, due_at=at, room_id=room_id,
                                 render=lambda s, tr, c=cafe, t=text, z=tz: tr(
                                     "schedules.reminder.prompt", text=t, community=c.community,
                                     when=when_text(tr, c.starts_at, z))))
    return found


def confidentiality_reminders(session: Session, settings: Settings, start: datetime, end: datetime) -> list[Due]:
    """Every ``confidentiality_interval_days`` after the forum was made (its latest few only)."""
    interval = timedelta(days=settings.schedules.confidentiality_interval_days)
    found: list[Due] = []
    for room in find_rooms(session, RoomKind.FORUM):
        anchor = room.created_at
        first = max(1, -((anchor - start) // interval))  # ceil((start - anchor) / interval)
        last = (end - anchor) // interval
        if (end - anchor) % interval == timedelta():
            last -= 1  # the window is half-open
        for k in range(max(first, last - MAX_CONFIDENTIALITY_PER_WINDOW + 1), last + 1):
            found.append(Due(key=f"confidentiality:{room.room_id}:{k}", due_at=anchor + k * interval,
                             room_id=room.room_id, render=lambda s, tr: tr("schedules.reminder.confidentiality")))
    return found


def parse_clock(text: str) -> time:
    hour, _, minute = text.partition(":")
    return time(int(hour), int(minute or 0))


def digests(session: Session, settings: Settings, sources: Sequence[DigestSource], start: datetime,
            end: datetime) -> list[Due]:
    """The consultant digest, daily at ``digest_time`` in ``digest_timezone``, from every
    feature's digest ``sources``."""
    tz = ZoneInfo(settings.schedules.digest_timezone)
    clock = parse_clock(settings.schedules.digest_time)
    consultant = find_rooms(session, RoomKind.CONSULTANT)
    found: list[Due] = []
    day: date = start.astimezone(tz).date()
    while day <= end.astimezone(tz).date():
        at = wall_time(day, clock.hour, clock.minute, tz)
        if start <= at < end:
            found.append(Due(key=f"digest:{day.isoformat()}", due_at=at,
                             room_id=consultant[0].room_id if consultant else None,
                             render=lambda s, tr, at=at: digest_text(s, settings, at, tr, sources),
                             alert=True, mentions=lambda s, now: consultants_to_alert(settings)))
        day += timedelta(days=1)
    return found


def _params(session: Session, tr: Say, r: DueReminder) -> dict[str, Any]:
    return {**r.params, **r.details(session, tr)} if r.details is not None else r.params


def feature_reminders(session: Session, sources: Iterable[ReminderSource], start: datetime,
                      end: datetime) -> list[Due]:
    due = [r for source in sources for r in source(session, start, end)]
    rooms = toolbox_rooms_of(session, [r.user_id for r in due])
    return [Due(key=r.key, due_at=r.due_at, room_id=rooms.get(r.user_id), user_id=r.user_id,
                render=lambda s, tr, r=r: tr(r.message_key, **_params(s, tr, r)),
                alert=True, picture=r.picture, reactions=r.reactions) for r in due]


def collect(session: Session, settings: Settings, sources: Iterable[ReminderSource], start: datetime,
            end: datetime, *, digest_sources: Sequence[DigestSource]) -> list[Due]:
    """Everything due in [start, end), soonest first."""
    found = (cafe_room_reminders(session, settings, start, end)
             + cafe_private_reminders(session, settings, start, end)
             + cafe_prompts(session, settings, start, end)
             + poll_ends(session, settings, start, end)
             + cafe_followups(session, settings, start, end)
             + confidentiality_reminders(session, settings, start, end)
             + digests(session, settings, digest_sources, start, end)
             + feature_reminders(session, sources, start, end))
    return sorted(found, key=lambda d: (d.due_at, d.key))
