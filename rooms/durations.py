"""Durations as people type them: ``30m``, ``2h``/``2t``, ``3d``, ``2w``/``2u`` (and spelled out)."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.errors import Invalid

_UNITS: dict[str, timedelta] = {
    "m": timedelta(minutes=1), "min": timedelta(minutes=1), "minutes": timedelta(minutes=1),
    "minutter": timedelta(minutes=1),
    "h": timedelta(hours=1), "t": timedelta(hours=1), "hours": timedelta(hours=1),
    "timer": timedelta(hours=1),
    "d": timedelta(days=1), "days": timedelta(days=1), "dager": timedelta(days=1),
    "w": timedelta(weeks=1), "u": timedelta(weeks=1), "weeks": timedelta(weeks=1),
    "uker": timedelta(weeks=1),
}
_DURATION = re.compile(r"^\s*(\d{1,4})\s*([a-zæøå]+)\s*$", re.IGNORECASE)
MAX = timedelta(days=365)


def parse_duration(text: str) -> timedelta:
    m = _DURATION.match(text)
    unit = _UNITS.get(m.group(2).lower()) if m else None
    if m is None or unit is None or int(m.group(1)) == 0:
        raise Invalid("rooms.duration.bad")
    value = int(m.group(1)) * unit
    if value > MAX:
        raise Invalid("rooms.duration.too_long")
    return value
