"""Turning schedule data into words: dates in the reader's language and zone, café lines,
announcements. Sentences live in the catalogues; this module only fills them in."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from schedules.models import Cafe

# tr(key, **params) -> text, already bound to one language.
Tr = Callable[..., str]


@dataclass(frozen=True)
class Voice:
    """How jobs speak without an event context: the catalogue and each person's language."""

    t: Callable[..., str]  # t(lang, key, **params), as App.t
    lang_of: Callable[[Session, str], str]
    default_lang: str

    def tr(self, session: Session, user_id: str | None = None) -> Tr:
        lang = self.lang_of(session, user_id) if user_id else self.default_lang
        return lambda key, **params: self.t(lang, key, **params)


def when_text(tr: Tr, at: datetime, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    return tr("schedules.datetime", weekday=tr(f"schedules.weekday.{local.weekday()}"), day=local.day,
              month=tr(f"schedules.month.{local.month}"), year=local.year, time=f"{local:%H:%M}")


def topic_part(tr: Tr, cafe: Cafe) -> str:
    return tr("schedules.cafe.topic", topic=cafe.topic) if cafe.topic else ""


def counts_text(tr: Tr, counts: Counter[str]) -> str:
    return tr("schedules.cafe.counts", yes=counts["yes"], maybe=counts["maybe"], no=counts["no"])


def cafe_line(tr: Tr, n: int, cafe: Cafe, tz: ZoneInfo, *, counts: Counter[str] | None = None,
              answer: str | None = None) -> str:
    """One numbered line of ``!cafe``: when, where, and either the counts (staff) or your answer."""
    line = tr("schedules.cafe.line", n=n, community=cafe.community, when=when_text(tr, cafe.starts_at, tz),
              place=cafe.place, topic=topic_part(tr, cafe))
    if counts is not None:
        line += " " + counts_text(tr, counts)
    if answer is not None:
        line += " " + tr("schedules.cafe.your_answer", answer=tr(f"schedules.answer.{answer}"))
    return line


def announcement(tr: Tr, cafe: Cafe, tz: ZoneInfo) -> str:
    return tr("schedules.cafe.announcement", community=cafe.community, when=when_text(tr, cafe.starts_at, tz),
              place=cafe.place, topic=topic_part(tr, cafe))
