"""Lengths of time as people type them: ``30s``, ``45 min``, ``2h``/``2t``, ``3 days``, ``2 uker``,
``1d 12h`` (English and Norwegian units), for mutes, breaks and reminder offsets."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.errors import Invalid

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
