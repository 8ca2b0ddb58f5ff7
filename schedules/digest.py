"""The consultant's daily digest, composed from every feature's digest sections (the community's
people awaiting approval, unanswered posts, flags and name mismatches; this package's upcoming
cafés with RSVP counts), shown by position under one title."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Callable, Iterable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.contracts import DigestRequest, DigestSection, DigestSource
from bot.speaker import Say
from bot.zones import community_zone
from schedules import cafes, followup, rsvp
from schedules.models import Cafe, ReminderLedger
from schedules.stats import shown
from schedules.wording import cafe_line, when_text

CAFES_AT = 40  # after the community's flags, before its name mismatches
FOLLOWUP_AT = 41  # right after the upcoming cafés
FOLLOWUP_DAYS = 14  # how long a past café's "How was it?" counts stay in the digest


def render_cafes(tr: Say, upcoming: Sequence[tuple[Cafe, Counter[str]]],
                 zone_for: Callable[[str], ZoneInfo]) -> DigestSection:
    if not upcoming:
        return DigestSection(CAFES_AT, tr("schedules.digest.no_cafes"))
    return DigestSection(CAFES_AT, tr("schedules.digest.cafes") + "".join(
        "\n" + cafe_line(tr, cafe.number or i, cafe, zone_for(cafe.community), counts=counts)
        for i, (cafe, counts) in enumerate(upcoming, 1)))


def cafe_section(request: DigestRequest) -> list[DigestSection]:
    """This package's digest section: upcoming cafés with their RSVP counts."""
    upcoming = cafes.upcoming(request.session, request.now)
    counts = rsvp.counts(request.session, [c.id for c in upcoming])
    return [render_cafes(request.tr, [(c, counts[c.id]) for c in upcoming],
                         lambda community: community_zone(request.settings, community))]


def asked_count(session: Session, cafe_id: int) -> int:
    """How many were sent "How was it?" after this café (the ledger's sent follow-ups)."""
    q = select(func.count(ReminderLedger.id)).where(ReminderLedger.key.like(f"{followup.KEY_PREFIX}{cafe_id}:%"),
                                                    ReminderLedger.status.in_(("sent", "late")))
    return session.scalar(q) or 0


def followup_section(request: DigestRequest) -> list[DigestSection]:
    """This package's after-café section: for each café of the last ``FOLLOWUP_DAYS`` whose
    question went out, counts only (👍, 😐, 👎, answered), each under 3 shown as "fewer than 3"."""
    tr, session = request.tr, request.session
    q = (select(Cafe).where(Cafe.cancelled_at.is_(None), Cafe.starts_at <= request.now,
                            Cafe.starts_at >= request.now - timedelta(days=FOLLOWUP_DAYS)).order_by(Cafe.starts_at))
    small = tr("schedules.followup.fewer")
    lines = []
    for cafe in session.scalars(q):
        asked = asked_count(session, cafe.id)
        if not asked:
            continue
        counts = followup.tally(session, cafe.id)
        lines.append(tr("schedules.followup.digest_line", community=cafe.community, place=cafe.place,
                        when=when_text(tr, cafe.starts_at, community_zone(request.settings, cafe.community)),
                        asked=shown(asked, small), good=shown(counts["good"], small),
                        okay=shown(counts["okay"], small), bad=shown(counts["bad"], small),
                        answered=shown(counts["answered"], small)))
    if not lines:
        return []
    return [DigestSection(FOLLOWUP_AT, tr("schedules.followup.digest_title") + "".join("\n" + line for line in lines))]


def compose(tr: Say, sections: Iterable[DigestSection]) -> str:
    ordered = sorted(sections, key=lambda s: s.position)  # stable: same position keeps feature order
    return "\n\n".join([tr("schedules.digest.title"), *(s.text for s in ordered)])


def digest_text(session: Session, settings: Settings, now: datetime, tr: Say,
                sources: Iterable[DigestSource]) -> str:
    """The digest as of ``now``, from ``sources`` (every loaded feature's digest sources)."""
    request = DigestRequest(session=session, settings=settings, now=now, tr=tr)
    return compose(tr, [section for source in sources for section in source(request)])
