"""Exactly-once delivery through the reminder ledger.

For each due item the ledger row and the outbox row are written in one transaction, and the
outbox's Matrix transaction id is derived from the ledger key. So a crash before the commit
sends nothing and leaves the item due; a crash after the commit but before (or while) sending
makes the outbox resend with the same transaction id, which the homeserver de-duplicates.
A reminder's picture (uploaded before the transaction) is queued in the same transaction as its
text, with a transaction id derived from the same key; a crash in between leaves at most an
unused upload behind.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Collection, Iterable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.contracts import DigestSource, Picture, ReminderSource
from bot.markup import Markdown
from bot.models import SentEvent, UploadedMedia
from bot.outbox import enqueue, file_content, notice_content, reaction_content, reminder_txn
from bot.people import on_break
from bot.port import UploadedFile
from bot.speaker import Speaker
from schedules.models import ReminderLedger, SchedulerMark
from schedules.reminders import Due, collect

log = logging.getLogger(__name__)

# Sent later than this after its time (or due while the bot was down), a reminder says so.
LATE_AFTER = timedelta(seconds=60)
# How far back a sweep looks for what was due while the bot was down.
MAX_LOOKBACK = timedelta(days=30)
FIRST_LOOKBACK = timedelta(minutes=1)
SWEEP_MARK = "reminder_sweep"


class Status(str, enum.Enum):
    SENT = "sent"
    LATE = "late"  # sent, marked late
    SKIPPED = "skipped"  # beyond the grace period, or nowhere to send it
    PAUSED = "paused"  # the person was on a break


@dataclass(frozen=True)
class ReadyPicture:
    """A reminder's picture, rendered and uploaded (before the sweep's transaction)."""

    uploaded: UploadedFile
    filename: str
    alt_text: str
    width: int
    height: int
    size: int

    @classmethod
    def of(cls, picture: Picture, uploaded: UploadedFile) -> "ReadyPicture":
        return cls(uploaded, picture.filename, picture.alt_text, picture.width, picture.height, len(picture.data))


# The pictures made for this sweep, by reminder key: None when there was nothing to draw.
Pictures = Mapping[str, ReadyPicture | None]


def txn_for(key: str) -> str:
    """The Matrix transaction id of a reminder: stable, so a resend is de-duplicated."""
    return reminder_txn(key)


def decide(due: Due, now: datetime, *, grace: timedelta, online_since: datetime, paused: bool) -> Status:
    if now - due.due_at > grace or due.room_id is None:
        return Status.SKIPPED
    if paused:
        return Status.PAUSED
    if due.due_at < online_since or now - due.due_at > LATE_AFTER:
        return Status.LATE
    return Status.SENT


def already_handled(session: Session, key: str) -> bool:
    return session.scalar(select(ReminderLedger.id).where(ReminderLedger.key == key)) is not None


# Keys per ``IN`` list: far below SQLite's and PostgreSQL's limits on bound parameters.
_IN_CHUNK = 500


def handled_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """Of ``keys``, those the ledger has seen: one statement per ``_IN_CHUNK`` keys (a sweep looks
    back over the grace period, so it lists hundreds already handled), none for no keys."""
    wanted = sorted(set(keys))
    found: set[str] = set()
    for n in range(0, len(wanted), _IN_CHUNK):
        found.update(session.scalars(select(ReminderLedger.key).where(ReminderLedger.key.in_(wanted[n:n + _IN_CHUNK]))))
    return found


def deliver(session: Session, items: Iterable[Due], now: datetime, *, grace: timedelta,
            online_since: datetime, speaker: Speaker, pictures: Pictures | None = None) -> list[tuple[Due, Status]]:
    """Handle every item due by ``now`` that the ledger has not seen; returns what was done.
    An item with a picture waits for a sweep that has it ready in ``pictures`` (see
    ``pictures_wanted``). The caller commits (and then wakes the outbox)."""
    done: list[tuple[Due, Status]] = []
    items = list(items)
    handled = handled_keys(session, [due.key for due in items if due.due_at <= now])
    for due in items:
        if due.due_at > now or due.key in handled:
            continue
        paused = due.user_id is not None and on_break(session, due.user_id, now)
        status = decide(due, now, grace=grace, online_since=online_since, paused=paused)
        if status in (Status.SENT, Status.LATE) and due.picture is not None and due.key not in (pictures or {}):
            continue  # not made yet, or its upload failed: the next sweep tries again (within the grace)
        if status in (Status.SENT, Status.LATE):
            text = _render(session, due, status, speaker)
            built = due.event(session, text) if text is not None and due.event is not None else None
            if text is None or (due.event is not None and built is None):
                status = Status.SKIPPED
            elif built is not None:
                enqueue(session, due.room_id or "", built[1], event_type=built[0], txn_id=txn_for(due.key))
            else:
                enqueue(session, due.room_id or "", reminder_content(session, due, text, now), txn_id=txn_for(due.key))
                _enqueue_picture(session, due, (pictures or {}).get(due.key))
        session.add(ReminderLedger(key=due.key, status=status.value, due_at=due.due_at, handled_at=now,
                                   user_id=due.user_id))
        session.flush()
        handled.add(due.key)
        if status in (Status.SKIPPED, Status.PAUSED):
            log.info("reminder %s %s (due %s)", due.key, status.value, due.due_at.isoformat())
        done.append((due, status))
    return done


def _enqueue_picture(session: Session, due: Due, ready: ReadyPicture | None) -> None:
    """The picture after its text, under a transaction id of its own derived from the same key;
    noted as the person's file, for ``!forget-me`` to delete."""
    if ready is None or due.room_id is None:
        return
    if due.user_id:
        session.add(UploadedMedia(owner=due.user_id, url=ready.uploaded.url))
    content = file_content(ready.uploaded, filename=ready.filename, mimetype="image/png", size=ready.size,
                           alt_text=ready.alt_text, width=ready.width, height=ready.height)
    enqueue(session, due.room_id, content, txn_id=txn_for(due.key + ":picture"))


