"""!export and !forget-me for the community's tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot.models import ManagedRoom, Participant, RoomKind
from rooms import standing
from rooms.consent import ACCEPTED
from rooms.models import (
    AutoReply,
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


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _own_reveals(session: Session, user_id: str) -> list[dict[str, Any]]:
    """Reveals they sent (any outcome), and reveals to them that they accepted. A reveal to them
    that is still pending, or that they declined, is not theirs to read."""
    q = (select(Reveal)
         .where(or_(Reveal.sender == user_id, and_(Reveal.receiver == user_id, Reveal.status == ACCEPTED)))
         .order_by(Reveal.created_at))
    return [{
        "direction": "sent" if r.sender == user_id else "received",
        "other": _pseudonym(session, r.receiver if r.sender == user_id else r.sender),
        "status": r.status, "message": r.message, "at": r.created_at.isoformat(), "decided_at": _when(r.decided_at),
    } for r in session.scalars(q)]


def export(session: Session, user_id: str) -> dict[str, Any]:
    moderation = session.scalars(select(ModerationEntry).where(ModerationEntry.target_user == user_id)
                                 .order_by(ModerationEntry.at))
    circles = session.execute(select(CircleMember, Circle).join(Circle, Circle.id == CircleMember.circle_id)
                              .where(CircleMember.user_id == user_id))
    mute = session.get(Mute, user_id)
    return {
        # Warnings, mutes, kicks and bans aimed at them (who acted is the staff's business).
        "moderation": [{"action": e.action, "reason": e.reason, "at": e.at.isoformat()} for e in moderation],
        "mute": {"since": mute.at.isoformat(), "until": _when(mute.until)} if mute else None,
        "reveals": _own_reveals(session, user_id),
        "contact_thread_opened": _opened(session, user_id),
        "circles": [{"name": c.name, "status": m.status, "invited_at": m.invited_at.isoformat(),
                     "decided_at": _when(m.decided_at)} for m, c in circles],
        # Their reports, without the message or person reported.
        "blocked": [_pseudonym(session, u) for u in standing.blocked_by(session, user_id)],
        "reports_made": [{"reason": r.reason, "at": r.at.isoformat()}
                         for r in session.scalars(select(Report).where(Report.reporter == user_id)
                                                  .order_by(Report.at))],
        "flags_on_own_messages": [
            {"kind": f.kind, "details": f.details, "event_id": f.event_id, "removed": f.redacted,
             "at": f.at.isoformat()}
            for f in session.scalars(select(Flag).where(Flag.author == user_id).order_by(Flag.at))],
        "hidden_messages": [
            {"event_id": h.event_id, "text": h.text, "hidden_at": h.hidden_at.isoformat(),
             "reviewed_at": _when(h.reviewed_at)}
            for h in session.scalars(select(HiddenMessage).where(HiddenMessage.author == user_id)
                                     .order_by(HiddenMessage.hidden_at))],
        "posts": [{"event_id": p.event_id, "room": p.room_kind, "thread_root": p.thread_root,
                   "at": p.posted_at.isoformat()}
                  for p in session.scalars(select(ForumPost).where(ForumPost.author == user_id)
                                           .order_by(ForumPost.posted_at))],
        "posts_read": session.scalar(select(func.count()).select_from(PostView).where(PostView.user_id == user_id)),
        "display_name_notices": [{"at": n.noticed_at.isoformat()} for n in
                                 session.scalars(select(NameMismatch).where(NameMismatch.user_id == user_id))],
    }


def _private_room_ids(session: Session, user_id: str) -> list[str]:
    """Their toolbox, provider, buddy and ride rooms (still recorded: the core's rows go last)."""
    return list(session.scalars(select(ManagedRoom.room_id).where(
        ManagedRoom.kind.in_([RoomKind.TOOLBOX.value, RoomKind.PROVIDER.value, RoomKind.BUDDY.value]),
        or_(ManagedRoom.owner == user_id,
            and_(ManagedRoom.kind == RoomKind.BUDDY.value, ManagedRoom.partner == user_id)))))


def _opened(session: Session, user_id: str) -> str | None:
    thread = session.get(ContactThread, user_id)
    return thread.opened_at.isoformat() if thread else None


def erase(session: Session, user_id: str) -> None:
    private = _private_room_ids(session, user_id)
    for model, room_column in ((AutoReply, AutoReply.room_id), (Flag, Flag.room_id), (Report, Report.room_id),
                               (HiddenMessage, HiddenMessage.room_id), (ForumPost, ForumPost.room_id)):
        session.execute(delete(model).where(room_column.in_(private)))
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
    standing.erase(session, user_id)
    session.flush()
