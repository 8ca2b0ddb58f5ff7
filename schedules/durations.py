"""Reminder offsets: a length of time before the event (``3d``) or ``day-of 09:00``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.durations import parse_duration
from bot.errors import Invalid
from schedules.recurrence import wall_time

_DAY_OF = re.compile(r"^day-of\s+(\d{1,2})(?::(\d{2}))?$")


@dataclass(frozen=True)
class DayOf:
    """A fixed local time on the day of the event (``day-of 09:00``)."""

    hour: int
    minute: int


Offset = timedelta | DayOf


def parse_offset(text: str) -> Offset:
    """A reminder offset from the config: a duration before the event, or ``day-of HH:MM``."""
    m = _DAY_OF.match(text.strip().lower())
    if m:
        hour, minute = int(m.group(1)), int(m.group(2) or 0)
        if hour > 23 or minute > 59:
            raise Invalid("core.duration.bad")
        return DayOf(hour, minute)
    return parse_duration(text)


def reminder_time(starts_at: datetime, offset: Offset, tz: ZoneInfo) -> datetime:
    """When the reminder for an event starting at ``starts_at`` (UTC) is due (UTC)."""
    if isinstance(offset, DayOf):
        return wall_time(starts_at.astimezone(tz).date(), offset.hour, offset.minute, tz)
    return starts_at - offset
