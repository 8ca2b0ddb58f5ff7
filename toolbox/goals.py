"""Goals by life area, each with small steps."""

from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.db import utcnow
from toolbox.limits import MAX_GOALS, MAX_STEPS_PER_GOAL, TEXT_MAX
from toolbox.models import Goal, GoalStep
from toolbox.numbering import check_length, ensure_room, pick

LIFE_AREAS: tuple[str, ...] = ("work", "housing", "network", "health", "leisure")
AREA_WORDS: dict[str, str] = {
    "work": "work", "arbeid": "work", "jobb": "work", "skole": "work", "school": "work",
    "housing": "housing", "home": "housing", "bolig": "housing", "hjem": "housing",
    "network": "network", "nettverk": "network",
    "health": "health", "helse": "health",
    "leisure": "leisure", "fritid": "leisure",
}


def split_area(text: str) -> tuple[str | None, str]:
    """``work: find a course`` -> ("work", "find a course"); no known area -> (None, text)."""
    head, sep, tail = text.partition(":")
    area = AREA_WORDS.get(head.strip().casefold()) if sep else None
    return (area, tail.strip()) if area else (None, text.strip())


def listed(session: Session, user_id: str) -> list[Goal]:
    return list(session.scalars(select(Goal).where(Goal.user_id == user_id).order_by(Goal.id)))


def count(session: Session, user_id: str) -> int:
    return session.scalar(select(func.count()).select_from(Goal).where(Goal.user_id == user_id)) or 0


def steps_of(session: Session, goal: Goal) -> list[GoalStep]:
    return list(session.scalars(select(GoalStep).where(GoalStep.goal_id == goal.id).order_by(GoalStep.id)))


def steps_by_goal(session: Session, rows: Sequence[Goal]) -> dict[int, list[GoalStep]]:
    """The steps of these goals, by goal, each goal's in order: one query for a whole listing
    rather than one per goal."""
    found: dict[int, list[GoalStep]] = {}
    if not rows:
        return found
    wanted = select(GoalStep).where(GoalStep.goal_id.in_([g.id for g in rows])).order_by(GoalStep.id)
    for step in session.scalars(wanted):
        found.setdefault(step.goal_id, []).append(step)
    return found


def add(session: Session, user_id: str, text: str, area: str | None = None) -> Goal:
    ensure_room(count(session, user_id), MAX_GOALS, "goal")
    goal = Goal(user_id=user_id, text=check_length(text, TEXT_MAX), area=area)
    session.add(goal)
    session.flush()
    return goal


def mark_done(session: Session, user_id: str, n: int, now: datetime | None = None) -> Goal:
    goal = pick(listed(session, user_id), n, "goal")
    goal.done_at = goal.done_at or now or utcnow()
    return goal


def edit(session: Session, user_id: str, n: int, text: str) -> Goal:
    goal = pick(listed(session, user_id), n, "goal")
    area, rest = split_area(text)
    goal.text = check_length(rest, TEXT_MAX)
    goal.area = area or goal.area
    return goal


def remove(session: Session, user_id: str, n: int) -> Goal:
    goal = pick(listed(session, user_id), n, "goal")
    session.execute(delete(GoalStep).where(GoalStep.goal_id == goal.id))
    session.delete(goal)
    session.flush()
    return goal


def add_step(session: Session, user_id: str, n: int, text: str) -> tuple[Goal, GoalStep]:
    goal = pick(listed(session, user_id), n, "goal")
    count = session.scalar(select(func.count()).select_from(GoalStep).where(GoalStep.goal_id == goal.id)) or 0
    ensure_room(count, MAX_STEPS_PER_GOAL, "step")
    step = GoalStep(goal_id=goal.id, user_id=user_id, text=check_length(text, TEXT_MAX))
    session.add(step)
    session.flush()
    return goal, step
