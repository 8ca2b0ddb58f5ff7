"""The dispatcher: a timeline event becomes an ``IncomingEvent``, skipped when it is the bot's own
or already handled, then goes through the observers and (for a command) the router, in one
database session that also marks it handled. Also here: receipts, and messages the bot could not
decrypt (a notice, a key request, and a retry when keys arrive).

What a decrypted event may be: a megolm plaintext needs only ``type`` and ``content``, so anyone in
a room can encrypt a "membership change" or a "redaction". State and redactions count only when
they arrive in clear, as the homeserver checked them; a decrypted event of any other type than a
message, reaction, sticker or poll event is dropped (and counted)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import traceback
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Awaitable, Iterable, Protocol

from nio import AsyncClient, LocalProtocolError, MegolmEvent, ReceiptEvent
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot import metrics
from bot.context import Context, IncomingEvent, OffLock, Services
from bot.contracts import INLINE_SCAN_CHARS
from bot.db import Database, utcnow
from bot.feature import Observer
from bot.models import HandledEvent, ManagedRoom, Role, RoomKind, UndecryptableNotice
from bot.outbox import enqueue, notice_content
from bot.people import language_of, resolve_role
from bot.ratelimit import CommandLimiter
from bot.replies import without_reply_fallback
from bot.roomdir import toolbox_room_of
from bot.roomstate import RoomState
from bot.router import PRIVATE_ROOMS, Router, dispatch_command
from bot.speaker import Speaker

log = logging.getLogger(__name__)

HINT_INTERVAL_S = 30 * 60  # a plain message gets the "commands start with !" hint this often per room
UNDECRYPTABLE_KEPT_S = 3600  # how long an undecryptable event waits for its key
UNDECRYPTABLE_NOTICE_S = 3600  # at most one "I couldn't read that" per person in this time
MAX_AWAITING_KEYS = 1000  # undecryptable events kept for a retry (the oldest go first)
MAX_HINTED_ROOMS = 10_000  # rooms remembered for the plain-text hint
# The plain-text hint for those who are not newcomers (the default names ``!start``).
_PLAIN_TEXT_HINTS = {Role.PROVIDER: "router.plain_text_hint_provider", Role.CONSULTANT: "router.plain_text_hint_staff",
                     Role.ADMIN: "router.plain_text_hint_staff"}

# The only types a decrypted (megolm) event may have; state and redactions must come in clear.
POLL_TYPES = frozenset(f"{ns}.{kind}" for ns in ("m.poll", "org.matrix.msc3381.poll")
                       for kind in ("start", "response", "end"))
DECRYPTED_TYPES = frozenset({"m.room.message", "m.reaction", "m.sticker"}) | POLL_TYPES


class Outbox(Protocol):
    """What the dispatcher needs of the sender."""

    def wake(self) -> None: ...

    def note_cause(self, txn_ids: Iterable[str], received_at: float) -> None: ...


@dataclass
class _Outcome:
    txn_ids: list[str] = field(default_factory=list)
    command: str | None = None
    counted: bool = True  # False when refused for want of encryption
    deferred: list[OffLock] = field(default_factory=list)  # slow work to do after commit, unlocked


def prune_handled(db: Database, older_than: timedelta = timedelta(days=30)) -> None:
    with db.session() as session:
        session.execute(delete(HandledEvent).where(HandledEvent.handled_at < utcnow() - older_than))


def _reply_error(ctx: Context) -> None:
    ctx.reply("router.error")


def log_failure(event: IncomingEvent, exc: BaseException) -> None:
    # The traceback's frames only (file, line, function): exception messages can carry input.
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("handling %s (%s) in %s failed with %s\n%s", event.event_id, event.type, event.room_id,
              type(exc).__name__, frames)


class Dispatcher:
    def __init__(self, db: Database, client: AsyncClient, services: Services, router: Router, rooms: RoomState,
                 speaker: Speaker, outbox: Outbox, db_lock: asyncio.Lock) -> None:
        self.db = db
        self.client = client
        self.services = services
        self.settings = services.settings
        self.router = router
        self.rooms = rooms
        self.speaker = speaker
        self.outbox = outbox
        self.db_lock = db_lock
        self._hinted_at: dict[str, float] = {}  # room -> when a plain message there last got the hint
        self._pending_undecrypted: dict[str, tuple[str, MegolmEvent, float]] = {}
        rate = self.settings.bot.command_rate
        self.limiter = CommandLimiter(rate.burst, rate.per_minute) if rate.enabled else None
        self._background: set[asyncio.Task[None]] = set()  # work deferred by handlers (Context.off_lock)

    # --- timeline events -----------------------------------------------------------------------
    async def timeline_event(self, room_id: str, event: Any) -> None:
        if getattr(event, "sender", None) == self.client.user_id:
            return
        if isinstance(event, MegolmEvent):
            await self.undecryptable(room_id, event)
            return
        source = getattr(event, "source", None)
        if not isinstance(source, dict) or not isinstance(source.get("type"), str):
            return
        decrypted = bool(getattr(event, "decrypted", False))
        if decrypted and source["type"] not in DECRYPTED_TYPES:
            # Its type is the sender's claim, not a fact: a forged membership change or redaction.
            metrics.DECRYPTED_DROPPED.inc()
            log.warning("dropped %s in %s: an encrypted event may not be state or a redaction",
                        getattr(event, "event_id", "?"), room_id)
            return
        content = source.get("content")
        incoming = IncomingEvent(
            event_id=str(source.get("event_id") or getattr(event, "event_id", "")),
            room_id=room_id,
            sender=str(source.get("sender") or getattr(event, "sender", "")),
            type=source["type"],
            content=content if isinstance(content, dict) else {},
            origin_server_ts=int(source.get("origin_server_ts") or 0),
            state_key=source.get("state_key") if isinstance(source.get("state_key"), str) and not decrypted else None,
            redacts=_redacts(source) if source["type"] == "m.room.redaction" and not decrypted else None,
            encrypted=decrypted,
        )
        if not incoming.event_id or not incoming.sender:
            return
        await self.handle_event(incoming)

    async def handle_event(self, event: IncomingEvent) -> None:
        """Observers, then the router; marks the event handled in the same transaction."""
        received = time.time()
        if event.type == "m.room.message":
            # Once, before any observer or the router reads the body: a reply's quote of the
            # message it answers is not the replier's own text.
            content = without_reply_fallback(event.content)
            if content is not event.content:
                event = dataclasses.replace(event, content=content)
        if event.type == "m.room.message" and len(event.body) > INLINE_SCAN_CHARS:
            # A long text is read in a worker thread before the lock: the loop and every other
            # person's event go on meanwhile.
            await asyncio.to_thread(self._scan, event)
        async with self.db_lock:
            with self.db.session() as session:
                outcome = await self._handle(session, event)
            if outcome is None:
                return
            if outcome.deferred:
                self._spawn(self._run_deferred(event, outcome.deferred, received))
            if not outcome.counted:
                self.outbox.wake()
                return
            metrics.EVENTS_HANDLED.labels(type=event.type).inc()
            if outcome.command:
                metrics.COMMANDS.labels(command=outcome.command).inc()
            if outcome.txn_ids:
                self.outbox.note_cause(outcome.txn_ids, received)
                self.outbox.wake()

    async def _handle(self, session: Session, event: IncomingEvent) -> _Outcome | None:
        """The whole round trip in one session; None when nothing was to be done."""
        if session.get(HandledEvent, event.event_id) is not None:
            return None
        if self._too_old(event):
            return await self._handle_late(session, event)
        is_message = event.type == "m.room.message"
        if is_message and event.content.get("msgtype") == "m.notice":
            return None  # other bots' notices: never answer them (no loops)
        observers = self.observers_for(event.type)
        is_command = is_message and self.router.is_command(event.body.strip())
        # Someone writing to the bot without the prefix ("hi, can you help me?") gets a hint, at
        # most every half hour per room, unless something else already answered.
        may_hint = (is_message and not is_command and event.content.get("msgtype") == "m.text"
                    and time.time() - self._hinted_at.get(event.room_id, 0) > HINT_INTERVAL_S)
        if not observers and not is_command and not may_hint:
            return None
        if not self.rooms.encrypted(event.room_id):
            # Nothing personal may travel unencrypted: say so, and do nothing else.
            if is_command:
                self.context(session, event).reply("router.needs_encryption")
            elif is_message:
                self._public_crisis_reply(session, event)
            session.add(HandledEvent(event_id=event.event_id, room_id=event.room_id))
            return _Outcome(counted=False)
        outcome = _Outcome()
        try:
            ctx = self.context(session, event)
            for observer in observers:
                await observer(ctx)
            if is_command:
                name = await dispatch_command(self.router, ctx, self.limiter)
                outcome.command = metrics.command_label(name, ctx.role) if name else None
            elif may_hint and not ctx.sent and ctx.room_kind in (RoomKind.DIRECT, RoomKind.TOOLBOX):
                # A provider or a consultant is not a newcomer to enrol: point them to their own work.
                ctx.reply(_PLAIN_TEXT_HINTS.get(ctx.role, "router.plain_text_hint"))
                self._note_hint(event.room_id)
            session.add(HandledEvent(event_id=event.event_id, room_id=event.room_id))
            outcome.txn_ids = [m["txn_id"] for m in ctx.sent]
            session.commit()  # here, so that a failing commit takes the error path too
            outcome.deferred = ctx.deferred or []
        except Exception as exc:  # noqa: BLE001 - one bad event must not stop the bot
            log_failure(event, exc)
            session.rollback()  # the same session, from a clean transaction
            outcome = _Outcome(command=outcome.command)  # a command that ran counts, as before
            if session.get(HandledEvent, event.event_id) is None:
                ctx = self.context(session, event)
                if is_command:
                    ctx.reply("router.error")
                session.add(HandledEvent(event_id=event.event_id, room_id=event.room_id))
                outcome.txn_ids = [m["txn_id"] for m in ctx.sent]
        return outcome

    def _public_crisis_reply(self, session: Session, event: IncomingEvent) -> None:
        """In a room without encryption, a crisis message still gets the public help-line
        numbers, in that room, and nothing else (no plan, no alert: nothing personal)."""
        say = self.speaker.say_to(session, event.sender)
        for f in self.services.features:
            for reply in f.public_crisis_replies:
                text = reply(self.settings, say, event.body)
                if text:
                    log.info("crisis match on %s in %s (unencrypted: numbers only)", event.event_id, event.room_id)
                    self.context(session, event).reply_text(text)
                    return

    def _note_hint(self, room_id: str) -> None:
        now = time.time()
        self._hinted_at[room_id] = now
        if len(self._hinted_at) > MAX_HINTED_ROOMS:
            self._hinted_at = {r: t for r, t in self._hinted_at.items() if now - t <= HINT_INTERVAL_S}
    async def _handle_late(self, session: Session, event: IncomingEvent) -> _Outcome | None:
        """An event older than ``bot.max_event_age_seconds`` (first seen after an outage) is not
        answered as usual; only a message goes to the features' late observers, so that a crisis
        message still gets its reply, marked late."""
        log.info("late: %s in %s is older than bot.max_event_age_seconds", event.event_id, event.room_id)
        observers = [o for f in self.services.features for o in f.late_observers]
        outcome = None
        if (observers and event.type == "m.room.message" and event.content.get("msgtype") != "m.notice"
                and self.rooms.encrypted(event.room_id)):
            try:
                ctx = self.context(session, event)
                for observer in observers:
                    await observer(ctx)
                outcome = _Outcome(txn_ids=[m["txn_id"] for m in ctx.sent])
            except Exception as exc:  # noqa: BLE001 - one bad event must not stop the bot
                log_failure(event, exc)
                session.rollback()
                outcome = None
        session.merge(HandledEvent(event_id=event.event_id, room_id=event.room_id))
        return outcome

    def _scan(self, event: IncomingEvent) -> None:
        """Every feature's text scans of the body (in a worker thread; see ``TextScan``)."""
        body = event.body
        for f in self.services.features:
            for scan in f.text_scans:
                event.scans[scan.name] = scan.read(self.settings, body)

    # --- work deferred past the lock ------------------------------------------------------------
    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _run_deferred(self, event: IncomingEvent, jobs: list[OffLock], received: float) -> None:
        """What a handler left for after commit: each job runs without the lock (rendering in a
        worker thread, uploads), then queues its messages in a transaction of its own."""
        for work in jobs:
            try:
                finish = await work()
            except Exception as exc:  # noqa: BLE001 - reported to the person like any failure
                log_failure(event, exc)
                finish = _reply_error
            async with self.db_lock:
                with self.db.session() as session:
                    ctx = self.context(session, event)
                    try:
                        finish(ctx)
                        session.commit()
                    except Exception as exc:  # noqa: BLE001
                        log_failure(event, exc)
                        session.rollback()
                        ctx.sent.clear()
                        _reply_error(ctx)
                        session.commit()
            if ctx.sent:
                self.outbox.note_cause([m["txn_id"] for m in ctx.sent], received)
                self.outbox.wake()

    async def drain(self, timeout: float = 20.0) -> None:
        """Let deferred work finish (at stop); what is still running after ``timeout`` is cancelled."""
        if not self._background:
            return
        _, pending = await asyncio.wait(set(self._background), timeout=timeout)
        for task in pending:
            task.cancel()

    def observers_for(self, event_type: str) -> list[Observer]:
        found: list[Observer] = []
        for f in self.services.features:
            found += f.message_observers if event_type == "m.room.message" else f.event_observers.get(event_type, [])
        return found

    def context(self, session: Session, event: IncomingEvent) -> Context:
        room = session.get(ManagedRoom, event.room_id)
        return Context(
            services=self.services,
            session=session,
            event=event,
            role=resolve_role(session, self.settings, event.sender),
            room_kind=self.rooms.kind(room, event.room_id),
            room=room,
            lang=language_of(session, self.settings, event.sender),
            deferred=[],
        )

    def _too_old(self, event: IncomingEvent) -> bool:
        if not event.origin_server_ts:
            return False
        age = time.time() - event.origin_server_ts / 1000
        return age > self.settings.bot.max_event_age_seconds

    # --- receipts ------------------------------------------------------------------------------
    async def receipts(self, room_id: str, eph: ReceiptEvent) -> None:
        """Each read receipt through the ``m.receipt`` observers, one session per receipt."""
        observers = self.observers_for("m.receipt")
        if not observers:
            return
        async with self.db_lock:
            for receipt in eph.receipts:
                event = IncomingEvent(event_id=f"receipt:{receipt.event_id}:{receipt.user_id}", room_id=room_id,
                                      sender=receipt.user_id, type="m.receipt",
                                      content={"event_id": receipt.event_id, "receipt_type": receipt.receipt_type,
                                               "ts": receipt.timestamp})
                try:
                    with self.db.session() as session:
                        ctx = self.context(session, event)
                        for observer in observers:
                            await observer(ctx)
                except Exception as exc:  # noqa: BLE001
                    log_failure(event, exc)

    # --- undecryptable messages ----------------------------------------------------------------
    @property
    def awaiting_keys(self) -> bool:
        return bool(self._pending_undecrypted)

    async def undecryptable(self, room_id: str, event: MegolmEvent) -> None:
        """Say the message could not be read, at most once an hour per person, and never in a
        shared room (there, privately in their toolbox room if they have one); ask for its key
        and keep the event (a bounded number of them) to try again when keys arrive."""
        metrics.UNDECRYPTABLE.inc()
        log.info("could not decrypt %s in %s (session %s)", event.event_id, room_id, event.session_id)
        self._keep_for_retry(event.event_id, room_id, event)
        async with self.db_lock:
            with self.db.session() as session:
                if session.get(HandledEvent, event.event_id) is not None:
                    return
                now = utcnow()
                recent = session.scalar(select(UndecryptableNotice.id).where(
                    UndecryptableNotice.sender == event.sender,
                    UndecryptableNotice.noticed_at > now - timedelta(seconds=UNDECRYPTABLE_NOTICE_S)).limit(1))
                if recent is None:
                    kind = self.rooms.kind(session.get(ManagedRoom, room_id), room_id)
                    target: str | None = room_id
                    key = "router.undecryptable"
                    if kind not in PRIVATE_ROOMS:
                        target, key = toolbox_room_of(session, event.sender), "router.undecryptable_elsewhere"
                    if target is not None:
                        row = session.scalar(select(UndecryptableNotice).where(
                            UndecryptableNotice.sender == event.sender,
                            UndecryptableNotice.session_id == event.session_id))
                        if row is None:
                            session.add(UndecryptableNotice(sender=event.sender, session_id=event.session_id,
                                                            noticed_at=now))
                        else:
                            row.noticed_at = now
                        lang = self.speaker.lang_of(session, event.sender)
                        enqueue(session, target, notice_content(self.speaker.t(lang, key)))
                        self.outbox.wake()
        try:
            await self.client.request_room_key(event)
        except LocalProtocolError:
            pass  # already requested

    def _keep_for_retry(self, event_id: str, room_id: str, event: MegolmEvent) -> None:
        now = time.time()
        pending = self._pending_undecrypted
        for old_id, (_, _, first_seen) in list(pending.items()):
            if now - first_seen <= UNDECRYPTABLE_KEPT_S:
                break  # kept in arrival order: the rest are newer
            del pending[old_id]
        while len(pending) >= MAX_AWAITING_KEYS:
            del pending[next(iter(pending))]
        pending[event_id] = (room_id, event, now)

    async def retry_undecrypted(self) -> None:
        for event_id, (room_id, event, first_seen) in list(self._pending_undecrypted.items()):
            try:
                decrypted = self.client.decrypt_event(event)
            except Exception:  # noqa: BLE001 - still no key
                if time.time() - first_seen > UNDECRYPTABLE_KEPT_S:
                    self._pending_undecrypted.pop(event_id, None)
                continue
            self._pending_undecrypted.pop(event_id, None)
            log.info("decrypted %s after its key arrived", event_id)
            await self.timeline_event(room_id, decrypted)


def _redacts(source: dict[str, Any]) -> str | None:
    """The event a redaction removes (room version 11 moved ``redacts`` into the content)."""
    content = source.get("content")
    redacts = source.get("redacts") or (content.get("redacts") if isinstance(content, dict) else None)
    return redacts if isinstance(redacts, str) else None
