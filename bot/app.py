"""The running bot: start-up, the sync loop, the event dispatcher and the outbox sender."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import traceback
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, AsyncIterator

import aiohttp
from nio import (
    AsyncClient,
    ForwardedRoomKeyEvent,
    Event,
    InviteMemberEvent,
    LocalProtocolError,
    MatrixRoom,
    MegolmEvent,
    ReceiptEvent,
    RoomCreateEvent,
    RoomGetStateResponse,
    RoomKeyEvent,
    RoomMemberEvent,
    RoomSendResponse,
    SyncResponse,
)
from sqlalchemy import delete, func, select, update

from bot import metrics
from bot.config import Settings
from bot.context import Context, IncomingEvent, Services
from bot.contracts import check_requirements
from bot.crosssign import ensure_cross_signed
from bot.db import Database, FieldCipher, install_cipher, load_or_create_key, utcnow
from bot.feature import Feature
from bot.features import load_features
from bot.i18n import Catalogue
from bot.matrix import NioPort, StartupError, connect
from bot.migrate import upgrade
from bot.models import BotState, HandledEvent, ManagedRoom, OutboxMessage, RoomKind, SentEvent, UndecryptableNotice
from bot.outbox import enqueue, notice_content
from bot.people import language_of, resolve_role
from bot.router import Router, dispatch_command

log = logging.getLogger(__name__)

SYNC_TIMEOUT_MS = 30_000
SYNC_FILTER = {"room": {"timeline": {"limit": 100}, "state": {"lazy_load_members": False}}}
MAX_SEND_ATTEMPTS = 8  # for permanent refusals (not rate limits or outages)
OUTBOX_WAVE = 100  # queued messages looked at per sending wave
RECORD_BATCH, RECORD_EVERY_S = 25, 1.0  # sent messages are recorded this many at once, or this often
HINT_INTERVAL_S = 30 * 60  # a plain message gets the "commands start with !" hint this often per room


class KeyGate:
    """Device-key work (queries, claims) is exclusive; sends are shared. A key query that
    finishes while a room's group session is being shared would invalidate nothing (the session
    is not marked shared yet) and the new device would never get the key, so no query runs while
    a send is in flight. Waiting queries go before new sends."""

    def __init__(self) -> None:
        self._cond = asyncio.Condition()
        self._senders = 0
        self._exclusive = False
        self._waiting = 0

    @asynccontextmanager
    async def shared(self) -> AsyncIterator[None]:
        async with self._cond:
            await self._cond.wait_for(lambda: not self._exclusive and not self._waiting)
            self._senders += 1
        try:
            yield
        finally:
            async with self._cond:
                self._senders -= 1
                self._cond.notify_all()

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        async with self._cond:
            self._waiting += 1
            try:
                await self._cond.wait_for(lambda: not self._exclusive and self._senders == 0)
            finally:
                self._waiting -= 1
            self._exclusive = True
        try:
            yield
        finally:
            async with self._cond:
                self._exclusive = False
                self._cond.notify_all()


class App:
    """One ReConnect bot. ``await app.start()`` returns once the first sync is handled.

    The content key is process-wide (a column type cannot reach per-app state), so bots that
    run side by side in one process (tests) must share one key file.
    """

    _running_keys: dict[int, bytes] = {}

    def __init__(self, settings: Settings, features: list[Feature] | None = None) -> None:
        self.settings = settings
        self.features = features if features is not None else load_features()
        self.catalogue = Catalogue()
        self.router = Router(settings.bot.command_prefix)
        for f in self.features:
            if f.locales is not None:
                self.catalogue.load_dir(f.locales)
            self.router.add(f.commands.commands)
        self.db: Database | None = None
        self.client: AsyncClient | None = None
        self.port: NioPort | None = None
        self.services: Services | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._outbox_wakeup = asyncio.Event()
        # One writer at a time on the event loop: a handler keeps its transaction open across
        # awaits (Matrix calls), and SQLite has a single write lock. Background writers on the
        # loop (the outbox sender, feature tasks) take this lock instead of blocking the loop.
        self.db_lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._pending_undecrypted: dict[str, tuple[str, MegolmEvent, float]] = {}
        self._received_at: dict[str, float] = {}  # reply txn -> when its cause arrived
        self._hinted_at: dict[str, float] = {}  # room -> when a plain message there last got the hint
        self._keys = KeyGate()  # device-key queries and claims vs. sends
        self._complete_rooms: set[str] = set()  # rooms whose full state nio holds (see ensure_room)
        self.last_sync_at: float | None = None
        self.sync_ok = False

    # --- helpers for features ------------------------------------------------------------------
    def t(self, lang: str, key: str, **params: Any) -> str:
        params.setdefault("p", self.settings.bot.command_prefix)
        return self.catalogue.t(lang, key, **params)

    def lang_of(self, session, user_id: str) -> str:
        return language_of(session, self.settings, user_id)

    def wake_outbox(self) -> None:
        self._outbox_wakeup.set()

    # --- life cycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        check_requirements(self.features)  # one line naming what is missing, before any work
        s = self.settings
        s.storage.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = load_or_create_key(s.storage.resolved_key_file())
        if any(other != key for app_id, other in App._running_keys.items() if app_id != id(self)):
            raise StartupError("another bot runs in this process with a different content key; "
                               "give both the same storage.encryption_key_file")
        App._running_keys[id(self)] = key
        install_cipher(FieldCipher(key))
        self.db = Database(s.storage.resolved_database_url())
        await asyncio.to_thread(upgrade, self.db.engine, self.features)

        with self.db.session() as session:
            self.client = await connect(s, session)
        self.port = NioPort(self.client)
        self.services = Services(settings=s, catalogue=self.catalogue, port=self.port, router=self.router,
                                 features=self.features, app=self)
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        with self.db.session() as session:
            await ensure_cross_signed(self.port.http, session, s.bot.user_id, self.client.device_id, s.bot.password)

        await self._set_profile()
        self.prune_handled()
        await self._sync_once(first=True)
        for f in self.features:
            for hook in f.on_start:
                await hook(self)
        self._tasks = [
            asyncio.create_task(self._sync_forever(), name="sync"),
            asyncio.create_task(self._send_forever(), name="outbox"),
        ]
        self.wake_outbox()
        log.info("ReConnect is running as %s (device %s)", s.bot.user_id, self.client.device_id)

    async def _set_profile(self) -> None:
        assert self.client is not None
        wanted = self.settings.bot.display_name
        current = await self.client.get_displayname(self.client.user_id)
        if getattr(current, "displayname", None) != wanted:
            await self.client.set_displayname(wanted)

    async def stop(self) -> None:
        """Stop cleanly. Never logs out: the device and its keys must survive restarts."""
        self._stopping.set()
        for f in reversed(self.features):
            for hook in f.on_stop:
                try:
                    await hook(self)
                except Exception:  # noqa: BLE001 - stopping goes on
                    log.exception("a stop hook of %s failed", f.name)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        self._tasks = []
        App._running_keys.pop(id(self), None)
        if self.client is not None:
            await self.client.close()
        if self.db is not None:
            self.db.dispose()

    async def run_forever(self) -> None:
        await self.start()
        try:
            await self._stopping.wait()
        finally:
            await self.stop()

    # --- sync ----------------------------------------------------------------------------------
    async def _sync_forever(self) -> None:
        backoff = 1.0
        while not self._stopping.is_set():
            try:
                ok = await self._sync_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the loop must survive anything
                log.warning("sync failed (%s); retrying in %.0f s", type(exc).__name__, backoff)
                ok = False
            if ok:
                if not self.sync_ok:
                    log.info("connected to the homeserver")
                self.sync_ok, backoff = True, 1.0
                continue
            metrics.SYNC_FAILURES.inc()
            if self.sync_ok:
                log.warning("the homeserver at %s is unreachable; will keep trying", self.settings.homeserver.url)
            self.sync_ok = False
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)

    async def _sync_once(self, first: bool = False) -> bool:
        assert self.client is not None and self.db is not None
        with self.db.session() as session:
            row = session.get(BotState, "sync_token")
            since = row.value if row else None
        # Incremental from the saved token, also at start: a full-state sync of every room costs
        # seconds per thousand rooms. Rooms quiet since the last run come back on demand
        # (ensure_room); nio keeps which rooms are encrypted in its store.
        resp = await self.client.sync(timeout=0 if first else SYNC_TIMEOUT_MS, since=since,
                                      sync_filter=SYNC_FILTER)
        if not isinstance(resp, SyncResponse):
            log.warning("sync refused by the homeserver (%s)", getattr(resp, "status_code", "?"))
            return False
        for room_id, info in resp.rooms.join.items():
            # An initial sync, or a room joined since the token, comes with its whole state.
            if since is None or any(isinstance(e, RoomCreateEvent) for e in (*info.state, *info.timeline.events)):
                self._complete_rooms.add(room_id)
        await self._after_sync_keys()
        await self._handle_sync(resp)
        async with self.db_lock:
            with self.db.session() as session:
                session.merge(BotState(key="sync_token", value=resp.next_batch))
        self.last_sync_at = time.time()
        return True

    async def _after_sync_keys(self) -> None:
        client = self.client
        assert client is not None
        await client.send_to_device_messages()
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys or client.should_claim_keys:  # (the gate only when there is work)
            async with self._keys.exclusive():
                if client.should_query_keys:
                    await client.keys_query()
                if client.should_claim_keys:
                    await client.keys_claim(client.get_users_for_key_claiming())

    async def _handle_sync(self, resp: SyncResponse) -> None:
        for room_id, info in resp.rooms.invite.items():
            await self._handle_invite(room_id, info.invite_state)
        got_keys = any(isinstance(e, (RoomKeyEvent, ForwardedRoomKeyEvent)) for e in resp.to_device_events)
        if got_keys and self._pending_undecrypted:
            await self._retry_undecrypted()
        for room_id, info in resp.rooms.join.items():
            if any(getattr(e, "sender", None) != self.client.user_id for e in info.timeline.events):
                try:  # kind, encryption and members before handling
                    await self.ensure_room(room_id)
                except Exception as exc:  # noqa: BLE001 - handled with what nio knows (a room it
                    # cannot place counts as "other", where nothing private is answered)
                    log.warning("could not read the state of %s (%s)", room_id, type(exc).__name__)
            for event in info.timeline.events:
                await self._handle_timeline_event(room_id, event)
            for eph in info.ephemeral:
                if isinstance(eph, ReceiptEvent):
                    await self._handle_receipts(room_id, eph)

    async def ensure_room(self, room_id: str) -> bool:
        """Make sure nio holds the room's full state (members, encryption), fetching it once if
        the room has not been in a sync with its state since start. False if the bot cannot
        read the room (not a member)."""
        return await self._room_state_refusal(room_id) is None

    async def _room_state_refusal(self, room_id: str) -> str | None:
        """``ensure_room``'s work: None when the state is held, else the homeserver's error code
        (\"?\" when it gave none)."""
        client = self.client
        assert client is not None
        if room_id in self._complete_rooms and room_id in client.rooms:
            return None
        for _ in range(3):
            # A sync handled while the state was on its way may be newer than the snapshot (a
            # member who left would come back): then read it again.
            position = client.next_batch
            resp = await client.room_get_state(room_id)
            if not isinstance(resp, RoomGetStateResponse):
                return getattr(resp, "status_code", None) or "?"
            if client.next_batch == position:
                break
        room = client.rooms.get(room_id)
        if room is None:
            room = client.rooms[room_id] = MatrixRoom(room_id, client.user_id, room_id in client.encrypted_rooms)
        for raw in resp.events:
            event = Event.parse_event(raw)
            if isinstance(event, RoomMemberEvent):
                room.handle_membership(event)
            elif isinstance(event, Event):
                room.handle_event(event)
        room.members_synced = True
        if room.encrypted:
            client.encrypted_rooms.add(room_id)
            if client.store is not None:
                client.store.save_encrypted_rooms({room_id})
            if client.olm is not None:
                client.olm.update_tracked_users(room)
        self._complete_rooms.add(room_id)
        return None

    # --- invites -------------------------------------------------------------------------------
    def may_invite(self, user_id: str) -> bool:
        allowed = self.settings.bot.accept_invites_from or [self.settings.bot.server_name]
        server = user_id.split(":", 1)[1] if ":" in user_id else ""
        return "*" in allowed or server in allowed

    async def _handle_invite(self, room_id: str, invite_state: list[Any]) -> None:
        assert self.client is not None
        inviter = None
        for ev in invite_state:
            if isinstance(ev, InviteMemberEvent) and ev.state_key == self.client.user_id and ev.membership == "invite":
                inviter = ev.sender
        if inviter is not None and self.may_invite(inviter):
            resp = await self.client.join(room_id)
            log.info("joined %s on an invite (%s)", room_id, type(resp).__name__)
        else:
            await self.client.room_leave(room_id)
            log.info("declined an invite to %s from a server the bot does not serve", room_id)

    # --- events --------------------------------------------------------------------------------
    def _room_kind(self, room: ManagedRoom | None, room_id: str) -> RoomKind:
        if room is not None:
            return RoomKind(room.kind)
        nio_room = self.client.rooms.get(room_id) if self.client else None
        # Only with the room's whole state: a partly known room may show fewer members than it has.
        if nio_room is not None and room_id in self._complete_rooms and nio_room.member_count <= 2:
            return RoomKind.DIRECT
        return RoomKind.OTHER

    async def _handle_timeline_event(self, room_id: str, event: Any) -> None:
        assert self.client is not None
        if getattr(event, "sender", None) == self.client.user_id:
            return
        if isinstance(event, MegolmEvent):
            await self._handle_undecryptable(room_id, event)
            return
        source = getattr(event, "source", None)
        if not isinstance(source, dict) or not isinstance(source.get("type"), str):
            return
        incoming = IncomingEvent(
            event_id=str(source.get("event_id") or getattr(event, "event_id", "")),
            room_id=room_id,
            sender=str(source.get("sender") or getattr(event, "sender", "")),
            type=source["type"],
            content=source.get("content") if isinstance(source.get("content"), dict) else {},
            origin_server_ts=int(source.get("origin_server_ts") or 0),
            state_key=source.get("state_key") if isinstance(source.get("state_key"), str) else None,
            redacts=source.get("redacts") or (source.get("content") or {}).get("redacts"),
        )
        if not incoming.event_id or not incoming.sender:
            return
        await self.handle_event(incoming)

    async def handle_event(self, event: IncomingEvent) -> None:
        """Observers, then the router; marks the event handled in the same transaction."""
        async with self.db_lock:
            await self._handle_event(event)

    async def _handle_event(self, event: IncomingEvent) -> None:
        assert self.db is not None and self.services is not None
        received = time.time()
        with self.db.session() as session:
            if session.get(HandledEvent, event.event_id) is not None:
                return
        if self._too_old(event):
            with self.db.session() as session:
                session.merge(HandledEvent(event_id=event.event_id, room_id=event.room_id))
            log.info("skipped %s in %s: older than bot.max_event_age_seconds", event.event_id, event.room_id)
            return
        is_message = event.type == "m.room.message"
        if is_message and event.content.get("msgtype") == "m.notice":
            return  # other bots' notices: never answer them (no loops)
        observers = self._observers_for(event.type)
        is_command = is_message and self.router.is_command(event.body.strip())
        # Someone writing to the bot without the prefix ("hi, can you help me?") gets a hint, at
        # most every half hour per room, unless something else already answered.
        may_hint = (is_message and not is_command and event.content.get("msgtype") == "m.text"
                    and time.time() - self._hinted_at.get(event.room_id, 0) > HINT_INTERVAL_S)
        if not observers and not is_command and not may_hint:
            return
        if not self._encrypted(event.room_id):
            # Nothing personal may travel unencrypted: say so, and do nothing else.
            with self.db.session() as session:
                if is_command:
                    ctx = self._context(session, event)
                    ctx.reply("router.needs_encryption")
                session.add(HandledEvent(event_id=event.event_id, room_id=event.room_id))
            self.wake_outbox()
            return
        command_name: str | None = None
        try:
            with self.db.session() as session:
                ctx = self._context(session, event)
                for observer in observers:
                    await observer(ctx)
                if is_command:
                    command_name = await dispatch_command(self.router, ctx)
                elif may_hint and not ctx.sent and ctx.room_kind in (RoomKind.DIRECT, RoomKind.TOOLBOX):
                    ctx.reply("router.plain_text_hint")
                    self._hinted_at[event.room_id] = time.time()
                session.add(HandledEvent(event_id=event.event_id, room_id=event.room_id))
                sent = list(ctx.sent)
        except Exception as exc:  # noqa: BLE001 - one bad event must not stop the bot
            self._log_failure(event, exc)
            with self.db.session() as session:
                if session.get(HandledEvent, event.event_id) is None:
                    ctx = self._context(session, event)
                    if is_command:
                        ctx.reply("router.error")
                    session.add(HandledEvent(event_id=event.event_id, room_id=event.room_id))
                    sent = list(ctx.sent)
                else:
                    sent = []
        metrics.EVENTS_HANDLED.labels(type=event.type).inc()
        if command_name:
            metrics.COMMANDS.labels(command=command_name).inc()
        if sent:
            for message in sent:
                self._received_at[message["txn_id"]] = received
            self.wake_outbox()

    def _encrypted(self, room_id: str) -> bool:
        room = self.client.rooms.get(room_id) if self.client else None
        return bool(room is not None and room.encrypted)

    def _observers_for(self, event_type: str) -> list[Any]:
        found = []
        for f in self.features:
            found += f.message_observers if event_type == "m.room.message" else f.event_observers.get(event_type, [])
        return found

    def _context(self, session, event: IncomingEvent) -> Context:
        assert self.services is not None
        room = session.get(ManagedRoom, event.room_id)
        return Context(
            services=self.services,
            session=session,
            event=event,
            role=resolve_role(session, self.settings, event.sender),
            room_kind=self._room_kind(room, event.room_id),
            room=room,
            lang=language_of(session, self.settings, event.sender),
        )

    def _too_old(self, event: IncomingEvent) -> bool:
        if not event.origin_server_ts:
            return False
        age = time.time() - event.origin_server_ts / 1000
        return age > self.settings.bot.max_event_age_seconds

    @staticmethod
    def _log_failure(event: IncomingEvent, exc: BaseException) -> None:
        # The traceback's frames only (file, line, function): exception messages can carry input.
        frames = "".join(traceback.format_tb(exc.__traceback__))
        log.error("handling %s (%s) in %s failed with %s\n%s", event.event_id, event.type, event.room_id,
                  type(exc).__name__, frames)

    async def _handle_receipts(self, room_id: str, eph: ReceiptEvent) -> None:
        observers = self._observers_for("m.receipt")
        if not observers:
            return
        async with self.db_lock:
            await self._observe_receipts(room_id, eph, observers)

    async def _observe_receipts(self, room_id: str, eph: ReceiptEvent, observers: list[Any]) -> None:
        assert self.db is not None
        for receipt in eph.receipts:
            event = IncomingEvent(event_id=f"receipt:{receipt.event_id}:{receipt.user_id}", room_id=room_id,
                                  sender=receipt.user_id, type="m.receipt",
                                  content={"event_id": receipt.event_id, "receipt_type": receipt.receipt_type,
                                           "ts": receipt.timestamp})
            try:
                with self.db.session() as session:
                    ctx = self._context(session, event)
                    for observer in observers:
                        await observer(ctx)
            except Exception as exc:  # noqa: BLE001
                self._log_failure(event, exc)

    # --- undecryptable messages --------------------------------------------------------------
    async def _handle_undecryptable(self, room_id: str, event: MegolmEvent) -> None:
        assert self.client is not None and self.db is not None
        metrics.UNDECRYPTABLE.inc()
        log.info("could not decrypt %s in %s (session %s)", event.event_id, room_id, event.session_id)
        self._pending_undecrypted[event.event_id] = (room_id, event, time.time())
        async with self.db_lock:
            with self.db.session() as session:
                if session.get(HandledEvent, event.event_id) is not None:
                    return
                seen = session.scalar(select(UndecryptableNotice).where(
                    UndecryptableNotice.sender == event.sender, UndecryptableNotice.session_id == event.session_id))
                if seen is None:
                    session.add(UndecryptableNotice(sender=event.sender, session_id=event.session_id))
                    lang = language_of(session, self.settings, event.sender)
                    enqueue(session, room_id, notice_content(self.t(lang, "router.undecryptable")))
                    self.wake_outbox()
        try:
            await self.client.request_room_key(event)
        except LocalProtocolError:
            pass  # already requested

    async def _retry_undecrypted(self) -> None:
        assert self.client is not None
        for event_id, (room_id, event, first_seen) in list(self._pending_undecrypted.items()):
            try:
                decrypted = self.client.decrypt_event(event)
            except Exception:  # noqa: BLE001 - still no key
                if time.time() - first_seen > 3600:
                    self._pending_undecrypted.pop(event_id, None)
                continue
            self._pending_undecrypted.pop(event_id, None)
            log.info("decrypted %s after its key arrived", event_id)
            await self._handle_timeline_event(room_id, decrypted)

    # --- outbox --------------------------------------------------------------------------------
    async def _send_forever(self) -> None:
        while not self._stopping.is_set():
            try:
                sent_any = await self._send_batch()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001
                log.warning("outbox sender hit %s; retrying", type(exc).__name__)
                await asyncio.sleep(1)
                continue
            if not sent_any:
                self._outbox_wakeup.clear()
                try:
                    await asyncio.wait_for(self._outbox_wakeup.wait(), timeout=1.0)
                except asyncio.TimeoutError:
                    pass

    async def _send_batch(self) -> bool:
        """One wave: the oldest queued messages, up to ``send_concurrency`` rooms at a time, each
        room's messages in order; the bookkeeping for every message sent is one transaction."""
        assert self.db is not None and self.client is not None
        with self.db.session() as session:
            heads = list(session.execute(
                select(OutboxMessage.id, OutboxMessage.room_id).where(OutboxMessage.attempts < MAX_SEND_ATTEMPTS)
                .order_by(OutboxMessage.id).limit(OUTBOX_WAVE)))
            depth = session.scalar(select(func.count()).select_from(OutboxMessage)) or 0
        metrics.SEND_QUEUE.set(depth)
        if not heads:
            return False
        per_room: dict[str, list[int]] = {}
        for row_id, room_id in heads:
            per_room.setdefault(room_id, []).append(row_id)
        unrecorded: list[tuple[OutboxMessage, str]] = []
        sent_any = False
        last_record = time.monotonic()
        halt = asyncio.Event()  # an outage or rate limit: no new sends in this wave
        gate = asyncio.Semaphore(self.settings.bot.send_concurrency)

        async def record(force: bool = False) -> None:
            # In batches (one transaction for many sends), but at least every RECORD_EVERY_S.
            nonlocal last_record
            if unrecorded and (force or len(unrecorded) >= RECORD_BATCH
                               or time.monotonic() - last_record > RECORD_EVERY_S):
                batch = unrecorded[:]
                unrecorded.clear()
                last_record = time.monotonic()
                await self._record_sent(batch)

        async def room_queue(room_id: str, row_ids: list[int]) -> None:
            nonlocal sent_any
            async with gate:
                try:
                    for row_id in row_ids:
                        if halt.is_set():
                            return
                        row = await self._load_outbox_row(row_id)
                        if row is None:
                            continue
                        outcome, event_id = await self._send_one(row)
                        if outcome == "sent":
                            unrecorded.append((row, event_id))
                            sent_any = True
                        elif outcome == "stop":
                            halt.set()
                            return
                        else:  # "retry": keep this room's order, the next wave tries again
                            return
                except Exception as exc:  # noqa: BLE001 - end the wave; the room's rest stays queued
                    log.warning("sending to %s hit %s; will retry", room_id, type(exc).__name__)
                    halt.set()
                finally:
                    await record()

        try:
            # Every room's task ends before the wave does (none keeps sending unrecorded).
            outcomes = await asyncio.gather(*(room_queue(r, ids) for r, ids in per_room.items()),
                                            return_exceptions=True)
        finally:
            await record(force=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        if not sent_any:
            await asyncio.sleep(0.5)
        return sent_any

    async def _record_sent(self, sent: list[tuple[OutboxMessage, str]]) -> None:
        """Sent messages leave the outbox and their event ids are kept, in one transaction. (A
        crash before this commit resends them with the same transaction ids, which the
        homeserver recognises.)"""
        assert self.db is not None
        async with self.db_lock:
            with self.db.session() as session:
                session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_([row.id for row, _ in sent])))
                for row, event_id in sent:
                    session.merge(SentEvent(txn_id=row.txn_id, event_id=event_id, room_id=row.room_id))
        now = time.time()
        for row, _ in sent:
            metrics.MESSAGES_SENT.inc()
            cause = self._received_at.pop(row.txn_id, None)
            if cause is not None:
                metrics.REPLY_LATENCY.observe(now - cause)

    async def _load_outbox_row(self, row_id: int) -> OutboxMessage | None:
        """The row with its content, or None if it cannot be read (then it is set aside, so one
        bad row never holds up the queue)."""
        assert self.db is not None
        try:
            with self.db.session() as session:
                row = session.get(OutboxMessage, row_id)
                if row is not None:
                    json.loads(row.content)
                return row
        except Exception as exc:  # noqa: BLE001 - e.g. sealed with another key, or not JSON
            log.error("outbox row %s cannot be read (%s); set aside", row_id, type(exc).__name__)
            async with self.db_lock:
                with self.db.session() as session:
                    session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id)
                                    .values(attempts=MAX_SEND_ATTEMPTS))
            return None

    async def _prepare_room_keys(self, room_id: str) -> None:
        """Before encrypting in a room: its members known, their devices queried, an Olm session
        with each. Key work is exclusive (``KeyGate``): rooms sent to side by side often share
        people, and two claims for one device would waste one-time keys."""
        client = self.client
        assert client is not None
        room = client.rooms[room_id]
        if room.encrypted and not room.members_synced:
            await client.joined_members(room_id)

        def missing_sessions() -> dict:
            if room.encrypted and client.olm is not None and client.olm.should_share_group_session(room_id):
                return client.get_missing_sessions(room_id)
            return {}

        if not (client.should_query_keys or client.should_claim_keys or missing_sessions()):
            return  # nothing to do: no need to wait for the sends in flight
        async with self._keys.exclusive():
            if client.should_query_keys:
                await client.keys_query()
            if client.should_claim_keys:
                await client.keys_claim(client.get_users_for_key_claiming())
            missing = missing_sessions()
            if missing:
                await client.keys_claim(missing)

    async def _send_one(self, row: OutboxMessage) -> tuple[str, str]:
        """("sent", event id), or ("retry", "") to try this room again in the next wave, or
        ("stop", "") to end the wave (outage, rate limit)."""
        assert self.client is not None and self.db is not None
        client = self.client
        content = json.loads(row.content)
        try:
            refusal = await self._room_state_refusal(row.room_id)
            if refusal is None:
                await self._prepare_room_keys(row.room_id)
                async with self._keys.shared():  # shares the room's group session first if needed
                    resp = await client.room_send(row.room_id, row.event_type, content, tx_id=row.txn_id,
                                                  ignore_unverified_devices=True)
        except (LocalProtocolError, asyncio.TimeoutError, OSError, aiohttp.ClientError) as exc:
            log.warning("sending %s to %s failed (%s); will retry", row.txn_id, row.room_id, type(exc).__name__)
            return "stop", ""
        if refusal is not None:  # the room's state could not be read: a refusal like any other
            errcode, retry_after = refusal, None
        elif isinstance(resp, RoomSendResponse):
            return "sent", resp.event_id
        else:
            errcode, retry_after = getattr(resp, "status_code", None), getattr(resp, "retry_after_ms", None)
        if errcode == "M_LIMIT_EXCEEDED":
            await asyncio.sleep((retry_after or 1000) / 1000)
            return "stop", ""
        if errcode in ("M_FORBIDDEN", "M_NOT_FOUND", "M_UNKNOWN", "M_BAD_JSON", "M_TOO_LARGE"):
            async with self.db_lock:
                with self.db.session() as session:
                    session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id)
                                    .values(attempts=OutboxMessage.attempts + 1))
            log.warning("homeserver refused %s in %s (%s)", row.txn_id, row.room_id, errcode)
            return "retry", ""
        log.warning("sending %s failed (%s); will retry", row.txn_id, errcode)
        return "stop", ""

    # --- health --------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        age = None if self.last_sync_at is None else round(time.time() - self.last_sync_at, 1)
        db_ok = False
        if self.db is not None:
            try:
                with self.db.session() as session:
                    session.execute(select(1))
                db_ok = True
            except Exception:  # noqa: BLE001
                db_ok = False
        healthy = bool(self.sync_ok and db_ok and age is not None and age < SYNC_TIMEOUT_MS / 1000 + 30)
        return {"ok": healthy, "sync_alive": self.sync_ok, "last_sync_age_seconds": age, "database": db_ok}

    def prune_handled(self, older_than: timedelta = timedelta(days=30)) -> None:
        assert self.db is not None
        with self.db.session() as session:
            session.execute(delete(HandledEvent).where(HandledEvent.handled_at < utcnow() - older_than))

