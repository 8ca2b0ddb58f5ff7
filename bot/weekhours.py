"""Weekly hours such as ``mon-fri 08:00-15:30, sat 10:00-12:00`` (office hours, staffed hours):
parse, test, next opening, and say them in the reader's language. Day names may be English or
Norwegian (``man-fre``, ``lørdag``); a provider may end the text with their time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import Invalid

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NB_DAYS = {"man": 0, "tir": 1, "ons": 2, "tor": 3, "fre": 4, "lør": 5, "lor": 5, "søn": 6, "son": 6}
_SPAN = re.compile(
    r"^\s*([a-zæøå]{3})[a-zæøå]*\.?(?:\s*-\s*([a-zæøå]{3})[a-zæøå]*\.?)?\s+"
    r"(?:kl\.?\s*)?(\d{1,2})[:.](\d{2})\s*-\s*(\d{1,2})[:.](\d{2})\s*$",
    re.IGNORECASE,
)
MAX_TEXT = 200
MAX_SPANS = 7
# Catalogue text by key: say(key, **params).
Say = Callable[..., str]


@dataclass(frozen=True)
class WeeklyHours:
    """One span: some days, one time range."""

    days: frozenset[int]  # 0 = Monday
    start: time
    end: time

    def canonical(self) -> str:
        ordered = sorted(self.days)
        first, last = DAYS[ordered[0]], DAYS[ordered[-1]]
        span = first if first == last else f"{first}-{last}"
        return f"{span} {self.start:%H:%M}-{self.end:%H:%M}"

    def said(self, say: Say) -> str:
        ordered = sorted(self.days)
        first, last = say(f"core.day.{ordered[0]}"), say(f"core.day.{ordered[-1]}")
        span = first if ordered[0] == ordered[-1] else f"{first}–{last}"
        return f"{span} {self.start:%H:%M}–{self.end:%H:%M}"

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


@dataclass(frozen=True)
class Schedule:
    """Several spans (``mon-fri 08:00-15:30, sat 10:00-12:00``); open when any span is."""

    spans: tuple[WeeklyHours, ...]

    def canonical(self) -> str:
        return ", ".join(s.canonical() for s in self.spans)

    def said(self, say: Say) -> str:
        return ", ".join(s.said(say) for s in self.spans)

    def is_open(self, at: datetime, tz: str) -> bool:
        return any(s.is_open(at, tz) for s in self.spans)

    def next_opening(self, at: datetime, tz: str) -> datetime:
        return min(s.next_opening(at, tz) for s in self.spans)


def said_at(say: Say, at: datetime, zone_name: str) -> str:
    """"Mon 2026-12-07 at 08:00 (Europe/Oslo)": a moment in a named zone, in the reader's language."""
    local = at.astimezone(ZoneInfo(zone_name))
    return say("core.day_time", day=say(f"core.day.{local.weekday()}"), date=f"{local:%Y-%m-%d}",
               time=f"{local:%H:%M}", zone=zone_name)


def _day(token: str) -> int:
    token = token.lower()
    if token in DAYS:
        return DAYS.index(token)
    if token in _NB_DAYS:
        return _NB_DAYS[token]
    raise Invalid("core.hours.bad")


def _span(text: str) -> WeeklyHours:
    m = _SPAN.match(text)
    if m is None:
        raise Invalid("core.hours.bad")
    first = _day(m.group(1))
    last = _day(m.group(2)) if m.group(2) else first
    if last < first:
        raise Invalid("core.hours.bad")
    try:
        start = time(int(m.group(3)), int(m.group(4)))
        end = time(int(m.group(5)), int(m.group(6)))
    except ValueError:
        raise Invalid("core.hours.bad") from None
    if end <= start:
        raise Invalid("core.hours.bad")
    return WeeklyHours(frozenset(range(first, last + 1)), start, end)


def split_zone(text: str) -> tuple[str, str | None]:
    """``"mon-fri 08:00-15:30 Europe/Oslo"`` -> (the hours, "Europe/Oslo"); no zone -> None."""
    words = text.strip().split()
    if words and ("/" in words[-1] or words[-1].upper() == "UTC"):
        name = "UTC" if words[-1].upper() == "UTC" else words[-1]
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid("core.hours.bad_zone", zone=words[-1]) from None
        return " ".join(words[:-1]), name
    return text, None


def parse_schedule(text: str) -> Schedule:
    """Spans separated by commas or semicolons; at most a week's worth."""
    if len(text) > MAX_TEXT:
        raise Invalid("core.hours.bad")
    parts = [p for p in re.split(r"[,;]", text) if p.strip()]
    if not parts or len(parts) > MAX_SPANS:
        raise Invalid("core.hours.bad")
    return Schedule(tuple(_span(p) for p in parts))


def parse_hours(text: str) -> Schedule:
    """Weekly hours as configured or typed (several spans allowed)."""
    return parse_schedule(text)
