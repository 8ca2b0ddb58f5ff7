"""What this package holds about a person, for ``!export`` and ``!forget-me``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from schedules import followup, matching, rsvp
from schedules.models import Cafe, CompanionMatch, ReminderLedger, Rsvp


def export_person(session: Session, user_id: str) -> dict[str, Any]:
    answers = session.execute(select(Rsvp, Cafe).join(Cafe, Cafe.id == Rsvp.cafe_id)
                              .where(Rsvp.user_id == user_id).order_by(Cafe.starts_at))
    requests = matching.requests_of(session, user_id)
    matches = list(session.scalars(select(CompanionMatch).where(
        or_(CompanionMatch.first_user == user_id, CompanionMatch.second_user == user_id)).order_by(CompanionMatch.id)))
    cafe_ids = [r.cafe_id for r in requests] + [m.cafe_id for m in matches]
    starts = {c.id: c for c in session.scalars(select(Cafe).where(Cafe.id.in_(cafe_ids)))}
    return {
        "cafe_rsvps": [{"cafe_starts_at": c.starts_at.isoformat(), "community": c.community, "answer": r.answer,
                        "updated_at": r.updated_at.isoformat()} for r, c in answers],
        "cafe_companion_requests": [{"cafe_starts_at": starts[r.cafe_id].starts_at.isoformat(), "kind": r.kind,
                                     "seats": r.seats, "interests": matching.interests_of(r),
                                     "created_at": r.created_at.isoformat()} for r in requests],
        # Who they were matched with is the other person's to tell: only that there was a match.
        "cafe_companion_matches": [{"cafe_starts_at": starts[m.cafe_id].starts_at.isoformat(), "kind": m.kind,
                                    "created_at": m.created_at.isoformat()} for m in matches],
        "cafe_followup": "on" if followup.wants_followup(session, user_id) else "off",
        "cafe_followup_answers": [{"cafe_starts_at": c.starts_at.isoformat(), "community": c.community,
                                   "reaction": a.reaction, "reply": a.note, "answered_at": a.answered_at.isoformat()}
                                  for a, c in followup.answers_of(session, user_id)],
    }


def erase_person(session: Session, user_id: str) -> None:
    rsvp.erase_person(session, user_id)
    matching.erase_person(session, user_id)
    followup.erase_person(session, user_id)
    session.execute(delete(ReminderLedger).where(ReminderLedger.user_id == user_id))
