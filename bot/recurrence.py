"""Calendar rules for recurring events, and wall-clock times in a time zone.

Everything returned is UTC and timezone-aware. The dates of a rule come from ``dateutil.rrule``
(RFC 5545) over naive local dates; each wall-clock time is then placed in the zone on its own date, so
an event at 18:00 stays at 18:00 across daylight-saving changes. A wall time that does not exist (the
spring gap) moves forward by the gap, the usual ``zoneinfo`` reading; an ambiguous one (autumn) takes
its first occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from itertools import islice
from zoneinfo import ZoneInfo

from dateutil.rrule import MONTHLY, WEEKLY, rrule
from dateutil.rrule import weekday as rrule_weekday

# A fifth weekday turns up within a few months, so this bounds the search for every valid rule.
_MAX_CANDIDATES = 400


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
    def from_canonical(cls, text: str) -> Recurrence:
        parts = text.split(":")
        if parts[0] == "weekly":
            return cls(weekday=int(parts[1]), hour=int(parts[2]), minute=int(parts[3]))
        return cls(ordinal=int(parts[1]), weekday=int(parts[2]), hour=int(parts[3]), minute=int(parts[4]))

    def _rule(self, start: date) -> rrule:
        """The local (naive) occurrences from the start of ``start``."""
        dtstart = datetime.combine(start, time())
        if self.ordinal is None:
            return rrule(WEEKLY, dtstart=dtstart, byweekday=self.weekday,
                         byhour=self.hour, byminute=self.minute, bysecond=0)
        return rrule(MONTHLY, dtstart=dtstart, byweekday=rrule_weekday(self.weekday, self.ordinal),
                     byhour=self.hour, byminute=self.minute, bysecond=0)

    def next_after(self, after: datetime, tz: ZoneInfo) -> datetime:
        """The first occurrence strictly after ``after`` (UTC)."""
        for local in islice(self._rule(after.astimezone(tz).date()), _MAX_CANDIDATES):
            at = wall_time(local.date(), self.hour, self.minute, tz)
            if at > after:
                return at
        raise AssertionError("no occurrence found")  # unreachable for valid rules


Rule = OneOff | Recurrence


def wall_time(day: date, hour: int, minute: int, tz: ZoneInfo, second: int = 0) -> datetime:
    """That wall-clock time on that date in ``tz``, as UTC; a skipped time moves forward by the gap."""
    return datetime.combine(day, time(hour, minute, second), tzinfo=tz).astimezone(timezone.utc)


def local_to_utc(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time; a skipped time moves forward by the gap."""
    return datetime.combine(day, clock, tzinfo=zone).astimezone(timezone.utc)


def nth_weekday(year: int, month: int, weekday: int, ordinal: int) -> date | None:
    """The ``ordinal``-th ``weekday`` of the month (-1: the last), or None when the month has none."""
    first = datetime(year, month, 1)
    found = rrule(MONTHLY, dtstart=first, count=1, byweekday=rrule_weekday(weekday, ordinal))[0]
    return found.date() if (found.year, found.month) == (year, month) else None
