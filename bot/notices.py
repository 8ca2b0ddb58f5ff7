"""Notices to the rooms the core knows: a person's toolbox room, the consultant room, or any room
by id, each in its reader's language through the one speaker.

Handlers build one from their context, jobs from the runtime and their own session; either way the
messages go into the outbox in the caller's transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Collection, Protocol

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.models import RoomKind
from bot.outbox import enqueue, notice_content
from bot.roomdir import find_room, toolbox_room_of
from bot.speaker import Speaker

if TYPE_CHECKING:
    from bot.context import Context
    from bot.runtime import Runtime


class Send(Protocol):
    """Queue Markdown text for a room (``alert``: m.text naming ``mentions``; else a notice)."""

    def __call__(self, room_id: str, text: str, *, alert: bool = False, mentions: Collection[str] = ()) -> object: ...


class Notices:
    def __init__(self, session: Session, speaker: Speaker, send: Send) -> None:
        self.session = session
        self.speaker = speaker
        self._send = send

    @classmethod
    def from_context(cls, ctx: "Context") -> "Notices":
        """For a handler or observer: queued with the event's replies."""
        def send(room_id: str, text: str, *, alert: bool = False, mentions: Collection[str] = ()) -> object:
            return ctx.send_text(room_id, text, alert=alert, mentions=mentions)

        return cls(ctx.session, ctx.speaker, send)

    @classmethod
    def from_runtime(cls, runtime: "Runtime", session: Session) -> "Notices":
        """For a job or hook: queued in ``session``; wake the outbox once it is committed."""
        def send(room_id: str, text: str, *, alert: bool = False, mentions: Collection[str] = ()) -> object:
            return enqueue(session, room_id, notice_content(text, alert=alert, mentions=mentions))

        return cls(session, runtime.speaker, send)

    def lang_of(self, user_id: str) -> str:
        return self.speaker.lang_of(self.session, user_id)

    def t(self, lang: str, key: str, **params: Any) -> str:
        return self.speaker.t(lang, key, **params)

    # ``alert=True`` on any of these: the message must reach someone, so it is m.text (clients never
    # notify for a notice); acknowledgements, help and listings leave it False.

    def text_to_room(self, room_id: str, text: str, *, alert: bool = False, mentions: Collection[str] = ()) -> None:
        self._send(room_id, text, alert=alert, mentions=mentions)

    def to_room(self, room_id: str, key: str, *, lang: str | None = None, alert: bool = False,
                mentions: Collection[str] = (), **params: Any) -> None:
        """Into a room, in ``lang`` (the community's language when None). An alert into a group room
        names in ``mentions`` the people it is for."""
        self._send(room_id, self.speaker.say(lang)(key, **params), alert=alert, mentions=mentions)

    def to_person(self, user_id: str, key: str, *, alert: bool = False, **params: Any) -> bool:
        """Into the person's toolbox room, in their language; False when they have none. (A
        two-member room: an alert notifies without a mention; it names them all the same.)"""
        room_id = toolbox_room_of(self.session, user_id)
        if room_id is None:
            return False
        self._send(room_id, self.t(self.lang_of(user_id), key, **params), alert=alert,
                   mentions=(user_id,) if alert else ())
        return True

    def to_consultants(self, key: str, *, alert: bool = False, **params: Any) -> bool:
        """Into the consultant room, in the community's language; False when there is none. An
        alert mentions every consultant in config (never the whole room)."""
        room = find_room(self.session, RoomKind.CONSULTANT)
        if room is None:
            return False
        self._send(room.room_id, self.speaker.say()(key, **params), alert=alert,
                   mentions=consultants_to_alert(self.speaker.settings) if alert else ())
        return True


def consultants_to_alert(settings: Settings) -> tuple[str, ...]:
    """Who a consultant alert is for: the consultants in config (admins only when there are none)."""
    return tuple(settings.people.consultants or settings.people.admins)
