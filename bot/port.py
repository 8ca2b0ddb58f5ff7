"""The one narrow port through which features touch Matrix (besides sending, which goes
through the transactional outbox in :mod:`bot.outbox`).

The real implementation (:class:`bot.matrix.NioPort`) wraps matrix-nio; unit tests use
:class:`tests.support.core.FakePort`. Handlers and domain code only ever see this protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.markup import plain_text


class PortError(Exception):
    """The homeserver refused or could not do what was asked."""


@dataclass(frozen=True)
class RoomSpec:
    """What a new room looks like. Names and topics are public state: keep them generic."""

    name: str
    topic: str = ""
    invite: tuple[str, ...] = ()
    is_direct: bool = False
    is_space: bool = False
    # user id -> power level, on top of bot 100 and everyone else 0
    power_users: dict[str, int] = field(default_factory=dict)
    parent_space: str | None = None
    encrypted: bool = True  # every room the bot makes is encrypted; spaces cannot hold messages

    def __post_init__(self) -> None:
        # Name and topic come from the catalogue as Markdown; state is plain text.
        object.__setattr__(self, "name", plain_text(self.name))
        object.__setattr__(self, "topic", plain_text(self.topic))


@dataclass(frozen=True)
class UploadedFile:
    url: str  # mxc://
    file_info: dict[str, Any]  # the "file" object of an encrypted attachment (key, iv, hashes)


class MatrixPort(Protocol):
    bot_user_id: str

    async def create_room(self, spec: RoomSpec) -> str: ...

    async def invite(self, room_id: str, user_id: str) -> None: ...

    async def kick(self, room_id: str, user_id: str, reason: str | None = None) -> None: ...

    async def ban(self, room_id: str, user_id: str, reason: str | None = None) -> None: ...

    async def unban(self, room_id: str, user_id: str) -> None: ...

    async def redact(self, room_id: str, event_id: str, reason: str | None = None) -> None: ...

    async def set_power_level(self, room_id: str, user_id: str, level: int | None) -> None:
        """Set one user's level; ``None`` removes the override (back to the default)."""

    async def get_state(self, room_id: str, event_type: str, state_key: str = "") -> dict[str, Any] | None: ...

    async def set_state(self, room_id: str, event_type: str, content: dict[str, Any], state_key: str = "") -> None: ...

    async def members(self, room_id: str) -> list[str]:
        """Joined and invited members."""

    async def display_name(self, room_id: str, user_id: str) -> str | None: ...

    async def fetch_event(self, room_id: str, event_id: str) -> dict[str, Any] | None:
        """A (decrypted) event as a dict with sender, type, content; None if unknown."""

    async def upload(self, data: bytes, mimetype: str, filename: str) -> UploadedFile:
        """Encrypt and upload a file for an encrypted room."""

    async def leave(self, room_id: str) -> None: ...

    async def direct_rooms_with(self, user_id: str) -> list[str]:
        """Rooms the bot is in with this person and nobody else (direct chats)."""

    async def delete_media(self, url: str) -> bool:
        """Ask the homeserver to delete an uploaded file; False when it refuses (deleting media
        needs a homeserver admin on Synapse)."""
