"""The crisis plan: Stanley-Brown sections plus the Norwegian kriseplan, with a review date."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import utcnow
from bot.errors import Invalid
from bot.speaker import Say
from toolbox.limits import MAX_CRISIS_ITEMS_PER_SECTION, TEXT_MAX
from toolbox.models import CrisisItem, CrisisPlanMeta
from toolbox.numbering import check_length, ensure_room, pick

SECTIONS: tuple[str, ...] = (
    "warning-signs", "coping", "distractions", "support", "professionals",
    "safe-environment", "reasons", "wishes", "do-not-contact",
)
SECTION_WORDS: dict[str, str] = {s: s for s in SECTIONS} | {
    "warning": "warning-signs", "signs": "warning-signs", "varselsignaler": "warning-signs",
    "varseltegn": "warning-signs", "mestring": "coping", "avledning": "distractions",
    "støtte": "support", "stotte": "support", "fagfolk": "professionals", "behandlere": "professionals",
    "trygge-omgivelser": "safe-environment", "trygghet": "safe-environment", "safety": "safe-environment",
    "grunner": "reasons", "grunner-til-å-leve": "reasons", "ønsker": "wishes", "onsker": "wishes",
    "ikke-kontakt": "do-not-contact", "ikke-kontakte": "do-not-contact",
}


def section_of(word: str) -> str:
    section = SECTION_WORDS.get(word.casefold())
    if section is None:
        raise Invalid("toolbox.crisis.no_section")
    return section


def split_section(first_word: str, text: str) -> tuple[str, str]:
    """The section and the item's text, where the section's name may be typed as several words:
    "warning signs I stop answering the phone" is the warning signs section with "I stop answering
    the phone" (the longest name that fits wins, and some text must be left)."""
    words = text.split(None, 2)
    for take in (2, 1):
        if len(words) > take:
            name = "-".join([first_word, *words[:take]]).casefold()
            if name in SECTION_WORDS:
                return SECTION_WORDS[name], text.split(None, take)[take]
    return section_of(first_word), text


def items(session: Session, user_id: str) -> dict[str, list[CrisisItem]]:
    """Every section (in plan order) with its lines in the order added."""
    plan: dict[str, list[CrisisItem]] = {s: [] for s in SECTIONS}
    q = select(CrisisItem).where(CrisisItem.user_id == user_id).order_by(CrisisItem.id)
    for item in session.scalars(q):
        plan.setdefault(item.section, []).append(item)
    return plan


def meta(session: Session, user_id: str) -> CrisisPlanMeta | None:
    return session.get(CrisisPlanMeta, user_id)


def _touch(session: Session, user_id: str) -> CrisisPlanMeta:
    row = session.get(CrisisPlanMeta, user_id)
    if row is None:
        row = CrisisPlanMeta(user_id=user_id)
        session.add(row)
    row.updated_at = utcnow()
    return row


def add(session: Session, user_id: str, section: str, text: str) -> CrisisItem:
    ensure_room(len(items(session, user_id)[section]), MAX_CRISIS_ITEMS_PER_SECTION, "crisis_item")
    item = CrisisItem(user_id=user_id, section=section, text=check_length(text, TEXT_MAX))
    session.add(item)
    _touch(session, user_id)
    session.flush()
    return item


def remove(session: Session, user_id: str, section: str, n: int) -> CrisisItem:
    item = pick(items(session, user_id)[section], n, "crisis_item")
    session.delete(item)
    _touch(session, user_id)
    session.flush()
    return item


def set_review(session: Session, user_id: str, on: date) -> CrisisPlanMeta:
    row = _touch(session, user_id)
    row.review_on = on
    session.flush()
    return row


def last_reviewed(session: Session, user_id: str) -> date | None:
    """The day the person last went over their crisis plan, or None if we cannot tell.

    Until a review is recorded on its own, the plan's last change counts (adding or removing a
    line, or setting a review date; the UTC date of ``CrisisPlanMeta.updated_at``): writing in the
    plan means it was looked at. None when the plan has never been written in.
    """
    row = meta(session, user_id)
    return row.updated_at.date() if row is not None else None


def is_empty(session: Session, user_id: str) -> bool:
    return not any(items(session, user_id).values())


def summary(session: Session, user_id: str, say: Say) -> str | None:
    """A short Markdown summary of the person's plan for the crisis response, or None if empty.

    Shows what helps first (coping, distractions, support, professionals, reasons), a few lines
    each, so it reads quickly in a hard moment.
    """
    from toolbox.render import crisis_summary

    plan = items(session, user_id)
    if not any(plan.values()):
        return None
    return crisis_summary(say, plan)


def crisis_reply_extra(session: Session, user_id: str, say: Say) -> str | None:
    """The toolbox's part of the crisis response: the person's own plan in short, under its
    heading, or None when they have none."""
    plan = summary(session, user_id, say)
    return say("toolbox.crisis.your_plan", plan=plan) if plan else None
