"""What a feature package offers the core: commands, observers, start/stop hooks, catalogues,
migrations. Each feature package exposes ``feature = Feature(...)`` in its ``plugin`` module."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Awaitable, Callable

from bot.router import CommandSet

if TYPE_CHECKING:
    from bot.app import App
    from bot.context import Context

# An observer sees every message (decrypted) in rooms the bot serves, before the router.
# It may queue replies through the context; it must never log bodies.
Observer = Callable[["Context"], Awaitable[None]]
Hook = Callable[["App"], Awaitable[None]]


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
    on_start: list[Hook] = field(default_factory=list)
    on_stop: list[Hook] = field(default_factory=list)

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

    def stopping(self, fn: Hook) -> Hook:
        self.on_stop.append(fn)
        return fn
