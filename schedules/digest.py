"""The consultant's daily digest: people awaiting approval, unanswered forum posts, privacy and
crisis flags (counts and links only), upcoming cafés with RSVP counts, display-name mismatches.

``render_digest`` is pure: it takes the lists (from ``rooms.api`` and this package) as arguments.
``gather`` collects them; ``rooms.api`` is looked up at run time so this package works without it.
"""

from __future__ import annotations

import importlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any, Callable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.models import EnrolmentStatus, Participant
from bot.zones import community_zone
from schedules import cafes, rsvp
from schedules.models import Cafe
from schedules.texts import Tr, cafe_line

log = logging.getLogger(__name__)

ROOMS_API = "rooms.api"


def rooms_api() -> ModuleType | None:
    """The rooms feature's small query API, if that feature is installed."""
    try:
        return importlib.import_module(ROOMS_API)
    except ModuleNotFoundError:
        return None


def link(room_id: str, event_id: str) -> str:
    return f"https://matrix.to/#/{room_id}/{event_id}"


@dataclass(frozen=True)
class Digest:
    pending: Sequence[str]  # pseudonyms (or ids) awaiting approval
    unanswered: Sequence[Any]  # rooms.api.PostRef: room_id, event_id, posted_at
    flags: Sequence[Any]  # rooms.api.FlagRef: kind, room_id, event_id, at
    cafes: Sequence[tuple[Cafe, Counter[str]]] = field(default_factory=list)
    mismatches: Sequence[Any] = field(default_factory=list)  # rooms.api.Mismatch: pseudonym, room_id


def render_digest(d: Digest, tr: Tr, zone_for: Callable[[str], ZoneInfo], hours: int) -> str:
    parts = [tr("schedules.digest.title")]
    if d.pending:
        parts.append(tr("schedules.digest.pending", count=len(d.pending))
                     + "".join(f"\n{i}. {name}" for i, name in enumerate(d.pending, 1)))
    else:
        parts.append(tr("schedules.digest.no_pending"))
    if d.unanswered:
        parts.append(tr("schedules.digest.unanswered", count=len(d.unanswered), hours=hours)
                     + "".join(f"\n{i}. {link(p.room_id, p.event_id)}" for i, p in enumerate(d.unanswered, 1)))
    else:
        parts.append(tr("schedules.digest.no_unanswered", hours=hours))
    by_kind = Counter(f.kind for f in d.flags)
    flags = tr("schedules.digest.flags", privacy=by_kind["privacy"], crisis=by_kind["crisis"])
    parts.append(flags + "".join(
        f"\n{i}. {tr(f'schedules.digest.flag_{f.kind}')}: {link(f.room_id, f.event_id)}"
        for i, f in enumerate(d.flags, 1)))
    if d.cafes:
        parts.append(tr("schedules.digest.cafes") + "".join(
            "\n" + cafe_line(tr, i, cafe, zone_for(cafe.community), counts=counts)
            for i, (cafe, counts) in enumerate(d.cafes, 1)))
    else:
        parts.append(tr("schedules.digest.no_cafes"))
    if d.mismatches:
        parts.append(tr("schedules.digest.mismatches", count=len(d.mismatches)) + "".join(
            f"\n{i}. {m.pseudonym} — https://matrix.to/#/{m.room_id}" for i, m in enumerate(d.mismatches, 1)))
    else:
        parts.append(tr("schedules.digest.no_mismatches"))
    return "\n\n".join(parts)


def pending_approvals(session: Session) -> list[str]:
    q = select(Participant).where(Participant.status == EnrolmentStatus.PENDING.value)
    return [p.pseudonym or p.user_id for p in session.scalars(q.order_by(Participant.created_at))]


def gather(session: Session, settings: Settings, now: datetime) -> Digest:
    """Everything the digest shows, as of ``now``."""
    api = rooms_api()
    unanswered: list[Any] = []
    flags: list[Any] = []
    mismatches: list[Any] = []
    if api is not None:
        unanswered = list(api.unanswered_posts(session, now - timedelta(hours=settings.schedules.unanswered_hours)))
        flags = list(api.recent_flags(session, now - timedelta(days=1)))
        mismatches = list(api.name_mismatches(session))
    else:
        log.info("digest without forum figures: %s is not available", ROOMS_API)
    upcoming = cafes.upcoming(session, now)
    counts = rsvp.counts(session, [c.id for c in upcoming])
    return Digest(pending=pending_approvals(session), unanswered=unanswered, flags=flags,
                  cafes=[(c, counts[c.id]) for c in upcoming], mismatches=mismatches)


def digest_text(session: Session, settings: Settings, now: datetime, tr: Tr) -> str:
    return render_digest(gather(session, settings, now), tr, lambda c: community_zone(settings, c),
                         settings.schedules.unanswered_hours)
