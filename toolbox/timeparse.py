"""Natural time phrases in English and Norwegian Bokmål, read in the person's time zone.

``tomorrow 10:00``, ``friday 9``, ``i morgen kl 10``, ``fredag kl 9``, ``2026-12-03 18:00``,
``today 18``, ``in 2 hours`` / ``om 2 timer``, ``next monday 8:30``, ``3. desember kl 18``.
Results are timezone-aware UTC datetimes. A wall-clock time skipped when the clocks go forward
moves forward by the gap (02:30 on the spring-forward night becomes 03:30); a time that occurs
twice when they go back means the first of the two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.errors import Invalid

WEEKDAYS: dict[str, int] = {
    "monday": 0, "mon": 0, "mandag": 0,
    "tuesday": 1, "tue": 1, "tues": 1, "tirsdag": 1, "tir": 1,
    "wednesday": 2, "wed": 2, "onsdag": 2, "ons": 2,
    "thursday": 3, "thu": 3, "thurs": 3, "torsdag": 3, "tor": 3,
    "friday": 4, "fri": 4, "fredag": 4, "fre": 4,
    "saturday": 5, "sat": 5, "lørdag": 5, "lør": 5,
    "sunday": 6, "sun": 6, "søndag": 6, "søn": 6,
}
MONTHS: dict[str, int] = {
    "january": 1, "jan": 1, "januar": 1,
    "february": 2, "feb": 2, "februar": 2,
    "march": 3, "mar": 3, "mars": 3,
    "april": 4, "apr": 4,
    "may": 5, "mai": 5,
    "june": 6, "jun": 6, "juni": 6,
    "july": 7, "jul": 7, "juli": 7,
    "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9,
    "october": 10, "oct": 10, "oktober": 10, "okt": 10,
    "november": 11, "nov": 11,
    "december": 12, "dec": 12, "desember": 12, "des": 12,
}
# Units of "in N ..." / "om N ...": minutes and hours are elapsed time; days, weeks, months and
# years move the calendar and keep the wall-clock time.
UNITS: dict[str, tuple[str, int]] = {
    "minute": ("minutes", 1), "minutes": ("minutes", 1), "min": ("minutes", 1), "mins": ("minutes", 1),
    "minutt": ("minutes", 1), "minutter": ("minutes", 1),
    "hour": ("minutes", 60), "hours": ("minutes", 60), "h": ("minutes", 60),
    "time": ("minutes", 60), "timer": ("minutes", 60), "halvtime": ("minutes", 30),
    "day": ("days", 1), "days": ("days", 1), "dag": ("days", 1), "dager": ("days", 1), "døgn": ("days", 1),
    "week": ("days", 7), "weeks": ("days", 7), "uke": ("days", 7), "uker": ("days", 7),
    "month": ("months", 1), "months": ("months", 1), "måned": ("months", 1), "måneder": ("months", 1),
    "year": ("months", 12), "years": ("months", 12), "år": ("months", 12),
}
NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "en": 1, "ei": 1, "ett": 1, "two": 2, "to": 2, "three": 3, "tre": 3}
DAY_WORDS = {"today": 0, "tonight": 0, "tomorrow": 1, "overmorgen": 2}
# Multi-word phrases rewritten to one token before parsing.
PHRASES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("day", "after", "tomorrow"), "overmorgen"),
    (("i", "overmorgen"), "overmorgen"),
    (("i", "morgen"), "tomorrow"),
    (("i", "dag"), "today"),
    (("i", "kveld"), "today"),
    (("i", "ettermiddag"), "today"),
)
SINGLE = {"imorgen": "tomorrow", "imorra": "tomorrow", "idag": "today", "ikveld": "today",
          "kl.": "kl", "klokka": "kl", "klokken": "kl", "at": "kl"}
WEEKDAY_MODIFIERS = {"next": 7, "neste": 7, "on": 0, "på": 0, "this": 0, "denne": 0, "kommende": 0}
MAX_PHRASE_WORDS = 7

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})?")
_SLASHED = re.compile(r"(\d{1,2})/(\d{1,2})(?:/(\d{4}))?")
_CLOCK = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?(am|pm)?")
_ORDINAL = re.compile(r"(\d{1,2})(?:\.|st|nd|rd|th)?")


@dataclass(frozen=True)
class _Day:
    value: date
    weekday: bool  # a weekday name: move a week on when its time today has passed


def local_to_utc(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time; a skipped time moves forward by the gap."""
    return datetime.combine(day, clock, tzinfo=zone).astimezone(timezone.utc)


