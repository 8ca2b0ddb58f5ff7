"""Everything the toolbox holds about a person (its exporter for ``!export``) and its erasure
(its eraser for ``!forget-me``); the core's personal-data service runs both."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from toolbox import checkin, crisis_plan, goals, meds, network, overview, sharing
from toolbox.models import PERSONAL_TABLES, Activity, DiaryEntry, MoodEntry, ShareView


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _monthly(session: Session, user_id: str) -> dict[str, Any]:
    """The monthly overview opt-in (the overview itself is made from the rest of the toolbox)."""
    row = overview.monthly(session, user_id)
    return {"on": row is not None, "zone": row.zone if row else None, "since": _when(row.since) if row else None}


def toolbox_export(session: Session, user_id: str) -> dict[str, Any]:
    """The person's toolbox as plain JSON-ready data."""
    plan = crisis_plan.items(session, user_id)
    plan_meta = crisis_plan.meta(session, user_id)
    review = crisis_plan.review_of(session, user_id)
    daily = checkin.setting(session, user_id)
    return {
        "goals": [
            {"text": g.text, "area": g.area, "done_at": _when(g.done_at), "created_at": _when(g.created_at),
             "steps": [s.text for s in goals.steps_of(session, g)]}
            for g in goals.listed(session, user_id)
        ],
        "activities": [
            {"text": a.text, "due_at": _when(a.due_at), "done_at": _when(a.done_at),
             "importance": a.importance, "enjoyment": a.enjoyment}
            for a in session.scalars(select(Activity).where(Activity.user_id == user_id).order_by(Activity.due_at))
        ],
        "moods": [
            {"score": m.score, "note": m.note, "at": _when(m.created_at)}
            for m in session.scalars(select(MoodEntry).where(MoodEntry.user_id == user_id)
                                     .order_by(MoodEntry.created_at))
        ],
        "diary": [
            {"text": d.text, "at": _when(d.created_at)}
            for d in session.scalars(select(DiaryEntry).where(DiaryEntry.user_id == user_id)
                                     .order_by(DiaryEntry.created_at))
        ],
        "network": [{"name": c.name, "circle": c.circle, "note": c.note} for c in network.listed(session, user_id)],
        "crisis_plan": {
            "sections": {section: [i.text for i in lines] for section, lines in plan.items()},
            "review_on": plan_meta.review_on.isoformat() if plan_meta and plan_meta.review_on else None,
            "reviewed_on": plan_meta.reviewed_on.isoformat() if plan_meta and plan_meta.reviewed_on else None,
            "review_in_progress": (
                {"section": crisis_plan.SECTIONS[review.step] if review.step < crisis_plan.DATE_STEP else None,
                 "started_at": _when(review.started_at), "last_asked_at": _when(review.asked_at)}
                if review is not None else None),
        },
        "medications": [
            {"name": m.name, "dose": m.dose, "times": m.times.split(",") if m.times else [], "reminders": m.remind}
            for m in meds.listed(session, user_id)
        ],
        "overview_monthly": _monthly(session, user_id),
        "checkin": {
            "time": daily.clock if daily else None, "zone": daily.zone if daily else None,
            "since": _when(daily.since) if daily else None,
            "answers": [{"day": a.day.isoformat(), "waiting_note": a.note, "answered_at": _when(a.answered_at)}
                        for a in checkin.answers(session, user_id)],
        },
        "shares": [{"item": s.item, "provider": s.provider_id, "since": _when(s.created_at)}
                   for s in sharing.shares(session, user_id)],
        "provider_views": [
            {"provider": v.provider_id, "item": v.item, "shown": v.shown, "at": _when(v.viewed_at)}
            for v in session.scalars(select(ShareView).where(ShareView.user_id == user_id)
                                     .order_by(ShareView.viewed_at))
        ],
    }


def erase_toolbox(session: Session, user_id: str) -> None:
    """Delete every toolbox row of the person (children before parents)."""
    for table in PERSONAL_TABLES:
        session.execute(delete(table).where(table.user_id == user_id))  # type: ignore[attr-defined]
