"""What features see of the running bot: the narrow, typed ``Runtime``. Start and stop hooks,
scheduled jobs and background tasks get one; command handlers and observers reach it through
their ``Context``. The application object itself never leaves ``bot/``."""

from __future__ import annotations

import asyncio
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol, Sequence

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.port import MatrixPort
from bot.speaker import Speaker

if TYPE_CHECKING:
    from bot.feature import Feature


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
