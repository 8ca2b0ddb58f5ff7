"""Time phrases as people type them, in English and Norwegian Bokmål, read in a time zone.

One reader for every feature: activities and medication (``tomorrow 10:00``, ``friday 9``,
``i morgen kl 10``, ``fredag kl 9``, ``in 2 hours`` / ``om 2 timer``, ``next monday 8:30``,
``3. desember kl 18``, ``2026-12-03 18:00``, ``03.12.2026 kl. 18.30``, ``18:00:30``), crisis-plan
review dates (``2027-03-01``, ``om 3 uker``) and cafés, which may also recur
(``every first thursday 18:00``, ``hver 2. tirsdag kl 17.30``, ``every wednesday 12:15``).

Results are timezone-aware UTC datetimes. A wall-clock time skipped when the clocks go forward
moves forward by the gap (02:30 on the spring-forward night becomes 03:30); a time that occurs
twice when they go back means the first of the two. Only the reading is here: the calendar
arithmetic of recurring rules is ``bot.recurrence``.

Each caller names the catalogue keys of its refusals (``WhenKeys``), since features word them
in their own catalogues.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice
from typing import Callable, TypeVar
from zoneinfo import ZoneInfo

from bot.errors import Invalid
from bot.recurrence import OneOff, Recurrence, Rule, local_to_utc

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
# Which weekday of the month a recurring rule means; -1 is the last.
ORDINALS: dict[str, int] = {
    "first": 1, "1st": 1, "første": 1, "1.": 1,
    "second": 2, "2nd": 2, "andre": 2, "2.": 2,
    "third": 3, "3rd": 3, "tredje": 3, "3.": 3,
    "fourth": 4, "4th": 4, "fjerde": 4, "4.": 4,
    "fifth": 5, "5th": 5, "femte": 5, "5.": 5,
    "last": -1, "siste": -1,
}
EVERY = {"every", "each", "hver", "hvert"}
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
# A phrase of seven words is never longer than this; longer text is not a time and is not read
# (so a pasted page costs nothing).
MAX_PHRASE_CHARS = 200
# Nothing is planned further ahead than this: "in 9999 years" or a year typed wrong gets a clear
# refusal (``WhenKeys.too_far``), and no date comes near the calendar's end (year 9999), where
# converting between zones overflows.
MAX_YEARS_AHEAD = 10

_Found = TypeVar("_Found")

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})?")
_SLASHED = re.compile(r"(\d{1,2})/(\d{1,2})(?:/(\d{4}))?")
# Seconds are for short test offsets (``18:00:30``).
_CLOCK = re.compile(r"(\d{1,2})(?:[:.](\d{2})(?::(\d{2}))?)?(am|pm)?")
_ORDINAL = re.compile(r"(\d{1,2})(?:\.|st|nd|rd|th)?")


@dataclass(frozen=True)
class WhenKeys:
    """The catalogue keys a feature refuses a phrase with."""

    unknown: str  # not a time at all
    need_time: str  # a day without a clock time
    past: str  # a moment already gone
    bad_date: str  # shaped like a date that the calendar does not have (30 February)
    need_date: str  # a clock time where a day was asked for
    too_far: str = "core.when.too_far"  # more than MAX_YEARS_AHEAD years ahead
    bad_clock: str = "core.when.bad_clock"  # shaped like a clock time the day does not have (25:00)


class _Refused(Exception):
    """Why a phrase was not a time: one of the ``WhenKeys`` field names."""

    def __init__(self, reason: str, clock: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.clock = clock  # for "bad_clock": the clock time as typed (``25:00``)


# When no prefix of a text is a time, the most telling reason wins: ``tomorrow 25:00`` is refused
# for its clock time, not as "tomorrow" without one.
_REASON_RANK = {"past": 0, "too_far": 1, "bad_clock": 2, "need_time": 3, "bad_date": 4, "unknown": 5}


def _invalid(keys: WhenKeys, refused: _Refused) -> Invalid:
    if refused.reason == "too_far":
        return Invalid(keys.too_far, years=MAX_YEARS_AHEAD)
    if refused.reason == "bad_clock":
        return Invalid(keys.bad_clock, clock=refused.clock)
    return Invalid(getattr(keys, refused.reason))


def _horizon(today: date) -> date:
    """The last day a phrase may name, seen from ``today``."""
    try:
        return today.replace(year=today.year + MAX_YEARS_AHEAD)
    except ValueError:  # 29 February
        return today.replace(year=today.year + MAX_YEARS_AHEAD, day=28)


def _within_horizon(day: date, today: date) -> date:
    if day > _horizon(today):
        raise _Refused("too_far")
    return day


def _to_utc(day: date, clock: time, zone: ZoneInfo) -> datetime:
    try:
        return local_to_utc(day, clock, zone)
    except OverflowError:  # the last hours of year 9999 in a zone west of UTC
        raise _Refused("too_far") from None


@dataclass(frozen=True)
class _Day:
    value: date
    weekday: bool  # a weekday name: move a week on when its time today has passed


def _normalise(text: str) -> list[str]:
    if len(text) > MAX_PHRASE_CHARS:
        return ["\0"]  # never a time: refused as unknown without being read
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
    """A day at ``tokens[i]``: (day, tokens used) or None; raises _Refused("bad_date") for 30 February."""
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
        raise _Refused("bad_date") from None


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
    hour, minute, second, half = int(m[1]), int(m[2] or 0), int(m[3] or 0), m[4]
    if half is None and i + 1 < len(tokens) and tokens[i + 1] in ("am", "pm"):
        half, used = tokens[i + 1], used + 1
    if m[2] is None and half is None and not bare_ok:
        return None
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second), used


def _bad_clock(tokens: list[str], i: int, bare_ok: bool) -> str | None:
    """The clock time at ``tokens[i]`` as typed when it is shaped like one that :func:`_read_time`
    would read (``25:00``, ``kl 24``, ``10:75``, ``13pm``) but no day has it; otherwise None.
    A bare number (``tomorrow 99 balloons``) is no clock time unless ``kl``/``at`` comes before it."""
    j = i + 1 if tokens[i] == "kl" else i
    if j >= len(tokens) or _read_time(tokens, i, bare_ok) is not None:
        return None
    m = _CLOCK.fullmatch(tokens[j])
    if not m or (m[2] is None and m[4] is None and j == i):
        return None
    if "." in tokens[j] and j == i:
        return None  # ``25.12`` alone may be a date written without its last dot, not a clock time
    return tokens[j]


def read_clock(text: str, bare_ok: bool = True) -> time | None:
    """A clock time alone (``09:00``, ``18.30``, ``kl 9``, ``9am``; a bare ``9`` when ``bare_ok``), or None."""
    tokens = _normalise(text)
    if not tokens:
        return None
    found = _read_time(tokens, 0, bare_ok=bare_ok)
    return found[0] if found is not None and found[1] == len(tokens) else None


def _relative(tokens: list[str], now: datetime, zone: ZoneInfo) -> datetime | None:
    """``in 2 hours``, ``om 3 dager``, ``in an hour``, ``om en halvtime``."""
    if len(tokens) != 3 or tokens[0] not in ("in", "om"):
        return None
    amount = NUMBER_WORDS.get(tokens[1]) or (int(tokens[1]) if tokens[1].isdigit() else 0)
    unit = UNITS.get(tokens[2])
    if not amount or unit is None:
        return None
    kind, factor = unit
    local = now.astimezone(zone)
    if amount * factor > {"minutes": 60 * 24 * 366, "days": 366, "months": 12}[kind] * MAX_YEARS_AHEAD:
        raise _Refused("too_far")
    if kind == "minutes":
        return now + timedelta(minutes=amount * factor)
    day = local.date() + timedelta(days=amount * factor) if kind == "days" else _add_months(local.date(), amount * factor)
    _within_horizon(day, local.date())
    return _to_utc(day, local.time().replace(tzinfo=None), zone)


def _add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day (31 January + 1 month = 28 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    if year > date.max.year:
        raise _Refused("too_far")
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def _read(text: str, zone: ZoneInfo, now: datetime) -> tuple[_Day | None, time | None, datetime | None]:
    """(day, time, relative instant), or raises _Refused when the phrase is not a time."""
    tokens = _normalise(text)
    if not tokens:
        raise _Refused("unknown")
    rel = _relative(tokens, now, zone)
    if rel is not None:
        return None, None, rel
    today = now.astimezone(zone).date()
    day: _Day | None = None
    clock: time | None = None
    bad_date = False
    i = 0
    while i < len(tokens):
        found_day: tuple[_Day, int] | None = None
        if day is None:
            try:
                found_day = _read_day(tokens, i, today)
            except _Refused:
                bad_date = True
        if found_day is not None:
            day, used = found_day
        elif clock is None and (found_time := _read_time(tokens, i, bare_ok=day is not None)) is not None:
            clock, used = found_time
        elif clock is None and not bad_date and (typed := _bad_clock(tokens, i, bare_ok=day is not None)):
            raise _Refused("bad_clock", typed)
        else:
            raise _Refused("bad_date" if bad_date else "unknown")
        i += used
    if day is not None:
        _within_horizon(day.value, today)
    return day, clock, None


def _moment(text: str, zone: ZoneInfo, now: datetime) -> datetime:
    day, clock, rel = _read(text, zone, now)
    if rel is not None:
        return rel
    if clock is None:
        raise _Refused("need_time")
    if day is None:
        today = now.astimezone(zone).date()
        at = local_to_utc(today, clock, zone)
        return at if at > now else local_to_utc(today + timedelta(days=1), clock, zone)
    at = local_to_utc(day.value, clock, zone)
    if at <= now and day.weekday:
        at = local_to_utc(day.value + timedelta(days=7), clock, zone)
    if at <= now:
        raise _Refused("past")
    return at


def _recurrence(text: str) -> Recurrence:
    """``every [first|2.|last] thursday [at|kl] 18:00``; raises _Refused."""
    tokens = _normalise(text)
    if not tokens or tokens[0] not in EVERY:
        raise _Refused("unknown")
    i = 1
    ordinal = ORDINALS.get(tokens[i]) if i < len(tokens) else None
    if ordinal is not None:
        i += 1
    if i >= len(tokens) or tokens[i] not in WEEKDAYS:
        raise _Refused("unknown")
    weekday = WEEKDAYS[tokens[i]]
    i += 1
    if i >= len(tokens):
        raise _Refused("need_time")
    found = _read_time(tokens, i, bare_ok=True)
    if found is None and (typed := _bad_clock(tokens, i, bare_ok=True)):
        raise _Refused("bad_clock", typed)
    if found is None or i + found[1] != len(tokens):
        raise _Refused("unknown")
    clock = found[0]
    return Recurrence(weekday, clock.hour, clock.minute, ordinal)


def parse_when(text: str, zone: ZoneInfo, now: datetime, keys: WhenKeys) -> datetime:
    """A future moment, in UTC. Raises Invalid with one of ``keys`` when it is not one."""
    try:
        return _moment(text, zone, now)
    except _Refused as refused:
        raise _invalid(keys, refused) from None


def parse_date(text: str, zone: ZoneInfo, now: datetime, keys: WhenKeys) -> date:
    """A calendar day (``2027-03-01``, ``1.3.2027``, ``next friday``, ``om 3 uker``)."""
    try:
        day, clock, rel = _read(text, zone, now)
    except _Refused as refused:
        raise _invalid(keys, refused) from None
    if rel is not None:
        return rel.astimezone(zone).date()
    if day is None or clock is not None:
        raise Invalid(keys.need_date)
    return day.value


def _rule(phrase: str, zone: ZoneInfo, now: datetime) -> Rule:
    tokens = _normalise(phrase)
    if tokens and tokens[0] in EVERY:
        return _recurrence(phrase)
    return OneOff(_moment(phrase, zone, now))


def _split(text: str, read: Callable[[str], _Found], keys: WhenKeys) -> tuple[_Found, str]:
    """The longest leading phrase of ``text`` that ``read`` accepts, and what follows it.

    When no prefix is one, raises the most telling reason found (a time already past, then a day
    without a clock time, then a date the calendar lacks, then "not a time").
    """
    spans = [m.span() for m in islice(re.finditer(r"\S+", text), MAX_PHRASE_WORDS)]
    reasons: list[_Refused] = []
    for n in range(min(MAX_PHRASE_WORDS, len(spans)), 0, -1):
        end = spans[n - 1][1]
        try:
            found = read(text[:end])
        except _Refused as refused:
            reasons.append(refused)
            continue
        return found, text[end:].strip()
    raise _invalid(keys, min(reasons, key=lambda r: _REASON_RANK[r.reason], default=_Refused("unknown")))


def split_when(text: str, zone: ZoneInfo, now: datetime, keys: WhenKeys) -> tuple[datetime, str]:
    """The longest leading time phrase of ``text`` (a future moment, UTC) and what follows it."""
    return _split(text, lambda phrase: _moment(phrase, zone, now), keys)


def split_rule(text: str, zone: ZoneInfo, now: datetime, keys: WhenKeys) -> tuple[Rule, str]:
    """A one-off moment or a recurring rule at the start of ``text``, and the words that follow
    (whitespace between them folded to single spaces)."""
    rule, rest = _split(text, lambda phrase: _rule(phrase, zone, now), keys)
    return rule, " ".join(rest.split())