def seed_reactions(session: Session, items: Iterable[Due], now: datetime) -> bool:
    """Put each sent reminder's ``reactions`` under it, once (its own ledger key), as soon as the
    homeserver has given it an event id. Returns whether anything was queued."""
    queued = False
    wanted = [due for due in items if due.reactions and due.room_id is not None]
    # The sent events and the seeds' ledger rows of them all at once, not a look-up of each.
    txns = sorted({txn_for(due.key) for due in wanted})
    sent_of: dict[str, SentEvent] = {}
    for n in range(0, len(txns), _IN_CHUNK):
        sent_of.update((e.txn_id, e) for e in session.scalars(select(SentEvent).where(
            SentEvent.txn_id.in_(txns[n:n + _IN_CHUNK]))))
    seeded = handled_keys(session, [f"seed:{due.key}" for due in wanted if txn_for(due.key) in sent_of])
    for due in wanted:
        key = f"seed:{due.key}"
        sent = sent_of.get(txn_for(due.key))
        if sent is None or sent.room_id != due.room_id or key in seeded:
            continue
        for i, emoji in enumerate(due.reactions):
            enqueue(session, sent.room_id, reaction_content(sent.event_id, emoji), event_type="m.reaction",
                    txn_id=f"{txn_for(key)}-{i}")
        session.add(ReminderLedger(key=key, status=Status.SENT.value, due_at=due.due_at, handled_at=now,
                                   user_id=due.user_id))
        session.flush()
        seeded.add(key)
        queued = True
    return queued


def reminder_content(session: Session, due: Due, text: str, now: datetime) -> dict[str, Any]:
    """A personal reminder names its person; a room reminder the people ``due.mentions`` gives."""
    if due.mentions is not None:
        mentions: Collection[str] = due.mentions(session, now)
    else:
        mentions = (due.user_id,) if due.alert and due.user_id else ()
    return notice_content(text, alert=due.alert, mentions=mentions)


def _render(session: Session, due: Due, status: Status, speaker: Speaker) -> str | None:
    """The reminder's text, or None if it cannot be built (logged without content, so one bad
    item never blocks the others)."""
    say = speaker.say_to(session, due.user_id)
    try:
        text = due.render(session, say)
    except Exception as exc:  # noqa: BLE001 - a feature's broken reminder must not stop the sweep
        log.error("reminder %s could not be rendered (%s)", due.key, type(exc).__name__)
        return None
    # A Due's render gives the bot's own Markdown (its values already escaped by the catalogue).
    return say("schedules.late", text=Markdown(text)) if status is Status.LATE else text


