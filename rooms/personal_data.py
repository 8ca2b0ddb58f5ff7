"""!export and !forget-me for the community's tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot.models import Participant
from rooms.models import (
    Circle,
    CircleMember,
    ContactThread,
    DirectChat,
    Flag,
    ForumPost,
    HiddenMessage,
    ModerationEntry,
    Mute,
    NameMismatch,
    PostView,
    Report,
    Reveal,
)

ERASED = "erased"


def _pseudonym(session: Session, user_id: str) -> str | None:
    p = session.get(Participant, user_id)
    return p.pseudonym if p else None


def export(session: Session, user_id: str) -> dict[str, Any]:
    moderation = session.scalars(select(ModerationEntry).where(ModerationEntry.target_user == user_id)
                                 .order_by(ModerationEntry.at))
    reveals = session.scalars(select(Reveal).where(or_(Reveal.sender == user_id, Reveal.receiver == user_id))
                              .order_by(Reveal.created_at))
    circles = session.execute(select(CircleMember, Circle).join(Circle, Circle.id == CircleMember.circle_id)
                              .where(CircleMember.user_id == user_id))
    return {
        "moderation": [{"action": e.action, "reason": e.reason, "at": e.at.isoformat()} for e in moderation],
        "reveals": [{
            "direction": "sent" if r.sender == user_id else "received",
            "other": _pseudonym(session, r.receiver if r.sender == user_id else r.sender),
            "status": r.status, "message": r.message, "at": r.created_at.isoformat(),
        } for r in reveals],
        "circles": [{"name": c.name, "status": m.status, "invited_at": m.invited_at.isoformat()}
                    for m, c in circles],
        "contact_thread_opened": _opened(session, user_id),
        "reports_made": session.scalar(select(func.count()).select_from(Report).where(Report.reporter == user_id)),
    }


def _opened(session: Session, user_id: str) -> str | None:
    thread = session.get(ContactThread, user_id)
    return thread.opened_at.isoformat() if thread else None


def erase(session: Session, user_id: str) -> None:
    session.execute(update(ModerationEntry).where(ModerationEntry.target_user == user_id)
                    .values(target_user=None, target_pseudonym=None, reason=None))
    session.execute(update(ForumPost).where(ForumPost.author == user_id).values(author=None))
    session.execute(update(Circle).where(Circle.created_by == user_id).values(created_by=ERASED))
    for model, column in ((Reveal, Reveal.sender), (Reveal, Reveal.receiver), (CircleMember, CircleMember.user_id),
                          (Report, Report.reporter), (Flag, Flag.author), (NameMismatch, NameMismatch.user_id),
                          (PostView, PostView.user_id), (HiddenMessage, HiddenMessage.author),
                          (Mute, Mute.user_id), (ContactThread, ContactThread.user_id),
                          (DirectChat, DirectChat.user_id)):
        session.execute(delete(model).where(column == user_id))
    session.flush()
