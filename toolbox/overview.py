"""The recovery overview: where the person stands, as plain numbers (goals by life area, activities
done, the mood trend, the network by circle, the crisis plan's last review), and the monthly opt-in.
No formatting here: ``render.overview`` words it, ``charts.overview_chart`` draws it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import mean
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.db import utcnow
from bot.recurrence import local_to_utc
from bot.zones import with_own_zone, zone_or
from toolbox import crisis_plan, diary, goals, network
from toolbox.models import Activity, OverviewMonthly

# The look back of the activities and the mood trend.
DAYS = 91
# The mood trend compares the first and the last stretch of this many days.
TREND_DAYS = 30
# A change of the average mood smaller than this is "about the same".
TREND_STEP = 0.5
# The monthly overview comes on the 1st at this local hour.
MONTHLY_AT = time(9, 0)


@dataclass(frozen=True)
class AreaGoals:
    area: str | None  # a LIFE_AREAS id; None for goals without an area
    goals: int
    reached: int
    steps: int


@dataclass(frozen=True)
class Overview:
    """Plain values only (no rows): safe to hand to a worker thread that draws the picture."""

    areas: tuple[AreaGoals, ...]
    activities_done: int
    importance: float | None  # the average over the done activities that were rated
    enjoyment: float | None
    moods: tuple[tuple[datetime, int], ...]  # (when, score), oldest first, the last DAYS days
    network: tuple[tuple[str, int], ...]  # (circle, how many), every circle in CIRCLES order
    has_crisis_plan: bool
    crisis_reviewed: date | None
    until: datetime  # the moment it describes
    crisis_review_on: date | None = None  # the next review the person set (``!crisis review DATE``)

    @property
    def is_empty(self) -> bool:
        return not (self.areas or self.activities_done or self.moods or any(n for _, n in self.network)
                    or self.has_crisis_plan)

    @property
    def mood_average(self) -> float | None:
        return mean(s for _, s in self.moods) if self.moods else None

    def mood_trend(self) -> tuple[float, float] | None:
        """The average of the first and of the last ``TREND_DAYS`` days of the look back, when both
        have check-ins."""
        start = self.until - timedelta(days=DAYS)
        first = [s for at, s in self.moods if at < start + timedelta(days=TREND_DAYS)]
        last = [s for at, s in self.moods if at >= self.until - timedelta(days=TREND_DAYS)]
        return (mean(first), mean(last)) if first and last else None

    def weekly_moods(self) -> list[tuple[datetime, float]]:
        """The average score of each week with check-ins (at the middle of the week), for the chart."""
        start = self.until - timedelta(days=DAYS)
        weeks: dict[int, list[int]] = {}
        for at, score in self.moods:
            weeks.setdefault(max(0, (at - start) // timedelta(days=7)), []).append(score)
        return [(start + timedelta(days=7 * week + 3.5), mean(scores)) for week, scores in sorted(weeks.items())]


def build(session: Session, user_id: str, now: datetime | None = None) -> Overview:
    now = now or utcnow()
    since = now - timedelta(days=DAYS)
    by_area: dict[str | None, list[int]] = {}
    for goal in goals.listed(session, user_id):
        counts = by_area.setdefault(goal.area, [0, 0, 0])
        counts[0] += 1
        counts[1] += goal.done_at is not None
        counts[2] += len(goals.steps_of(session, goal))
    order = [*goals.LIFE_AREAS, None]
    areas = tuple(AreaGoals(area, *by_area[area]) for area in order if area in by_area)
    done = list(session.scalars(select(Activity).where(Activity.user_id == user_id, Activity.done_at.is_not(None),
                                                       Activity.done_at >= since, Activity.done_at <= now)))
    importance = [a.importance for a in done if a.importance is not None]
    enjoyment = [a.enjoyment for a in done if a.enjoyment is not None]
    moods = tuple((m.created_at, m.score) for m in diary.moods_since(session, user_id, since) if m.created_at <= now)
    contacts = network.listed(session, user_id)
    return Overview(
        areas=areas,
        activities_done=len(done),
        importance=mean(importance) if importance else None,
        enjoyment=mean(enjoyment) if enjoyment else None,
        moods=moods,
        network=tuple((circle, sum(c.circle == circle for c in contacts)) for circle in network.CIRCLES),
        has_crisis_plan=not crisis_plan.is_empty(session, user_id),
        crisis_reviewed=crisis_plan.last_reviewed(session, user_id),
        until=now,
        crisis_review_on=plan_meta.review_on if (plan_meta := crisis_plan.meta(session, user_id)) else None,
    )


# --- the monthly overview ----------------------------------------------------------------------

def set_monthly(session: Session, user_id: str, on: bool, zone: str, now: datetime | None = None) -> bool:
    """Turn the monthly overview on or off; True when that changed something."""
    row = session.get(OverviewMonthly, user_id)
    if on and row is None:
        session.add(OverviewMonthly(user_id=user_id, zone=zone, since=now or utcnow()))
        session.flush()
        return True
    if not on and row is not None:
        session.execute(delete(OverviewMonthly).where(OverviewMonthly.user_id == user_id))
        return True
    return False


def monthly(session: Session, user_id: str) -> OverviewMonthly | None:
    return session.get(OverviewMonthly, user_id)


def monthly_key(user_id: str, month: date) -> str:
    """The ledger key of one person's overview for one month (keys are logged: no user id)."""
    tag = hashlib.sha256(user_id.encode()).hexdigest()[:16]
    return f"toolbox.overview:{tag}:{month.strftime('%Y-%m')}"


def next_monthly(zone: ZoneInfo, after: datetime) -> datetime:
    """The first monthly overview time from ``after`` on."""
    first = after.astimezone(zone).date().replace(day=1)
    while (at := local_to_utc(first, MONTHLY_AT, zone)) < after:
        first = (first + timedelta(days=32)).replace(day=1)
    return at


def monthly_due(session: Session, start: datetime, end: datetime) -> list[tuple[OverviewMonthly, date, datetime]]:
    """(opt-in, month, moment) for every monthly overview due in [start, end): the 1st of the
    month at ``MONTHLY_AT`` in the person's zone, and not from before they opted in."""
    found = []
    # The zones come with the rows (one statement, however many opted in).
    for row, own in session.execute(with_own_zone(select(OverviewMonthly), OverviewMonthly.user_id)):
        zone = zone_or(own, row.zone)
        first = start.astimezone(zone).date().replace(day=1)
        while first <= end.astimezone(zone).date():
            at = local_to_utc(first, MONTHLY_AT, zone)
            if start <= at < end and at >= row.since:
                found.append((row, first, at))
            first = (first + timedelta(days=32)).replace(day=1)
    return found
