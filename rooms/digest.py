"""The community's part of the consultant digest (people awaiting approval, unanswered forum
posts, privacy and crisis flags as counts and links, display-name mismatches) and of the research
figures (forum posts, posters, views). Schedules composes both from every feature's sections."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.contracts import DigestRequest, DigestSection, StatsFigure
from bot.models import EnrolmentStatus, Participant
from bot.speaker import Say
from rooms.api import FlagRef, Mismatch, PostRef, forum_figures, name_mismatches, recent_flags, unanswered_posts
from rooms.targets import event_link

# Where each section stands in the digest (the cafés, from schedules, stand at 40).
PENDING_AT, UNANSWERED_AT, FLAGS_AT, MISMATCHES_AT = 10, 20, 30, 50


def pending_approvals(session: Session) -> list[str]:
    q = select(Participant).where(Participant.status == EnrolmentStatus.PENDING.value)
    return [p.pseudonym or p.user_id for p in session.scalars(q.order_by(Participant.created_at))]


def render_sections(tr: Say, hours: int, pending: Sequence[str], unanswered: Sequence[PostRef],
                    flags: Sequence[FlagRef], mismatches: Sequence[Mismatch]) -> list[DigestSection]:
    if pending:
        waiting = tr("rooms.digest.pending", count=len(pending)) + "".join(
            f"\n{i}. {name}" for i, name in enumerate(pending, 1))
    else:
        waiting = tr("rooms.digest.no_pending")
    if unanswered:
        posts = tr("rooms.digest.unanswered", count=len(unanswered), hours=hours) + "".join(
            f"\n{i}. {event_link(p.room_id, p.event_id)}" for i, p in enumerate(unanswered, 1))
    else:
        posts = tr("rooms.digest.no_unanswered", hours=hours)
    by_kind = Counter(f.kind for f in flags)
    flagged = tr("rooms.digest.flags", privacy=by_kind["privacy"], crisis=by_kind["crisis"]) + "".join(
        f"\n{i}. {tr(_flag_key(f))}: {event_link(f.room_id, f.event_id)}"
        for i, f in enumerate(flags, 1))
    if mismatches:
        names = tr("rooms.digest.mismatches", count=len(mismatches)) + "".join(
            f"\n{i}. {m.pseudonym} — https://matrix.to/#/{m.room_id}" for i, m in enumerate(mismatches, 1))
    else:
        names = tr("rooms.digest.no_mismatches")
    return [DigestSection(PENDING_AT, waiting), DigestSection(UNANSWERED_AT, posts),
            DigestSection(FLAGS_AT, flagged), DigestSection(MISMATCHES_AT, names)]


def _flag_key(flag: FlagRef) -> str:
    return f"rooms.digest.flag_{flag.kind}" + ("_late" if flag.late else "")


def digest_sections(request: DigestRequest) -> list[DigestSection]:
    """The community's digest sections, as of ``request.now``."""
    s, now = request.session, request.now
    hours = request.settings.schedules.unanswered_hours
    return render_sections(request.tr, hours, pending_approvals(s), unanswered_posts(s, now - timedelta(hours=hours)),
                           recent_flags(s, now - timedelta(days=1)), name_mismatches(s))


def stats_figures(session: Session, settings: Settings, since: datetime, now: datetime) -> list[StatsFigure]:
    """Forum posts, distinct posters and views by month and the poster's community."""
    return [StatsFigure(f.month, f.community, {"posts": f.posts, "posters": f.posters, "views": f.views})
            for f in forum_figures(session, since)]
