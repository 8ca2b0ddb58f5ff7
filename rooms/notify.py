"""Queue messages to a person's private room or to the consultant room, in the reader's language.

Handlers build one from their context, jobs from the running app; either way the messages go
into the outbox in the caller's transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.models import RoomKind
from bot.outbox import enqueue, notice_content
from bot.people import language_of
from bot.roomdir import find_room, toolbox_room_of

if TYPE_CHECKING:
    from bot.context import Context
    from bot.runtime import Runtime

Translate = Callable[..., str]  # (lang, key, **params) -> text
Send = Callable[[str, str], None]  # (room_id, markdown)


class Notifier:
    def __init__(self, session: Session, settings: Settings, translate: Translate, send: Send) -> None:
        self.session = session
        self.settings = settings
        self._translate = translate
        self._send = send

    @classmethod
    def from_ctx(cls, ctx: "Context") -> "Notifier":
        return cls(ctx.session, ctx.settings,
                   lambda lang, key, **p: ctx.t(key, lang=lang, **p),
                   lambda room_id, text: ctx.send_text(room_id, text))

    @classmethod
    def from_app(cls, app: "Runtime", session: Session) -> "Notifier":
        return cls(session, app.settings, app.speaker.t,
                   lambda room_id, text: enqueue(session, room_id, notice_content(text)) and None)

    def lang_of(self, user_id: str) -> str:
        return language_of(self.session, self.settings, user_id)

    def t(self, lang: str, key: str, **params: Any) -> str:
        return self._translate(lang, key, **params)

    def text_to_room(self, room_id: str, text: str) -> None:
        self._send(room_id, text)

    def to_room(self, room_id: str, key: str, *, lang: str | None = None, **params: Any) -> None:
        self._send(room_id, self.t(lang or self.settings.language, key, **params))

    def to_person(self, user_id: str, key: str, **params: Any) -> bool:
        """Into the person's toolbox room; False when they have none."""
        room_id = toolbox_room_of(self.session, user_id)
        if room_id is None:
            return False
        self._send(room_id, self.t(self.lang_of(user_id), key, **params))
        return True

    def to_consultants(self, key: str, **params: Any) -> bool:
        room = find_room(self.session, RoomKind.CONSULTANT)
        if room is None:
            return False
        self._send(room.room_id, self.t(self.settings.language, key, **params))
        return True
