"""The daily check-in (opt-in): at the person's chosen local time one private prompt asks for
today's mood; a reply with a number (and words), a tap on the 1–10 reaction row, or words alone
answer it. Streaks are counted kindly: the days in a row up to today, never the gaps."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Collection
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import Invalid
from bot.models import SentEvent
from bot.outbox import reminder_txn
from bot.recurrence import local_to_utc
from bot.timephrase import read_clock
from toolbox import diary
from toolbox.limits import TEXT_MAX
from toolbox.models import CheckinAnswer, CheckinSetting, MoodEntry
from toolbox.numbering import check_length

# The reaction row under a prompt: 1️⃣ … 9️⃣ and 🔟.
KEYCAPS: tuple[str, ...] = tuple(f"{n}\ufe0f\u20e3" for n in range(1, 10)) + ("\U0001f51f",)
_SCORE_OF_KEY = {key.replace("\ufe0f", ""): n for n, key in enumerate(KEYCAPS, start=1)}
# A prompt may be answered on its own day and the day after (a late-evening prompt, answered after midnight).
ANSWERABLE_DAYS = 2
MAX_STREAK = 400
# "7", "7/10", "7 slept well", "7, slept well" (a number alone at the start, then the words).
_SCORED = re.compile(r"\s*(\d{1,3})(?:\s*/\s*10)?(?:(?:\s*[,.:;!–-]\s*|\s+)(.*))?", re.DOTALL)


def person_tag(user_id: str) -> str:
    """A short stable tag for a person in reminder keys (keys are logged; ids need not be)."""
    return hashlib.sha256(user_id.encode()).hexdigest()[:16]


def prompt_key(user_id: str, day: date) -> str:
    """The ledger key of one day's prompt."""
    return f"toolbox.checkin:{person_tag(user_id)}:{day.isoformat()}"


def score_of_reaction(key: str) -> int | None:
    return _SCORE_OF_KEY.get(key.replace("\ufe0f", "").replace("\ufe0e", ""))


@dataclass(frozen=True)
class Reply:
    score: int | None
    note: str | None


def read_reply(body: str) -> Reply:
    """A reply to the prompt: a leading number 1–10 is the mood, the rest (or all of it) the note.
    A bare number outside 1–10 is refused (``Invalid``)."""
    text = body.strip()
    found = _SCORED.fullmatch(text)
    if found is not None:
        number, rest = int(found.group(1)), (found.group(2) or "").strip()
        if 1 <= number <= 10:
            return Reply(number, rest or None)
        if not rest:
            raise Invalid("toolbox.checkin.range")
    return Reply(None, text or None)


def setting(session: Session, user_id: str) -> CheckinSetting | None:
    return session.get(CheckinSetting, user_id)


def parse_clock(text: str) -> time:
    clock = read_clock(text)
    if clock is None:
        raise Invalid("toolbox.checkin.usage")
    return clock.replace(second=0, microsecond=0)


def turn_on(session: Session, user_id: str, clock: time, zone: str, now: datetime) -> CheckinSetting:
    row = setting(session, user_id)
    if row is None:
        row = CheckinSetting(user_id=user_id)
        session.add(row)
    row.clock, row.zone, row.since = clock.strftime("%H:%M"), zone, now
    session.flush()
    return row


