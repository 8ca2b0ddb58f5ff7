"""Everything the toolbox holds about a person (for ``!export``), its erasure, and the
confirmation code that guards ``!forget-me``."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.db import utcnow
from bot.errors import Invalid
from bot.feature import Feature
from bot.models import ManagedRoom, Participant, UserPref
from toolbox import crisis_plan, goals, meds, network, sharing
from toolbox.models import PERSONAL_TABLES, Activity, DiaryEntry, ForgetRequest, MoodEntry, ShareView

CODE_LIFETIME = timedelta(minutes=10)
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def toolbox_export(session: Session, user_id: str) -> dict[str, Any]:
    """The person's toolbox as plain JSON-ready data."""
    plan = crisis_plan.items(session, user_id)
    plan_meta = crisis_plan.meta(session, user_id)
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
        },
        "medications": [
            {"name": m.name, "dose": m.dose, "times": m.times.split(",") if m.times else [], "reminders": m.remind}
            for m in meds.listed(session, user_id)
        ],
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


def collect(features: Iterable[Feature], session: Session, user_id: str) -> dict[str, Any]:
    """Every feature's export of the person, keyed by feature name."""
    data: dict[str, Any] = {}
    for feature in features:
        for exporter in feature.exporters:
            data.setdefault(feature.name, {}).update(exporter(session, user_id))
    return data


def request_code(session: Session, user_id: str, now: datetime | None = None) -> str:
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))
    row = session.get(ForgetRequest, user_id) or ForgetRequest(user_id=user_id)
    row.code, row.expires_at = code, (now or utcnow()) + CODE_LIFETIME
    session.add(row)
    session.flush()
    return code


def check_code(session: Session, user_id: str, code: str, now: datetime | None = None) -> None:
    """Raises Invalid unless ``code`` is the person's current, unexpired confirmation code."""
    row = session.get(ForgetRequest, user_id)
    if row is None or row.expires_at <= (now or utcnow()):
        raise Invalid("toolbox.forget.no_request")
    if not secrets.compare_digest(row.code, code.strip().upper()):
        raise Invalid("toolbox.forget.wrong_code")


def erase_everything(features: Iterable[Feature], session: Session, user_id: str) -> None:
    """Run every feature's eraser (this feature's among them)."""
    for feature in features:
        for eraser in feature.erasers:
            eraser(session, user_id)


def delete_person(session: Session, user_id: str) -> None:
    """The last step of forgetting: the person's enrolment, preferences and the rooms recorded
    as theirs (bot tables). A room that is no longer recorded is just a direct chat to the bot."""
    session.execute(delete(ManagedRoom).where(ManagedRoom.owner == user_id))
    session.execute(delete(Participant).where(Participant.user_id == user_id))
    session.execute(delete(UserPref).where(UserPref.user_id == user_id))
