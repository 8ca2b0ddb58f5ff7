"""When a café happens: parsing ``2026-12-03 18:00``, ``thursday 18:00``, ``every first thursday 18:00``
(and the Norwegian forms), and finding occurrences by calendar rule in a community's time zone.

Everything returned is UTC and timezone-aware. Wall-clock times are built in the community's zone
for each date, so a café at 18:00 stays at 18:00 across daylight-saving changes. A wall time that
does not exist (the spring gap) resolves to the same instant as the hour before plus the gap, the
usual ``zoneinfo`` reading; an ambiguous one (autumn) takes its first occurrence.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from typing import Callable
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.errors import Invalid

WEEKDAYS: dict[str, int] = {}
for _n, _names in enumerate((
    ("monday", "mon", "mandag", "man", "mondays", "mandager"),
    ("tuesday", "tue", "tues", "tirsdag", "tir", "tuesdays", "tirsdager"),
    ("wednesday", "wed", "onsdag", "ons", "wednesdays", "onsdager"),
    ("thursday", "thu", "thur", "thurs", "torsdag", "tor", "thursdays", "torsdager"),
    ("friday", "fri", "fredag", "fre", "fridays", "fredager"),
    ("saturday", "sat", "lørdag", "lør", "saturdays", "lørdager"),
    ("sunday", "sun", "søndag", "søn", "sundays", "søndager"),
)):
    for _name in _names:
        WEEKDAYS[_name] = _n

ORDINALS: dict[str, int] = {
    "first": 1, "1st": 1, "første": 1, "1.": 1,
    "second": 2, "2nd": 2, "andre": 2, "2.": 2,
    "third": 3, "3rd": 3, "tredje": 3, "3.": 3,
    "fourth": 4, "4th": 4, "fjerde": 4, "4.": 4,
    "fifth": 5, "5th": 5, "femte": 5, "5.": 5,
    "last": -1, "siste": -1,
}
EVERY = {"every", "each", "hver", "hvert"}
RELATIVE_DAYS = {"today": 0, "idag": 0, "tomorrow": 1, "imorgen": 1}
TIME_LEAD_INS = {"at", "kl", "kl.", "klokka", "klokken"}

_TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?(?::(\d{2}))?$")  # seconds: for short test offsets
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_NB_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


@dataclass(frozen=True)
class OneOff:
    at: datetime  # UTC


@dataclass(frozen=True)
class Recurrence:
    """``ordinal`` None means every week; 1..5 the n-th weekday of the month; -1 the last."""

    weekday: int
    hour: int
    minute: int
    ordinal: int | None = None

    @property
    def canonical(self) -> str:
        which = "weekly" if self.ordinal is None else f"monthly:{self.ordinal}"
        return f"{which}:{self.weekday}:{self.hour:02d}:{self.minute:02d}"

    @classmethod
    def from_canonical(cls, text: str) -> "Recurrence":
        parts = text.split(":")
        if parts[0] == "weekly":
            return cls(weekday=int(parts[1]), hour=int(parts[2]), minute=int(parts[3]))
        return cls(ordinal=int(parts[1]), weekday=int(parts[2]), hour=int(parts[3]), minute=int(parts[4]))

    def next_after(self, after: datetime, tz: ZoneInfo) -> datetime:
        """The first occurrence strictly after ``after`` (UTC)."""
        local_day = after.astimezone(tz).date()
        if self.ordinal is None:
            day = local_day + timedelta(days=(self.weekday - local_day.weekday()) % 7)
            while True:
                at = wall_time(day, self.hour, self.minute, tz)
                if at > after:
                    return at
                day += timedelta(days=7)
        year, month = local_day.year, local_day.month
        for _ in range(60):  # a 5th weekday turns up within a few months
            day_or_none = nth_weekday(year, month, self.weekday, self.ordinal)
            if day_or_none is not None:
                at = wall_time(day_or_none, self.hour, self.minute, tz)
                if at > after:
                    return at
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        raise AssertionError("no occurrence within five years")  # unreachable for valid rules


Rule = OneOff | Recurrence


def wall_time(day: date, hour: int, minute: int, tz: ZoneInfo, second: int = 0) -> datetime:
    """That wall-clock time on that date in ``tz``, as UTC."""
    return datetime.combine(day, time(hour, minute, second), tzinfo=tz).astimezone(timezone.utc)


def nth_weekday(year: int, month: int, weekday: int, ordinal: int) -> date | None:
    """The ``ordinal``-th ``weekday`` of the month (-1: the last), or None when the month has none."""
    days = [d for d in range(1, calendar.monthrange(year, month)[1] + 1)
            if date(year, month, d).weekday() == weekday]
    if ordinal == -1:
        return date(year, month, days[-1])
    if ordinal > len(days):
        return None
    return date(year, month, days[ordinal - 1])


def _clean(tokens: list[str]) -> list[str]:
    """Lower-case, and fold two-word Norwegian relatives (``i morgen``) into one token."""
    words = [t.lower().rstrip(",") for t in tokens]
    out: list[str] = []
    i = 0
    while i < len(words):
        if words[i] == "i" and i + 1 < len(words) and words[i + 1] in ("dag", "morgen"):
            out.append("i" + words[i + 1])
            i += 2
            continue
        out.append(words[i])
        i += 1
    return out


def _parse_time(words: list[str], i: int) -> tuple[time, int]:
    """(clock, next index) from ``18``, ``18:00``, ``kl. 18.30``, ``18:00:30``; raises Invalid."""
    if i < len(words) and words[i] in TIME_LEAD_INS:
        i += 1
    m = _TIME.match(words[i]) if i < len(words) else None
    if m is None:
        raise Invalid("schedules.when.bad_time")
    hour, minute, second = int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise Invalid("schedules.when.bad_time")
    return time(hour, minute, second), i + 1


def _parse_date(word: str) -> date | None:
    m = _ISO_DATE.match(word)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    else:
        m = _NB_DATE.match(word)
        if not m:
            return None
        d, mo, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
    try:
        return date(y, mo, d)
    except ValueError:
        raise Invalid("schedules.when.bad_date") from None


def parse_when(text: str, tz: ZoneInfo, now: datetime) -> tuple[Rule, str]:
    """Read a time or rule at the start of ``text``; returns it and the words that follow.

    One-offs must lie in the future (``now`` is UTC); raises Invalid with a catalogue key.
    """
    raw = text.split()
    words = _clean(raw)
    if not words:
        raise Invalid("schedules.when.bad")
    consumed_raw = _raw_offset(raw, words)
    first = words[0]
    if first in EVERY:
        i = 1
        ordinal = ORDINALS.get(words[i]) if i < len(words) else None
        if ordinal is not None:
            i += 1
        if i >= len(words) or words[i] not in WEEKDAYS:
            raise Invalid("schedules.when.bad")
        weekday = WEEKDAYS[words[i]]
        clock, i = _parse_time(words, i + 1)
        return Recurrence(weekday, clock.hour, clock.minute, ordinal), " ".join(raw[consumed_raw(i):])
    local_today = now.astimezone(tz).date()
    day = _parse_date(first)
    if day is None and first in RELATIVE_DAYS:
        day = local_today + timedelta(days=RELATIVE_DAYS[first])
    weekday = WEEKDAYS.get(first) if day is None else None
    if day is None and weekday is None:
        raise Invalid("schedules.when.bad")
    clock, i = _parse_time(words, 1)
    if weekday is not None:
        day = local_today + timedelta(days=(weekday - local_today.weekday()) % 7)
        if wall_time(day, clock.hour, clock.minute, tz, clock.second) <= now:
            day += timedelta(days=7)
    assert day is not None
    at = wall_time(day, clock.hour, clock.minute, tz, clock.second)
    if at <= now:
        raise Invalid("schedules.when.past")
    return OneOff(at), " ".join(raw[consumed_raw(i):])


def _raw_offset(raw: list[str], words: list[str]) -> Callable[[int], int]:
    """Map an index into the cleaned words back to an index into the raw tokens."""
    mapping: list[int] = []
    r = 0
    for w in words:
        mapping.append(r)
        r += 2 if w in ("idag", "imorgen") and raw[r].lower() == "i" else 1
    mapping.append(len(raw))
    return lambda i: mapping[i]


def first_occurrence(rule: Rule, tz: ZoneInfo, now: datetime) -> datetime:
    return rule.at if isinstance(rule, OneOff) else rule.next_after(now, tz)
