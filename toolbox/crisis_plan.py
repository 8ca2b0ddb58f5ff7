"""The crisis plan: Stanley-Brown sections plus the Norwegian kriseplan, with a review date."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.db import utcnow
from bot.errors import Invalid
from bot.models import SentEvent
from bot.speaker import Say
from toolbox.limits import MAX_CRISIS_ITEMS_PER_SECTION, TEXT_MAX
from toolbox.models import CrisisItem, CrisisPlanMeta, CrisisReview
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
    """The day the person last went through their plan with the review conversation, or None."""
    row = session.get(CrisisPlanMeta, user_id)
    return row.reviewed_on if row is not None else None


def mark_reviewed(session: Session, user_id: str, on: date) -> CrisisPlanMeta:
    row = _touch(session, user_id)
    row.reviewed_on = on
    session.flush()
    return row


def replace_section(session: Session, user_id: str, section: str, texts: list[str]) -> None:
    """The section's lines become ``texts`` (checked first: nothing changes when one is too long
    or there are too many)."""
    ensure_room(len(texts) - 1, MAX_CRISIS_ITEMS_PER_SECTION, "crisis_item")
    checked = [check_length(t, TEXT_MAX) for t in texts]
    for item in items(session, user_id)[section]:
        session.delete(item)
    session.add_all(CrisisItem(user_id=user_id, section=section, text=t) for t in checked)
    _touch(session, user_id)
    session.flush()


# --- the review conversation ---------------------------------------------------------------------
# ``!crisis review`` without a date walks the plan a section at a time; the person's plain answers
# in their toolbox room move it on. The place is a row, so it survives a restart; an answer after
# REVIEW_TIMEOUT is not taken as an answer any more.
REVIEW_TIMEOUT = timedelta(hours=2)
DATE_STEP = len(SECTIONS)  # after the sections: when to look again
KEEP_WORDS = frozenset({"keep", "yes", "y", "ok", "okay", "fine", "ja", "j", "behold", "beholde", "greit", "fint"})
SKIP_WORDS = frozenset({"skip", "next", "hopp", "hopp over", "neste"})
CHANGE_WORDS = frozenset({"no", "n", "change", "nei", "endre"})  # asks for the new text
STOP_WORDS = frozenset({"stop", "cancel", "quit", "end", "stopp", "avbryt", "slutt", "ferdig"})
CLEAR_WORDS = frozenset({"clear", "empty", "tøm"})
# Several lines for one section: one per line, or separated by ";".
LINE_SEPARATORS = ("\n", ";")


def review_of(session: Session, user_id: str) -> CrisisReview | None:
    return session.get(CrisisReview, user_id)


def start_review(session: Session, user_id: str, now: datetime | None = None) -> CrisisReview:
    """Begin (or begin again) at the first section."""
    now = now or utcnow()
    row = session.get(CrisisReview, user_id)
    if row is None:
        row = CrisisReview(user_id=user_id)
        session.add(row)
    row.step, row.started_at, row.asked_at, row.question_txn = 0, now, now, None
    session.flush()
    return row


def review_expired(row: CrisisReview, now: datetime | None = None) -> bool:
    return (now or utcnow()) - row.asked_at > REVIEW_TIMEOUT


def advance_review(session: Session, row: CrisisReview, now: datetime | None = None) -> int:
    """On to the next question; returns its step."""
    row.step += 1
    row.asked_at = now or utcnow()
    session.flush()
    return row.step


def is_answer_to_question(session: Session, row: CrisisReview, reply_to: str | None) -> bool:
    """A plain message answers the review; a Matrix reply only when it replies to the last question."""
    if reply_to is None:
        return True
    sent = session.get(SentEvent, row.question_txn) if row.question_txn else None
    return sent is not None and sent.event_id == reply_to


def end_review(session: Session, user_id: str) -> None:
    session.execute(delete(CrisisReview).where(CrisisReview.user_id == user_id))


def answer_kind(text: str) -> str:
    """``keep``, ``skip``, ``change``, ``stop``, ``clear``, or ``text`` (new lines for the section)."""
    word = " ".join(text.split()).casefold().strip(".!")
    kinds = (("keep", KEEP_WORDS), ("skip", SKIP_WORDS), ("change", CHANGE_WORDS), ("stop", STOP_WORDS),
             ("clear", CLEAR_WORDS))
    for kind, words in kinds:
        if word in words:
            return kind
    return "text"


def answer_lines(text: str) -> list[str]:
    lines = [text]
    for sep in LINE_SEPARATORS:
        lines = [part for line in lines for part in line.split(sep)]
    return [" ".join(line.split()) for line in lines if line.strip()]


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
