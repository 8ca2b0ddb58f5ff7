"""Test helpers for unit tests of features: an in-memory port, a runtime and a context factory.

Integration tests never use these: they run against a real Synapse.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.context import Context, IncomingEvent, Services
from bot.db import Database
from bot.i18n import Catalogue
from bot.models import ManagedRoom, OutboxMessage, Role, RoomKind
from bot.people import language_of, resolve_role
from bot.port import RoomSpec, UploadedFile
from bot.router import Router
from bot.runtime import Slots
from bot.speaker import Speaker

if TYPE_CHECKING:
    from bot.feature import Feature


@dataclass
class FakePort:
    """Records every Matrix effect a feature asks for."""

    bot_user_id: str = "@bot:localhost"
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    rooms: dict[str, RoomSpec] = field(default_factory=dict)
    room_members: dict[str, list[str]] = field(default_factory=dict)
    names: dict[tuple[str, str], str] = field(default_factory=dict)
    events: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    state: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    uploads: list[bytes] = field(default_factory=list)
    media_deletable: bool = True
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    async def create_room(self, spec: RoomSpec) -> str:
        room_id = f"!room{next(self._ids)}:localhost"
        self.rooms[room_id] = spec
        self.room_members[room_id] = [self.bot_user_id, *spec.invite]
        self.calls.append(("create_room", (room_id, spec)))
        return room_id

    async def invite(self, room_id: str, user_id: str) -> None:
        self.room_members.setdefault(room_id, []).append(user_id)
        self.calls.append(("invite", (room_id, user_id)))

    async def kick(self, room_id: str, user_id: str, reason: str | None = None) -> None:
        members = self.room_members.get(room_id, [])
        if user_id in members:
            members.remove(user_id)
        self.calls.append(("kick", (room_id, user_id, reason)))

    async def ban(self, room_id: str, user_id: str, reason: str | None = None) -> None:
        members = self.room_members.get(room_id, [])
        if user_id in members:
            members.remove(user_id)
        self.calls.append(("ban", (room_id, user_id, reason)))

    async def unban(self, room_id: str, user_id: str) -> None:
        self.calls.append(("unban", (room_id, user_id)))

    async def redact(self, room_id: str, event_id: str, reason: str | None = None) -> None:
        self.calls.append(("redact", (room_id, event_id, reason)))

    async def set_power_level(self, room_id: str, user_id: str, level: int | None) -> None:
        self.calls.append(("set_power_level", (room_id, user_id, level)))

    async def get_state(self, room_id: str, event_type: str, state_key: str = "") -> dict[str, Any] | None:
        return self.state.get((room_id, event_type, state_key))

    async def set_state(self, room_id: str, event_type: str, content: dict[str, Any], state_key: str = "") -> None:
        self.state[(room_id, event_type, state_key)] = content
        self.calls.append(("set_state", (room_id, event_type, state_key)))

    async def members(self, room_id: str) -> list[str]:
        return list(self.room_members.get(room_id, []))

    async def display_name(self, room_id: str, user_id: str) -> str | None:
        return self.names.get((room_id, user_id))

    async def fetch_event(self, room_id: str, event_id: str) -> dict[str, Any] | None:
        return self.events.get((room_id, event_id))

    async def upload(self, data: bytes, mimetype: str, filename: str) -> UploadedFile:
        self.uploads.append(data)
        return UploadedFile(url=f"mxc://localhost/upload{len(self.uploads)}", file_info={"v": "v2"})

    async def leave(self, room_id: str) -> None:
        self.calls.append(("leave", (room_id,)))

    async def delete_media(self, url: str) -> bool:
        self.calls.append(("delete_media", (url,)))
        return self.media_deletable

    async def direct_rooms_with(self, user_id: str) -> list[str]:
        return [r for r, members in self.room_members.items() if set(members) == {self.bot_user_id, user_id}]

    def called(self, name: str) -> list[tuple[Any, ...]]:
        return [args for n, args in self.calls if n == name]


@dataclass
class FakeRuntime:
    """A :class:`bot.runtime.Runtime` for start hooks, jobs and background tasks: a real database,
    a :class:`FakePort`, and a count of outbox wake-ups."""

    db: Database
    port: FakePort
    settings: Settings
    services: Services
    wakes: int = 0
    db_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    slots: Slots = field(default_factory=Slots)

    @property
    def speaker(self) -> Speaker:
        return Speaker(self.services.catalogue, self.settings)

    @property
    def features(self) -> Sequence["Feature"]:
        return self.services.features

    def session(self) -> AbstractContextManager[Session]:
        return self.db.session()

    def wake_outbox(self) -> None:
        self.wakes += 1


def test_settings(**overrides: Any) -> Settings:
    data: dict[str, Any] = {
        "homeserver": {"url": "http://127.0.0.1:8008"},
        "bot": {"user_id": "@bot:localhost"},
        "people": {"admins": ["@admin:localhost"], "consultants": ["@consultant:localhost"]},
        "communities": [{"name": "North"}, {"name": "South", "timezone": "Europe/Oslo"}],
    }
    data.update(overrides)
    return Settings.model_validate(data)


test_settings.__test__ = False  # a factory, not a test, when imported into a test module


def router_for(features: list, prefix: str = "!") -> Router:
    router = Router(prefix)
    for f in features:
        router.add(f.commands.commands)
    return router


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements ``engine`` runs inside the ``with`` block, in order (for tests that a
    cost does not grow with the number of people)."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


_CATALOGUES: dict[tuple[str, ...], Catalogue] = {}


def catalogue_for(features: list) -> Catalogue:
    """The features' catalogue, read from their files once per test session (parsing the YAML was
    most of each unit test's set-up); each caller gets its own copy of the messages."""
    dirs = tuple(str(f.locales) for f in features if f.locales is not None)
    if dirs not in _CATALOGUES:
        read = Catalogue()
        for d in dirs:
            read.load_dir(Path(d))
        _CATALOGUES[dirs] = read
    cat = Catalogue()
    cat.messages = {lang: dict(messages) for lang, messages in _CATALOGUES[dirs].messages.items()}
    return cat


def make_context(
    session: Session,
    services: Services,
    *,
    sender: str,
    room_id: str,
    body: str = "",
    event_id: str = "$event1",
    content: dict[str, Any] | None = None,
    event_type: str = "m.room.message",
    role: Role | None = None,
    state_key: str | None = None,
    redacts: str | None = None,
) -> Context:
    """A context as the dispatcher would build it, for a room recorded in ``managed_room``
    (or a direct chat when the room is unknown)."""
    room = session.get(ManagedRoom, room_id)
    kind = RoomKind(room.kind) if room is not None else RoomKind.DIRECT
    event = IncomingEvent(
        event_id=event_id,
        room_id=room_id,
        sender=sender,
        type=event_type,
        content=content if content is not None else {"msgtype": "m.text", "body": body},
        state_key=state_key,
        # As the dispatcher reads it: a redaction names its target at the top level or (room
        # version 11) in the content.
        redacts=redacts if redacts is not None or content is None or event_type != "m.room.redaction"
        else content.get("redacts"),
    )
    return Context(
        services=services,
        session=session,
        event=event,
        role=role or resolve_role(session, services.settings, sender),
        room_kind=kind,
        room=room,
        lang=language_of(session, services.settings, sender),
    )


def queued(session: Session) -> list[tuple[str, dict[str, Any]]]:
    """Messages waiting in the outbox: (room_id, content)."""
    session.flush()
    rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
    return [(r.room_id, json.loads(r.content)) for r in rows]