def turn_off(session: Session, user_id: str) -> bool:
    """False when it was not on."""
    row = setting(session, user_id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def clock_of(row: CheckinSetting) -> time:
    return time.fromisoformat(row.clock)


def next_prompt(session: Session, row: CheckinSetting, zone: ZoneInfo, now: datetime) -> datetime:
    """When the next question comes: today at the chosen time if that is still ahead and no mood
    was logged today (then there is nothing to ask), else tomorrow."""
    today = now.astimezone(zone).date()
    return next(at for day in (today, today + timedelta(days=1))
                if (at := local_to_utc(day, clock_of(row), zone)) > now
                and (day != today or not mood_logged_on(session, row.user_id, day, zone)))


def _day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return local_to_utc(day, time(0), zone), local_to_utc(day + timedelta(days=1), time(0), zone)


def mood_logged_on(session: Session, user_id: str, day: date, zone: ZoneInfo) -> bool:
    start, end = _day_bounds(day, zone)
    q = select(MoodEntry.id).where(MoodEntry.user_id == user_id, MoodEntry.created_at >= start,
                                   MoodEntry.created_at < end).limit(1)
    return session.scalar(q) is not None


# User ids per ``IN`` list: far below SQLite's and PostgreSQL's limits on bound parameters.
_IN_CHUNK = 500


def moods_logged(session: Session, asks: Collection[tuple[str, date, ZoneInfo]]) -> set[tuple[str, date]]:
    """Of (person, day, their zone), those whose mood was logged that day (as ``mood_logged_on``):
    one statement per ``_IN_CHUNK`` people asked about, none when no one is."""
    bounds = {(user_id, day): _day_bounds(day, zone) for user_id, day, zone in asks}
    if not bounds:
        return set()
    people = sorted({user_id for user_id, _ in bounds})
    lo, hi = min(b[0] for b in bounds.values()), max(b[1] for b in bounds.values())
    logged: dict[str, list[datetime]] = {}
    for n in range(0, len(people), _IN_CHUNK):
        q = select(MoodEntry.user_id, MoodEntry.created_at).where(
            MoodEntry.user_id.in_(people[n:n + _IN_CHUNK]), MoodEntry.created_at >= lo, MoodEntry.created_at < hi)
        for user_id, at in session.execute(q):
            logged.setdefault(user_id, []).append(at)
    return {(user_id, day) for (user_id, day), (start, end) in bounds.items()
            if any(start <= at < end for at in logged.get(user_id, ()))}


def streak(session: Session, user_id: str, zone: ZoneInfo, today: date) -> int:
    """How many days in a row, up to and including ``today``, have a mood logged."""
    since, _ = _day_bounds(today - timedelta(days=MAX_STREAK), zone)
    q = select(MoodEntry.created_at).where(MoodEntry.user_id == user_id, MoodEntry.created_at >= since)
    days = {at.astimezone(zone).date() for at in session.scalars(q)}
    count, day = 0, today
    while day in days:
        count, day = count + 1, day - timedelta(days=1)
    return count


def prompt_day(session: Session, user_id: str, event_id: str, room_id: str, zone: ZoneInfo,
               now: datetime) -> date | None:
    """The day whose check-in prompt ``event_id`` is (sent to ``user_id`` in ``room_id``), if it is
    one still open for answers."""
    today = now.astimezone(zone).date()
    for back in range(ANSWERABLE_DAYS):
        day = today - timedelta(days=back)
        sent = session.get(SentEvent, reminder_txn(prompt_key(user_id, day)))
        if sent is not None and sent.event_id == event_id and sent.room_id == room_id:
            return day
    return None


@dataclass(frozen=True)
class Answered:
    mood: MoodEntry | None  # None: words kept, waiting for a number
    changed: bool  # an earlier answer to the same prompt was changed


def _joined(first: str | None, second: str | None) -> str | None:
    text = "\n".join(part for part in (first, second) if part)
    return check_length(text, TEXT_MAX) if text else None


def answer(session: Session, user_id: str, day: date, reply: Reply, now: datetime) -> Answered:
    """Record an answer to ``day``'s prompt. A number logs the mood (a second number changes it);
    words go with the mood as its note, or wait for the number. Checked before anything changes,
    so a refusal (``Invalid``: too long) leaves everything as it was."""
    row = session.scalar(select(CheckinAnswer).where(CheckinAnswer.user_id == user_id, CheckinAnswer.day == day))
    mood = session.get(MoodEntry, row.mood_id) if row is not None and row.mood_id is not None else None
    earlier = mood.note if mood is not None else (row.note if row is not None else None)
    note = _joined(earlier, reply.note) if reply.note else earlier
    if row is None:
        row = CheckinAnswer(user_id=user_id, day=day, answered_at=now)
        session.add(row)
    row.answered_at = now
    changed = mood is not None and reply.score is not None
    if mood is not None:
        if reply.score is not None:
            mood.score = reply.score
        mood.note = note
    elif reply.score is not None:
        mood = diary.add_mood(session, user_id, reply.score, note, now=now)
        row.mood_id, row.note = mood.id, None
    else:
        row.note = note
    session.flush()
    return Answered(mood, changed)


def answers(session: Session, user_id: str) -> list[CheckinAnswer]:
    return list(session.scalars(select(CheckinAnswer).where(CheckinAnswer.user_id == user_id)
                                .order_by(CheckinAnswer.day)))