def _normalise(text: str) -> list[str]:
    raw = [t.strip(",;").lower() for t in text.split()]
    raw = [SINGLE.get(t, t) for t in raw if t]
    out: list[str] = []
    i = 0
    while i < len(raw):
        for words, token in PHRASES:
            if tuple(raw[i:i + len(words)]) == words:
                out.append(token)
                i += len(words)
                break
        else:
            out.append(raw[i])
            i += 1
    return out


def _year_for(month: int, day: int, today: date) -> int:
    candidate = date(today.year, month, day)
    return today.year if candidate >= today else today.year + 1


def _read_day(tokens: list[str], i: int, today: date) -> tuple[_Day, int] | None:
    """A day at ``tokens[i]``: (day, tokens used) or None."""
    tok = tokens[i]
    if tok in DAY_WORDS:
        return _Day(today + timedelta(days=DAY_WORDS[tok]), False), 1
    if tok in WEEKDAY_MODIFIERS and i + 1 < len(tokens) and tokens[i + 1] in WEEKDAYS:
        ahead = (WEEKDAYS[tokens[i + 1]] - today.weekday()) % 7
        if ahead == 0:
            ahead = WEEKDAY_MODIFIERS[tok]
        return _Day(today + timedelta(days=ahead), WEEKDAY_MODIFIERS[tok] == 0), 2
    if tok in WEEKDAYS:
        return _Day(today + timedelta(days=(WEEKDAYS[tok] - today.weekday()) % 7), True), 1
    try:
        if m := _ISO.fullmatch(tok):
            return _Day(date(int(m[1]), int(m[2]), int(m[3])), False), 1
        if (m := _DOTTED.fullmatch(tok)) or (m := _SLASHED.fullmatch(tok)):
            d, mo = int(m[1]), int(m[2])
            return _Day(date(int(m[3]) if m[3] else _year_for(mo, d, today), mo, d), False), 1
        return _read_month_day(tokens, i, today)
    except ValueError:  # 31 February and friends
        return None


def _read_month_day(tokens: list[str], i: int, today: date) -> tuple[_Day, int] | None:
    """``3 december [2026]``, ``3. desember``, ``december 3rd [2026]``."""
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    if (m := _ORDINAL.fullmatch(tokens[i])) and nxt in MONTHS:
        d, mo, used = int(m[1]), MONTHS[nxt], 2
    elif tokens[i] in MONTHS and (m := _ORDINAL.fullmatch(nxt)):
        d, mo, used = int(m[1]), MONTHS[tokens[i]], 2
    else:
        return None
    if i + used < len(tokens) and re.fullmatch(r"\d{4}", tokens[i + used]):
        return _Day(date(int(tokens[i + used]), mo, d), False), used + 1
    return _Day(date(_year_for(mo, d, today), mo, d), False), used


def _read_time(tokens: list[str], i: int, bare_ok: bool) -> tuple[time, int] | None:
    """A clock time at ``tokens[i]``; a bare hour (``9``) only after ``kl``/``at`` or a day."""
    used = 0
    if tokens[i] == "kl":
        if i + 1 >= len(tokens):
            return None
        i, used, bare_ok = i + 1, 1, True
    m = _CLOCK.fullmatch(tokens[i])
    if not m:
        return None
    used += 1
    hour, minute, half = int(m[1]), int(m[2] or 0), m[3]
    if half is None and i + 1 < len(tokens) and tokens[i + 1] in ("am", "pm"):
        half, used = tokens[i + 1], used + 1
    if m[2] is None and half is None and not bare_ok:
        return None
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute), used


