"""Research figures by month and community, composed from every feature's figures (the
community's forum posts, distinct posters and views; this package's café RSVPs and attendance).
Small counts are suppressed: anything under 3 is shown as "<3"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.contracts import StatsFigure, StatsSource
from bot.speaker import Say
from bot.zones import community_zone
from schedules import followup
from schedules.models import Cafe, Rsvp

SUPPRESS_BELOW = 3


@dataclass(frozen=True)
class CafeFigure:
    month: str  # YYYY-MM, in the community's zone
    community: str
    rsvps_yes: int
    attended: int | None  # None: no café that month had attendance marked


@dataclass(frozen=True)
class StatsRow:
    month: str
    community: str  # "" for posts by people without a community (staff)
    posts: int | None
    posters: int | None
    views: int | None
    rsvps_yes: int | None
    attended: int | None


def shown(count: int | None, small: str = f"<{SUPPRESS_BELOW}") -> str:
    """A count as a researcher may see it: "<3" when small, "–" when not recorded."""
    if count is None:
        return "–"
    return small if count < SUPPRESS_BELOW else str(count)


def months_back(now: datetime, months: int) -> datetime:
    """The first instant (UTC) of the month ``months - 1`` months before ``now``'s month."""
    index = now.year * 12 + (now.month - 1) - (months - 1)
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=timezone.utc)


def cafe_figures(session: Session, settings: Settings, since: datetime, now: datetime) -> list[CafeFigure]:
    found: dict[tuple[str, str], tuple[int, int | None]] = {}
    q = select(Cafe).where(Cafe.starts_at >= since, Cafe.starts_at <= now, Cafe.cancelled_at.is_(None))
    for cafe in session.scalars(q):
        month = cafe.starts_at.astimezone(community_zone(settings, cafe.community)).strftime("%Y-%m")
        yes = len(list(session.scalars(select(Rsvp.id).where(Rsvp.cafe_id == cafe.id, Rsvp.answer == "yes"))))
        prev_yes, prev_att = found.get((month, cafe.community), (0, None))
        # Where no one recorded how many came, those who answered "How was it?" came.
        came = cafe.attended if cafe.attended is not None else (followup.answered_count(session, cafe.id) or None)
        attended = prev_att if came is None else (prev_att or 0) + came
        found[(month, cafe.community)] = (prev_yes + yes, attended)
    return [CafeFigure(m, c, y, a) for (m, c), (y, a) in found.items()]


def cafe_stats(session: Session, settings: Settings, since: datetime, now: datetime) -> list[StatsFigure]:
    """This package's figures: café yes-answers and attendance."""
    return [StatsFigure(f.month, f.community, {"rsvps_yes": f.rsvps_yes, "attended": f.attended})
            for f in cafe_figures(session, settings, since, now)]


def merge(figures: Iterable[StatsFigure]) -> list[StatsRow]:
    """One row per (month, community) present in any feature's figures, sorted by month then
    community; a count no feature recorded is None."""
    rows: dict[tuple[str, str], dict[str, int | None]] = {}
    for f in figures:
        rows.setdefault((f.month, f.community or ""), {}).update(f.counts)
    return [StatsRow(month=m, community=c, posts=v.get("posts"), posters=v.get("posters"), views=v.get("views"),
                     rsvps_yes=v.get("rsvps_yes"), attended=v.get("attended"))
            for (m, c), v in sorted(rows.items())]


def render_stats(rows: Sequence[StatsRow], tr: Say, months: int) -> str:
    if not rows:
        return tr("schedules.stats.empty", months=months)
    lines = [tr("schedules.stats.title", months=months)]
    lines += [tr("schedules.stats.row", n=i, month=r.month, community=r.community or tr("schedules.stats.no_community"),
                 posts=shown(r.posts),
                 posters=shown(r.posters), views=shown(r.views), rsvps=shown(r.rsvps_yes),
                 attended=shown(r.attended))
              for i, r in enumerate(rows, 1)]
    lines.append(tr("schedules.stats.note"))
    return "\n".join(lines)


def stats_text(session: Session, settings: Settings, now: datetime, months: int, tr: Say,
               sources: Iterable[StatsSource]) -> str:
    """The figures for the last ``months`` months from ``sources`` (every loaded feature's)."""
    since = months_back(now, months)
    figures = [figure for source in sources for figure in source(session, settings, since, now)]
    return render_stats(merge(figures), tr, months)
