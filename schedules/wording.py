"""Turning schedule data into words: dates in the reader's language and zone, café lines,
announcements. Sentences live in the catalogues; this module only fills them in, through a
:data:`bot.speaker.Say` already bound to the reader's language."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.speaker import Say
from schedules.models import Cafe


def when_text(say: Say, at: datetime, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    return say("schedules.datetime", weekday=say(f"schedules.weekday.{local.weekday()}"), day=local.day,
               month=say(f"schedules.month.{local.month}"), year=local.year, time=f"{local:%H:%M}")


def topic_part(say: Say, cafe: Cafe) -> str:
    return say("schedules.cafe.topic", topic=cafe.topic) if cafe.topic else ""


def counts_text(say: Say, counts: Counter[str]) -> str:
    return say("schedules.cafe.counts", yes=counts["yes"], maybe=counts["maybe"], no=counts["no"])


def cafe_line(say: Say, n: int, cafe: Cafe, tz: ZoneInfo, *, counts: Counter[str] | None = None,
              answer: str | None = None) -> str:
    """One numbered line of ``!cafe``: when, where, and either the counts (staff) or your answer."""
    line = say("schedules.cafe.line", n=n, community=cafe.community, when=when_text(say, cafe.starts_at, tz),
               place=cafe.place, topic=topic_part(say, cafe))
    if counts is not None:
        line += " " + counts_text(say, counts)
    if answer is not None:
        line += " " + say("schedules.cafe.your_answer", answer=say(f"schedules.answer.{answer}"))
    return line


def announcement(say: Say, cafe: Cafe, tz: ZoneInfo) -> str:
    return say("schedules.cafe.announcement", community=cafe.community, when=when_text(say, cafe.starts_at, tz),
               place=cafe.place, topic=topic_part(say, cafe))