def sweep_window_start(session: Session, now: datetime, grace: timedelta) -> datetime:
    """From the last sweep (so what fell due while the bot was down is found), at least the grace
    period back, at most ``MAX_LOOKBACK``. The very first sweep owes nothing from before it."""
    mark = session.get(SchedulerMark, SWEEP_MARK)
    if mark is None:
        return now - FIRST_LOOKBACK
    return max(min(mark.at, now - grace) - FIRST_LOOKBACK, now - MAX_LOOKBACK)


def _due_by(session: Session, settings: Settings, sources: Iterable[ReminderSource], now: datetime,
            digest_sources: Sequence[DigestSource], until: datetime | None = None) -> tuple[list[Due], timedelta]:
    """What is due from the sweep window's start up to ``now`` (and, given ``until`` after ``now``,
    up to ``until``, not included), and the grace."""
    grace = timedelta(hours=settings.schedules.grace_period_hours)
    start = sweep_window_start(session, now, grace)
    end = until if until is not None and until > now else now + timedelta(microseconds=1)
    return collect(session, settings, sources, start, end, digest_sources=digest_sources), grace


def pictures_wanted(session: Session, settings: Settings, sources: Iterable[ReminderSource], now: datetime, *,
                    online_since: datetime, speaker: Speaker,
                    digest_sources: Sequence[DigestSource]) -> list[tuple[str, Callable[[], Picture] | None]]:
    """The pictures the sweep at ``now`` will send: (reminder key, its renderer, or None when there
    is nothing to draw). The caller renders and uploads them outside any transaction, then sweeps
    with them at the same ``now``."""
    items, grace = _due_by(session, settings, sources, now, digest_sources)
    wanted: list[tuple[str, Callable[[], Picture] | None]] = []
    handled = handled_keys(session, [due.key for due in items if due.picture is not None and due.due_at <= now])
    for due in items:
        if due.picture is None or due.due_at > now or due.key in handled:
            continue
        paused = due.user_id is not None and on_break(session, due.user_id, now)
        if decide(due, now, grace=grace, online_since=online_since, paused=paused) not in (Status.SENT, Status.LATE):
            continue
        try:
            wanted.append((due.key, due.picture(session, speaker.say_to(session, due.user_id))))
        except Exception as exc:  # noqa: BLE001 - a broken picture must not stop the sweep, nor its text
            log.error("the picture of reminder %s could not be prepared (%s)", due.key, type(exc).__name__)
            wanted.append((due.key, None))
    return wanted


def sweep(session: Session, settings: Settings, sources: Iterable[ReminderSource], now: datetime, *,
          online_since: datetime, speaker: Speaker, digest_sources: Sequence[DigestSource],
          pictures: Pictures | None = None) -> list[tuple[Due, Status]]:
    """Deliver everything due up to ``now`` and remember when this ran."""
    return sweep_and_look_ahead(session, settings, sources, now, now, online_since=online_since, speaker=speaker,
                                digest_sources=digest_sources, pictures=pictures)[0]


def sweep_and_look_ahead(session: Session, settings: Settings, sources: Iterable[ReminderSource], now: datetime,
                         until: datetime, *, online_since: datetime, speaker: Speaker,
                         digest_sources: Sequence[DigestSource], pictures: Pictures | None = None,
                         ) -> tuple[list[tuple[Due, Status]], list[Due]]:
    """``sweep``, and what falls due after ``now`` up to ``until``, from the same look at the
    sources (the planner's horizon: the sources are asked once for the sweep window and the
    horizon together, not once for each). Returns (what was done, what is coming)."""
    items, grace = _due_by(session, settings, sources, now, digest_sources, until)
    coming = [due for due in items if due.due_at > now]
    items = [due for due in items if due.due_at <= now]
    done = deliver(session, items, now, grace=grace, online_since=online_since, speaker=speaker, pictures=pictures)
    seed_reactions(session, items, now)
    mark = session.get(SchedulerMark, SWEEP_MARK)
    if mark is None:
        session.add(SchedulerMark(name=SWEEP_MARK, at=now))
    else:
        mark.at = now
    return done, coming
