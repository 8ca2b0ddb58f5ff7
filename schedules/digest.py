"""The consultant's daily digest, composed from every feature's digest sections (the community's
people awaiting approval, unanswered posts, flags and name mismatches; this package's upcoming
cafés with RSVP counts), shown by position under one title."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Callable, Iterable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.contracts import DigestRequest, DigestSection, DigestSource
from bot.speaker import Say
from bot.zones import community_zone
from schedules import cafes, rsvp
from schedules.models import Cafe
from schedules.wording import cafe_line

CAFES_AT = 40  # after the community's flags, before its name mismatches


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


def compose(tr: Say, sections: Iterable[DigestSection]) -> str:
    ordered = sorted(sections, key=lambda s: s.position)  # stable: same position keeps feature order
    return "\n\n".join([tr("schedules.digest.title"), *(s.text for s in ordered)])


def digest_text(session: Session, settings: Settings, now: datetime, tr: Say,
                sources: Iterable[DigestSource]) -> str:
    """The digest as of ``now``, from ``sources`` (every loaded feature's digest sources)."""
    request = DigestRequest(session=session, settings=settings, now=now, tr=tr)
    return compose(tr, [section for source in sources for section in source(request)])
