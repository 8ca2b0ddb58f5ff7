"""Weekly hours such as ``mon-fri 08:00-15:30`` (office hours, staffed hours): parse, test, next opening."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.errors import Invalid

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NB_DAYS = {"man": 0, "tir": 1, "ons": 2, "tor": 3, "fre": 4, "lør": 5, "lor": 5, "søn": 6, "son": 6}
_SPEC = re.compile(
    r"^\s*([a-zæøå]{3})[a-zæøå]*(?:\s*-\s*([a-zæøå]{3})[a-zæøå]*)?\s+"
    r"(\d{1,2})[:.](\d{2})\s*-\s*(\d{1,2})[:.](\d{2})\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class WeeklyHours:
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time

    def canonical(self) -> str:
        ordered = sorted(self.days)
        first, last = DAYS[ordered[0]], DAYS[ordered[-1]]
        span = first if first == last else f"{first}-{last}"
        return f"{span} {self.start:%H:%M}-{self.end:%H:%M}"

    def is_open(self, at: datetime, tz: str) -> bool:
        local = at.astimezone(ZoneInfo(tz))
        return local.weekday() in self.days and self.start <= local.time() < self.end

    def next_opening(self, at: datetime, tz: str) -> datetime:
        """When the hours next begin after ``at`` (in the zone ``tz``)."""
        zone = ZoneInfo(tz)
        local = at.astimezone(zone)
        for offset in range(8):
            day = (local + timedelta(days=offset)).date()
            opening = datetime.combine(day, self.start, tzinfo=zone)
            if day.weekday() in self.days and opening > local:
                return opening
        raise AssertionError("a weekly schedule opens within eight days")


def _day(token: str) -> int:
    token = token.lower()
    if token in DAYS:
        return DAYS.index(token)
    if token in _NB_DAYS:
        return _NB_DAYS[token]
    raise Invalid("rooms.hours.bad")


def parse_hours(text: str) -> WeeklyHours:
    m = _SPEC.match(text)
    if m is None:
        raise Invalid("rooms.hours.bad")
    first = _day(m.group(1))
    last = _day(m.group(2)) if m.group(2) else first
    if last < first:
        raise Invalid("rooms.hours.bad")
    try:
        start = time(int(m.group(3)), int(m.group(4)))
        end = time(int(m.group(5)), int(m.group(6)))
    except ValueError:
        raise Invalid("rooms.hours.bad") from None
    if end <= start:
        raise Invalid("rooms.hours.bad")
    return WeeklyHours(frozenset(range(first, last + 1)), start, end)
