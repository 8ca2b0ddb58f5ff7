"""Moderation: the log, mutes, reports and hidden messages, the strike ladder. No Matrix here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db import utcnow
from bot.errors import Invalid
from bot.models import Participant
from bot.weekhours import parse_hours
from rooms.models import HiddenMessage, ModerationEntry, Mute, Report

# The strike ladder offered (never imposed) after a hidden message: warning, 2-week mute, ban.
LADDER = ("warn", "mute", "ban")
STRIKES = ("warn", "mute", "ban", "hide")


def log(session: Session, actor: str, action: str, target: Participant | None = None,
        reason: str | None = None, *, at: datetime | None = None) -> ModerationEntry:
    entry = ModerationEntry(actor=actor, action=action, reason=reason or None, at=at or utcnow(),
                            target_user=target.user_id if target else None,
                            target_pseudonym=target.pseudonym if target else None)
    session.add(entry)
    session.flush()
    return entry


def recent(session: Session, n: int) -> list[ModerationEntry]:
    q = select(ModerationEntry).order_by(ModerationEntry.at.desc(), ModerationEntry.id.desc()).limit(n)
    return list(session.scalars(q))


def next_strike(session: Session, user_id: str) -> str:
    """The next step on the ladder, from the warnings, mutes and bans already given."""
    done = session.scalar(select(func.count()).select_from(ModerationEntry).where(
        ModerationEntry.target_user == user_id, ModerationEntry.action.in_(LADDER))) or 0
    return LADDER[min(done, len(LADDER) - 1)]


def mute(session: Session, user_id: str, until: datetime | None, by: str) -> Mute:
    row = session.get(Mute, user_id)
    if row is None:
        row = Mute(user_id=user_id, by=by)
        session.add(row)
    row.until, row.by, row.at = until, by, utcnow()
    session.flush()
    return row


def unmute(session: Session, user_id: str) -> None:
    row = session.get(Mute, user_id)
    if row is None:
        raise Invalid("rooms.mod.not_muted")
    session.delete(row)
    session.flush()


def is_muted(session: Session, user_id: str) -> bool:
    return session.get(Mute, user_id) is not None


def mutes_ended(session: Session, now: datetime) -> list[Mute]:
    return list(session.scalars(select(Mute).where(Mute.until.is_not(None), Mute.until <= now)))


def has_reported(session: Session, event_id: str, reporter: str) -> bool:
    q = select(Report.id).where(Report.event_id == event_id, Report.reporter == reporter).limit(1)
    return session.scalar(q) is not None


def reporters(session: Session, event_id: str) -> int:
    """How many different people have reported the message."""
    return session.scalar(select(func.count(func.distinct(Report.reporter))).where(
        Report.event_id == event_id)) or 0


def report(session: Session, room_id: str, event_id: str, reporter: str, reason: str | None) -> int:
    """Record a report; returns how many different people have reported the message."""
    if has_reported(session, event_id, reporter):
        raise Invalid("rooms.report.already")
    session.add(Report(room_id=room_id, event_id=event_id, reporter=reporter, reason=reason or None))
    session.flush()
    return reporters(session, event_id)


def staffed(settings: Settings, at: datetime) -> bool:
    hours = parse_hours(settings.moderation.staffed_hours)
    return hours.is_open(at, settings.moderation.staffed_timezone)


def should_hide(session: Session, settings: Settings, event_id: str, reporters: int, at: datetime) -> bool:
    return (reporters >= settings.moderation.auto_hide_reports
            and not staffed(settings, at)
            and session.get(HiddenMessage, event_id) is None)


def hide(session: Session, room_id: str, event_id: str, author: str | None, text: str | None) -> HiddenMessage:
    row = HiddenMessage(room_id=room_id, event_id=event_id, author=author, text=text)
    session.add(row)
    session.flush()
    return row


def awaiting_review(session: Session) -> list[HiddenMessage]:
    q = select(HiddenMessage).where(HiddenMessage.reviewed_at.is_(None)).order_by(HiddenMessage.hidden_at)
    return list(session.scalars(q))


def waiting(session: Session, n: int) -> HiddenMessage:
    """Hidden message number ``n`` of those awaiting review."""
    rows = awaiting_review(session)
    if not 1 <= n <= len(rows):
        raise Invalid("rooms.hidden.no_such", n=n, count=len(rows))
    return rows[n - 1]


def review(session: Session, n: int, by: str) -> HiddenMessage:
    """Decide on hidden message ``n`` (restored or removed for good): it leaves the review list."""
    row = waiting(session, n)
    row.reviewed_by, row.reviewed_at = by, utcnow()
    return row
