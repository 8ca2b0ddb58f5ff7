"""What features offer each other, declared here so that no feature imports another.

A feature contributes to a contract through its ``Feature`` object (``bot/feature.py``); whoever
uses a contract reads every loaded feature's contributions. A feature that cannot do its work
without a service another feature provides says so in ``Feature.requires``; start-up fails with
one line when no loaded feature ``provides`` it (``check_requirements``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Generic, Iterable, Mapping, TypeVar

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.matrix import StartupError
from bot.port import MatrixPort
from bot.speaker import Say

if TYPE_CHECKING:
    from bot.feature import Feature

# --- services a feature may require -------------------------------------------------------------

# ``!export`` and ``!forget-me``: gathers every feature's exporters and runs every eraser (the core).
PERSONAL_DATA = "personal-data"
# Sends what ``reminder_sources`` say is due to each person's toolbox room (schedules).
REMINDER_DELIVERY = "reminder-delivery"
# Whether a participant may reach peers (bans, mutes and blocks; rooms). Required by any feature
# that puts one participant in touch with another (schedules' café buddies and rides).
PEER_STANDING = "peer-standing"


class MissingService(StartupError):
    """A loaded feature requires a service no loaded feature provides."""


def check_requirements(features: Iterable["Feature"]) -> None:
    """Raise ``MissingService`` (one line) for the first requirement nobody provides."""
    loaded = list(features)
    provided = {service for f in loaded for service in f.provides}
    for f in loaded:
        for service in f.requires:
            if service not in provided:
                raise MissingService(f"the {f.name!r} feature requires the {service!r} service, "
                                     "which no loaded feature provides (see bot/features.py)")


# --- personal reminders ------------------------------------------------------------------------

@dataclass(frozen=True)
class DueReminder:
    """A personal reminder a feature wants sent to someone's toolbox room at ``due_at``.

    ``key`` is unique per reminder *and* occurrence (e.g. ``activity:42:2026-12-01T09:00Z``);
    the scheduler's ledger sends each key exactly once. ``params`` may hold the person's own
    text: it only ever goes to their private toolbox room. ``reactions``: keys the bot puts under
    the sent reminder (once), so answering it is a tap; the feature finds the sent event through
    ``bot.outbox.reminder_txn(key)`` and ``bot.models.SentEvent``.
    """

    key: str
    user_id: str
    due_at: datetime  # UTC, tz-aware
    message_key: str
    params: dict[str, Any] = field(default_factory=dict)
    # More params, made only when it is sent, in the person's language (for what is costly to
    # gather or worded per language): (session, a Say in their language) -> params.
    details: Callable[[Session, Say], dict[str, Any]] | None = None
    # A picture sent with it, right after its text (see ``PictureSource``).
    picture: "PictureSource | None" = None

    reactions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Picture:
    """A PNG to send with a reminder, with its alt text (what it shows, in words)."""

    data: bytes
    width: int
    height: int
    filename: str
    alt_text: str


# Reads what a reminder's picture needs (session, a Say in the person's language) and returns a
# renderer holding only plain values, or None when there is nothing to draw. The scheduler runs the
# renderer in a worker thread and uploads its PNG outside any transaction, then queues the picture
# with the reminder's text, under the reminder's ledger key (exactly once, like the text).
PictureSource = Callable[[Session, Say], Callable[[], Picture] | None]


# Returns the reminders falling due in [start, end).
ReminderSource = Callable[[Session, datetime, datetime], list[DueReminder]]


# --- personal data (export and erasure) ---------------------------------------------------------

# Everything a feature holds about a person, JSON-serialisable, for !export.
Exporter = Callable[[Session, str], dict[str, Any]]
# Erase (or pseudonymise what must be kept) a person's data, for !forget-me. Every feature's
# eraser runs, in feature order, before any ``RoomEraser``.
Eraser = Callable[[Session, str], None]
# The Matrix side of an erasure (taking the person out of rooms), awaited after every
# ``Eraser`` has run: (session, port, user id).
RoomEraser = Callable[[Session, MatrixPort, str], Awaitable[None]]


# --- crisis response ----------------------------------------------------------------------------

# Something the crisis reply adds for the person, in their language: (session, user id, a Say in their language)
# -> Markdown, or None when there is nothing to add. It only ever goes to that person privately.
CrisisExtra = Callable[[Session, str, Say], str | None]
# In a room without encryption nothing personal may be said: (settings, a Say in the sender's
# language, the message body) -> the public help-line numbers as Markdown when the body is a crisis
# message, else None. The core posts it in that room and does nothing else.
PublicCrisisReply = Callable[[Settings, Say, str], str | None]


# --- reaching peers -----------------------------------------------------------------------------

# Reasons a ``PeerCheck`` gives for refusing contact between two participants.
BANNED, MUTED = "banned", "muted"  # the sender may reach nobody
BLOCKED = "blocked"  # the receiver blocked the sender: treat it like an unanswered request
BLOCKING = "blocking"  # the sender blocked the receiver

# (session, sender, receiver or None) -> None when ``sender`` may reach ``receiver`` (with None:
# may reach peers at all), else one of the reasons above.
PeerCheck = Callable[[Session, str, str | None], str | None]


def peer_refusal(features: Iterable["Feature"], session: Session, sender: str,
                 receiver: str | None = None) -> str | None:
    """The first reason any loaded feature gives why ``sender`` may not reach ``receiver``
    (or, with None, any peer); None when nothing stands in the way."""
    for f in features:
        for check in f.peer_checks:
            reason = check(session, sender, receiver)
            if reason is not None:
                return reason
    return None


def may_pair(features: Iterable["Feature"], session: Session, first: str, second: str) -> bool:
    """Whether two people may be put in touch (a café buddy or a lift): neither is banned or
    muted, and neither blocked the other."""
    loaded = list(features)
    return (peer_refusal(loaded, session, first, second) is None
            and peer_refusal(loaded, session, second, first) is None)


# --- the consultant digest and research figures -------------------------------------------------



@dataclass(frozen=True)
class DigestRequest:
    """What a digest section is made from: the day's data as of ``now``, in the reader's words."""

    session: Session
    settings: Settings
    now: datetime  # UTC, tz-aware
    tr: Say


@dataclass(frozen=True)
class DigestSection:
    """One paragraph of the consultant digest (Markdown). Sections are shown by ``position``,
    lowest first; sections with the same position keep feature order."""

    position: int
    text: str


DigestSource = Callable[[DigestRequest], list[DigestSection]]


@dataclass(frozen=True)
class StatsFigure:
    """Counts for one month and community, as a feature records them. ``counts`` keys name the
    columns of the figures table (``posts``, ``posters``, ``views``, ``rsvps_yes``,
    ``attended``); a None count means not recorded."""

    month: str  # "YYYY-MM"
    community: str | None  # None for people without a community (staff)
    counts: Mapping[str, int | None] = field(default_factory=dict)


# (session, settings, since, now) -> the feature's figures from ``since`` up to ``now``.
StatsSource = Callable[[Session, Settings, datetime, datetime], list[StatsFigure]]


# --- readings of a message body ---------------------------------------------------------------

T = TypeVar("T")

# A body longer than this is scanned in a worker thread before the database lock is taken; a
# shorter one costs well under a millisecond and is scanned where it is asked for.
INLINE_SCAN_CHARS = 2_000


@dataclass(frozen=True)
class TextScan(Generic[T]):
    """A pure reading of a message body (identifying details, crisis language): no database, no
    shared state, safe in a worker thread, and linear in the text. A feature lists its scans in
    ``Feature.text_scans``; the dispatcher runs them for a long body in a worker thread, before it
    takes the database lock, and observers read the result with ``ctx.scan(SCAN)``."""

    name: str
    read: Callable[[Settings, str], T]


# --- commands the crisis watch leaves alone -----------------------------------------------------

def crisis_watch_exempt(features: Iterable["Feature"], prefix: str, body: str) -> bool:
    """Whether ``body`` is one of the commands declared ``crisis_exempt`` (writing one's own
    warning signs into a crisis plan is not a crisis message). A command name matches the first
    words after the prefix, case-insensitively."""
    if not body.startswith(prefix):
        return False
    words = [w.lower() for w in body[len(prefix):].split()]
    for f in features:
        for command in f.commands.commands:
            if command.crisis_exempt:
                name = command.name.split()
                if words[:len(name)] == name:
                    return True
    return False