def _relative(tokens: list[str], now: datetime, zone: ZoneInfo) -> datetime | None:
    """``in 2 hours``, ``om 3 dager``, ``in an hour``, ``om en halvtime``."""
    if len(tokens) != 3 or tokens[0] not in ("in", "om"):
        return None
    amount = NUMBER_WORDS.get(tokens[1]) or (int(tokens[1]) if tokens[1].isdigit() else 0)
    unit = UNITS.get(tokens[2])
    if not amount or unit is None or amount > 10000:
        return None
    kind, factor = unit
    if kind == "minutes":
        return now + timedelta(minutes=amount * factor)
    local = now.astimezone(zone)
    day = local.date() + timedelta(days=amount * factor) if kind == "days" else _add_months(local.date(), amount * factor)
    return local_to_utc(day, local.time().replace(tzinfo=None), zone)


def _add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day (31 January + 1 month = 28 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def _read(text: str, zone: ZoneInfo, now: datetime) -> tuple[_Day | None, time | None, datetime | None]:
    """(day, time, relative instant) or raises Invalid when the phrase is not a time."""
    tokens = _normalise(text)
    if not tokens:
        raise Invalid("toolbox.when.unknown")
    rel = _relative(tokens, now, zone)
    if rel is not None:
        return None, None, rel
    today = now.astimezone(zone).date()
    day: _Day | None = None
    clock: time | None = None
    i = 0
    while i < len(tokens):
        if day is None and (found_day := _read_day(tokens, i, today)) is not None:
            day, used = found_day
        elif clock is None and (found_time := _read_time(tokens, i, bare_ok=day is not None)) is not None:
            clock, used = found_time
        else:
            raise Invalid("toolbox.when.unknown")
        i += used
    return day, clock, None


def parse_when(text: str, zone: ZoneInfo, now: datetime) -> datetime:
    """A future moment, in UTC. Raises Invalid with a catalogue key when it is not one."""
    day, clock, rel = _read(text, zone, now)
    if rel is not None:
        return rel
    if clock is None:
        raise Invalid("toolbox.when.need_time")
    if day is None:
        today = now.astimezone(zone).date()
        at = local_to_utc(today, clock, zone)
        return at if at > now else local_to_utc(today + timedelta(days=1), clock, zone)
    at = local_to_utc(day.value, clock, zone)
    if at <= now and day.weekday:
        at = local_to_utc(day.value + timedelta(days=7), clock, zone)
    if at <= now:
        raise Invalid("toolbox.when.past")
    return at


def parse_date(text: str, zone: ZoneInfo, now: datetime) -> date:
    """A calendar day (``2027-03-01``, ``1.3.2027``, ``next friday``, ``om 3 uker``)."""
    day, clock, rel = _read(text, zone, now)
    if rel is not None:
        return rel.astimezone(zone).date()
    if day is None or clock is not None:
        raise Invalid("toolbox.when.need_date")
    return day.value


def split_when(text: str, zone: ZoneInfo, now: datetime) -> tuple[datetime, str]:
    """The longest leading time phrase of ``text`` and what follows it.

    When no prefix is a time, raises the most telling reason found (a time already past, then
    a day without a clock time, then "not a time").
    """
    spans = [m.span() for m in re.finditer(r"\S+", text)]
    errors: list[Invalid] = []
    for n in range(min(MAX_PHRASE_WORDS, len(spans)), 0, -1):
        try:
            at = parse_when(text[:spans[n - 1][1]], zone, now)
        except Invalid as err:
            errors.append(err)
            continue
        return at, text[spans[n - 1][1]:].strip()
    raise min(errors, key=lambda e: _ERROR_RANK.get(e.key, len(_ERROR_RANK)), default=Invalid("toolbox.when.unknown"))


_ERROR_RANK = {"toolbox.when.past": 0, "toolbox.when.need_time": 1, "toolbox.when.unknown": 2}
