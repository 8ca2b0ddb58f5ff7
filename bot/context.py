"""What a handler, observer or job sees: who, where, a database session, the port, replies."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Iterable, TypeVar, cast

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.contracts import TextScan
from bot.i18n import Catalogue
from bot.models import ManagedRoom, Role, RoomKind, UploadedMedia
from bot.outbox import enqueue, file_content, notice_content
from bot.port import MatrixPort, UploadedFile
from bot.speaker import Speaker

if TYPE_CHECKING:
    from bot.feature import Feature
    from bot.router import Router
    from bot.runtime import Runtime


@dataclass
class Services:
    """Long-lived things every context shares."""

    settings: Settings
    catalogue: Catalogue
    port: MatrixPort
    router: "Router | None" = None
    features: list["Feature"] = field(default_factory=list)
    runtime: "Runtime | None" = None  # the running bot's runtime (None in unit tests)

    @property
    def speaker(self) -> Speaker:
        """The one text layer, over this catalogue and these settings (built on use, so it follows
        the settings it is given)."""
        return Speaker(self.catalogue, self.settings)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
T = TypeVar("T")
# What a handler queues once slow work done outside the database lock is finished: called with a
# context for the same event, in a transaction of its own.
Finish = Callable[["Context"], None]
OffLock = Callable[[], Awaitable[Finish]]


@dataclass
class IncomingEvent:
    event_id: str
    room_id: str
    sender: str
    type: str
    content: dict[str, Any]
    origin_server_ts: int = 0
    state_key: str | None = None  # for state events such as m.room.member
    redacts: str | None = None  # for m.room.redaction (only ever from an unencrypted event)
    encrypted: bool = False  # it came decrypted: its type and fields are the sender's claim
    scans: dict[str, Any] = field(default_factory=dict)  # TextScan results by name (see Context.scan)

    @cached_property
    def body(self) -> str:
        """The text as typed, without control characters (a NUL, say, is refused by PostgreSQL
        and means nothing to a person); line breaks and tabs stay. Worked out once per event (a
        long body is read by several observers and the router)."""
        body = self.content.get("body")
        return _CONTROL.sub("", body) if isinstance(body, str) else ""

    @property
    def relates_to(self) -> dict[str, Any]:
        rel = self.content.get("m.relates_to")
        return rel if isinstance(rel, dict) else {}

    @property
    def thread_root(self) -> str | None:
        rel = self.relates_to
        event_id = rel.get("event_id")
        if rel.get("rel_type") == "m.thread" and isinstance(event_id, str):
            return event_id
        return None

    @property
    def reply_to(self) -> str | None:
        """The event this one answers (a rich reply), if any, ignoring thread fallbacks."""
        rel = self.relates_to
        irt = rel.get("m.in_reply_to")
        event_id = irt.get("event_id") if isinstance(irt, dict) else None
        if isinstance(event_id, str):
            if rel.get("rel_type") == "m.thread" and rel.get("is_falling_back", False):
                return None
            return event_id
        return None


@dataclass
class Context:
    services: Services
    session: Session
    event: IncomingEvent
    role: Role
    room_kind: RoomKind
    room: ManagedRoom | None
    lang: str
    sent: list[dict[str, Any]] = field(default_factory=list)
    # Where replies go instead of the event's room: set by the router for a discreet command sent
    # in a shared room (see ``bot.router.Command.private``).
    private_room: str | None = None
    # The line that starts the first answer there: why it came there, not where it was asked.
    private_note: str | None = None
    # Work to run after commit, outside the database lock (the dispatcher sets a list; None runs
    # it at once, as in unit tests and jobs).
    deferred: list[OffLock] | None = None

    # --- conveniences -------------------------------------------------------------------------
    @property
    def sender(self) -> str:
        return self.event.sender

    @property
    def room_id(self) -> str:
        return self.event.room_id

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def port(self) -> MatrixPort:
        return self.services.port

    @property
    def speaker(self) -> Speaker:
        return self.services.speaker

    @property
    def prefix(self) -> str:
        return self.speaker.prefix

    def t(self, key: str, lang: str | None = None, **params: Any) -> str:
        """Catalogue text in the sender's language (or ``lang``)."""
        return self.speaker.t(lang or self.lang, key, **params)

    # --- work kept off the event loop and out of the lock --------------------------------------
    def scan(self, scan: TextScan[T]) -> T:
        """``scan`` of this event's body: read once, and for a long body already in a worker
        thread by the dispatcher before the lock was taken."""
        if scan.name not in self.event.scans:
            self.event.scans[scan.name] = scan.read(self.settings, self.event.body)
        return cast(T, self.event.scans[scan.name])

    async def off_lock(self, work: OffLock) -> None:
        """Slow work (rendering a picture in a worker thread, uploading it) that must not hold the
        database lock. ``work`` gets no session: read what it needs first. It returns a ``Finish``
        that queues the result. Under the dispatcher it runs once this event is committed and the
        lock released, and its ``Finish`` gets a fresh context in a transaction of its own."""
        if self.deferred is None:
            (await work())(self)
        else:
            self.deferred.append(work)

    # --- replies (queued in this transaction, sent after commit) ---------------------------------
    def reply_text(self, text: str, *, mentions: Iterable[str] = (), alert: bool = False,
                   static: bool = False) -> None:
        """Answer in the room of the event, keeping its thread (or privately, see ``private_room``).
        ``alert=True`` when the answer must reach someone (``m.text``, see :func:`bot.outbox.notice_content`);
        ``static=True`` when the text holds nothing a person typed (its rendering is remembered)."""
        if self.private_room is not None:
            if self.private_note and not any(m["room_id"] == self.private_room for m in self.sent):
                # The first answer (also after a rollback cleared the ones before).
                text, static = f"{self.private_note}\n\n{text}", False
            self._queue(self.private_room, notice_content(text, mentions=mentions, alert=alert, static=static))
            return
        in_shared = self.room_kind not in (RoomKind.DIRECT, RoomKind.TOOLBOX)
        content = notice_content(
            text,
            alert=alert,
            mentions=mentions,
            thread_root=self.event.thread_root,
            reply_to=self.event.event_id if in_shared else None,
            static=static,
        )
        self._queue(self.room_id, content)

    def reply(self, key: str, *, alert: bool = False, **params: Any) -> None:
        """Catalogue text as the answer; an alert names the sender (it is for them)."""
        self.reply_text(self.t(key, **params), alert=alert, mentions=(self.sender,) if alert else ())

    def send_text(self, room_id: str, text: str, *, alert: bool = False, mentions: Iterable[str] = (),
                  thread_root: str | None = None, txn_id: str | None = None) -> str:
        """Queue a message to any room (a notice, or ``m.text`` with ``alert=True``); returns its
        transaction id (pass one to find the sent event later in ``SentEvent``)."""
        content = notice_content(text, alert=alert, mentions=mentions, thread_root=thread_root)
        return self._queue(room_id, content, txn_id=txn_id)

    def send_file(self, room_id: str, uploaded: UploadedFile, *, filename: str, mimetype: str,
                  size: int, alt_text: str, width: int | None = None, height: int | None = None) -> None:
        """Queue an uploaded file; it is noted as the room owner's (the sender's in a direct chat),
        for ``!forget-me`` to delete."""
        room = self.session.get(ManagedRoom, room_id)
        owner = room.owner if room is not None else self.sender
        if owner:
            self.session.add(UploadedMedia(owner=owner, url=uploaded.url))
        self._queue(room_id, file_content(uploaded, filename=filename, mimetype=mimetype, size=size,
                                          alt_text=alt_text, width=width, height=height))

    def send_raw(self, room_id: str, content: dict[str, Any], event_type: str = "m.room.message",
                 txn_id: str | None = None) -> str:
        return self._queue(room_id, content, event_type, txn_id=txn_id)

    def _queue(self, room_id: str, content: dict[str, Any], event_type: str = "m.room.message",
               txn_id: str | None = None) -> str:
        row = enqueue(self.session, room_id, content, event_type=event_type, txn_id=txn_id)
        self.sent.append({"room_id": room_id, "type": event_type, "content": content, "txn_id": row.txn_id})
        return row.txn_id
