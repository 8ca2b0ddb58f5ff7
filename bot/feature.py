"""What a feature package offers the core: commands, observers, start/stop hooks, catalogues,
migrations, and its part of the contracts between features (``bot/contracts.py``). Each feature
package exposes ``feature = Feature(...)`` in its ``plugin`` module."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from bot.contracts import (
    CrisisExtra,
    DigestSource,
    DueReminder,
    Eraser,
    Exporter,
    PeerCheck,
    PublicCrisisReply,
    ReminderSource,
    RoomEraser,
    StatsSource,
    TextScan,
)
from bot.router import CommandSet

if TYPE_CHECKING:
    from bot.context import Context
    from bot.runtime import Runtime

# An observer sees every message (decrypted) in rooms the bot serves, before the router.
# It may queue replies through the context; it must never log bodies.
Observer = Callable[["Context"], Awaitable[None]]
# Start and stop hooks get the bot's narrow ``Runtime``, never the application object.
#
# The contract: start hooks run once the first sync is handled, feature by feature in load order
# (a hook that raises stops start-up, and what had started is stopped again). A start hook that
# leaves something running (a task, a scheduler) returns a ``Stop``, an async callable that ends
# it; the bot keeps each one and awaits them at stop, in reverse order of start, before its own
# tasks end. Per-runtime objects that commands need later (say, to ask a scheduler to look
# again) go in the runtime's ``slots``, never in a module-level registry: several bots can run in
# one process. ``on_stop`` hooks run after the ``Stop``s, features in reverse order; their
# failures are logged and stopping goes on.
Stop = Callable[[], Awaitable[None]]
Hook = Callable[["Runtime"], Awaitable["Stop | None"]]
StopHook = Callable[["Runtime"], Awaitable[None]]


__all__ = ["DueReminder", "Eraser", "Exporter", "Feature", "Hook", "Observer", "ReminderSource", "Stop", "StopHook"]


@dataclass
class Feature:
    name: str
    commands: CommandSet = field(default_factory=CommandSet)
    locales: Path | None = None
    migrations: Path | None = None
    message_observers: list[Observer] = field(default_factory=list)
    # Observers of other event types, by Matrix type: "m.reaction", "m.room.member",
    # "m.room.redaction", "m.receipt" (ephemeral; content is the receipt map).
    event_observers: dict[str, list[Observer]] = field(default_factory=dict)
    # Messages first seen after an outage, older than ``bot.max_event_age_seconds``, go to these
    # alone (no other observer, no command): what must not go unanswered even late.
    late_observers: list[Observer] = field(default_factory=list)
    on_start: list[Hook] = field(default_factory=list)
    on_stop: list[StopHook] = field(default_factory=list)
    # Services (``bot/contracts.py`` names) this feature offers, and those it cannot work without.
    provides: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    # Contributions to the contracts in ``bot/contracts.py``:
    reminder_sources: list[ReminderSource] = field(default_factory=list)
    exporters: list[Exporter] = field(default_factory=list)
    erasers: list[Eraser] = field(default_factory=list)
    room_erasers: list[RoomEraser] = field(default_factory=list)
    crisis_extras: list[CrisisExtra] = field(default_factory=list)
    public_crisis_replies: list[PublicCrisisReply] = field(default_factory=list)
    digest_sources: list[DigestSource] = field(default_factory=list)
    stats_sources: list[StatsSource] = field(default_factory=list)
    peer_checks: list[PeerCheck] = field(default_factory=list)
    # Readings of message bodies its observers use (run off the event loop for long texts).
    text_scans: list[TextScan[Any]] = field(default_factory=list)

    def observe(self, event_type: str) -> Callable[[Observer], Observer]:
        def register(fn: Observer) -> Observer:
            if event_type == "m.room.message":
                self.message_observers.append(fn)
            else:
                self.event_observers.setdefault(event_type, []).append(fn)
            return fn

        return register

    def started(self, fn: Hook) -> Hook:
        self.on_start.append(fn)
        return fn

    def stopping(self, fn: StopHook) -> StopHook:
        self.on_stop.append(fn)
        return fn
