"""Notices to the rooms the core knows: a person's toolbox room, the consultant room, or any room
by id, each in its reader's language through the one speaker.

Handlers build one from their context, jobs from the runtime and their own session; either way the
messages go into the outbox in the caller's transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from sqlalchemy.orm import Session

from bot.models import RoomKind
from bot.outbox import enqueue, notice_content
from bot.roomdir import find_room, toolbox_room_of
from bot.speaker import Speaker

if TYPE_CHECKING:
    from bot.context import Context
    from bot.runtime import Runtime

# Queue Markdown text for a room: send(room_id, text).
Send = Callable[[str, str], object]


class Notices:
    def __init__(self, session: Session, speaker: Speaker, send: Send) -> None:
        self.session = session
        self.speaker = speaker
        self._send = send

    @classmethod
    def from_context(cls, ctx: "Context") -> "Notices":
        """For a handler or observer: queued with the event's replies."""
        return cls(ctx.session, ctx.speaker, lambda room_id, text: ctx.send_text(room_id, text))

    @classmethod
    def from_runtime(cls, runtime: "Runtime", session: Session) -> "Notices":
        """For a job or hook: queued in ``session``; wake the outbox once it is committed."""
        return cls(session, runtime.speaker, lambda room_id, text: enqueue(session, room_id, notice_content(text)))

    def lang_of(self, user_id: str) -> str:
        return self.speaker.lang_of(self.session, user_id)

    def t(self, lang: str, key: str, **params: Any) -> str:
        return self.speaker.t(lang, key, **params)

    def text_to_room(self, room_id: str, text: str) -> None:
        self._send(room_id, text)

    def to_room(self, room_id: str, key: str, *, lang: str | None = None, **params: Any) -> None:
        """Into a room, in ``lang`` (the community's language when None)."""
        self._send(room_id, self.speaker.say(lang)(key, **params))

    def to_person(self, user_id: str, key: str, **params: Any) -> bool:
        """Into the person's toolbox room, in their language; False when they have none."""
        room_id = toolbox_room_of(self.session, user_id)
        if room_id is None:
            return False
        self._send(room_id, self.t(self.lang_of(user_id), key, **params))
        return True

    def to_consultants(self, key: str, **params: Any) -> bool:
        """Into the consultant room, in the community's language; False when there is none."""
        room = find_room(self.session, RoomKind.CONSULTANT)
        if room is None:
            return False
        self._send(room.room_id, self.speaker.say()(key, **params))
        return True
