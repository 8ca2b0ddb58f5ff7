"""What features see of the running bot: the narrow, typed ``Runtime``. Start and stop hooks,
scheduled jobs and background tasks get one; command handlers and observers reach it through
their ``Context``. The application object itself never leaves ``bot/``."""

from __future__ import annotations

import asyncio
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Generic, Protocol, Sequence, TypeVar, runtime_checkable

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db import Database
from bot.port import MatrixPort
from bot.speaker import Speaker

if TYPE_CHECKING:
    from bot.feature import Feature

T = TypeVar("T")


class Slot(Generic[T]):
    """The typed name of one per-runtime object a feature keeps (its running scheduler, say), so
    that nothing about a running bot lives at module level: a module holds the ``Slot``, each
    runtime holds what is in it."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Slot({self.name!r})"


class Slots:
    """What a runtime keeps in its slots."""

    def __init__(self) -> None:
        self._held: dict[Slot[Any], Any] = {}

    def get(self, slot: Slot[T]) -> T | None:
        held: T | None = self._held.get(slot)
        return held

    def put(self, slot: Slot[T], value: T) -> None:
        self._held[slot] = value

    def clear(self, slot: Slot[Any]) -> None:
        self._held.pop(slot, None)


@runtime_checkable
class Runtime(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def port(self) -> MatrixPort: ...

    @property
    def speaker(self) -> Speaker: ...

    @property
    def features(self) -> Sequence["Feature"]: ...

    @property
    def db_lock(self) -> asyncio.Lock:
        """One writer at a time on the event loop: take it before writing from a task."""
        ...

    def session(self) -> AbstractContextManager[Session]:
        """A database session that commits when the block ends without an error."""
        ...

    def wake_outbox(self) -> None:
        """Messages were queued outside an event: send them now rather than at the next poll."""
        ...

    @property
    def slots(self) -> Slots:
        """Per-runtime objects of the features (see :class:`Slot`)."""
        ...


@dataclass(frozen=True)
class BotRuntime:
    """The running bot's :class:`Runtime`, built by ``bot.app.App`` once it is connected."""

    settings: Settings
    port: MatrixPort
    speaker: Speaker
    features: Sequence["Feature"]
    db_lock: asyncio.Lock
    database: Database
    wake: Callable[[], None]
    slots: Slots = field(default_factory=Slots)

    def session(self) -> AbstractContextManager[Session]:
        return self.database.session()

    def wake_outbox(self) -> None:
        self.wake()
