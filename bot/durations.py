"""Lengths of time as people type them: ``30s``, ``45 min``, ``2h``/``2t``, ``3 days``, ``2 uker``,
``1d 12h`` (English and Norwegian units), for mutes, breaks and reminder offsets; and reminder
offsets, a length of time before an event (``3d``) or a clock time on its day (``day-of 09:00``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.errors import Invalid
from bot.recurrence import wall_time
from bot.timephrase import read_clock

UNITS: dict[str, timedelta] = {}
for _unit, _names in (
    (timedelta(seconds=1), ("s", "sec", "secs", "second", "seconds", "sek", "sekund", "sekunder")),
    (timedelta(minutes=1), ("m", "min", "mins", "minute", "minutes", "minutt", "minutter")),
    (timedelta(hours=1), ("h", "hr", "hrs", "hour", "hours", "t", "time", "timer")),
    (timedelta(days=1), ("d", "day", "days", "dag", "dager", "døgn")),
    (timedelta(weeks=1), ("w", "wk", "week", "weeks", "u", "uke", "uker")),
):
    for _name in _names:
        UNITS[_name] = _unit

_PART = re.compile(r"(\d{1,4})\s*([a-zøæå]+)")
MAX_DURATION = timedelta(days=366)


def parse_duration(text: str) -> timedelta:
    """``30s``, ``45 min``, ``2h``, ``3 days``, ``2 uker``, ``1d 12h``; raises Invalid."""
    cleaned = text.strip().lower()
    parts = _PART.findall(cleaned)
    if not parts or _PART.sub("", cleaned).strip():
        raise Invalid("core.duration.bad")
    total = timedelta()
    for amount, unit in parts:
        if unit not in UNITS:
            raise Invalid("core.duration.bad")
        total += int(amount) * UNITS[unit]
    if total <= timedelta() or total > MAX_DURATION:
        raise Invalid("core.duration.bad")
    return total


@dataclass(frozen=True)
class DayOf:
    """A fixed local time on the day of the event (``day-of 09:00``)."""

    hour: int
    minute: int


Offset = timedelta | DayOf
_DAY_OF = re.compile(r"^day-of\s+(.+)$")


def parse_offset(text: str) -> Offset:
    """A reminder offset from the config: a duration before the event, or ``day-of`` and a clock
    time read like any other (``day-of 09:00``, ``day-of kl 9``)."""
    m = _DAY_OF.match(text.strip().lower())
    if m:
        clock = read_clock(m.group(1))
        if clock is None:
            raise Invalid("core.duration.bad")
        return DayOf(clock.hour, clock.minute)
    return parse_duration(text)


def reminder_time(starts_at: datetime, offset: Offset, tz: ZoneInfo) -> datetime:
    """When the reminder for an event starting at ``starts_at`` (UTC) is due (UTC)."""
    if isinstance(offset, DayOf):
        return wall_time(starts_at.astimezone(tz).date(), offset.hour, offset.minute, tz)
    return starts_at - offset
