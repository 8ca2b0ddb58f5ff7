"""The outbox sender: waves of queued messages, up to ``bot.send_concurrency`` rooms side by side,
each room's messages in order; rate limits and outages end a wave, and what was sent is recorded
in batches. Rooms take turns (round-robin): a wave sends at most ``ROOM_TURN`` messages to each
room, so a room with hundreds of messages queued does not hold up another room's reply."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Iterable, Literal

import aiohttp
from nio import AsyncClient, LocalProtocolError, RoomSendResponse
from sqlalchemy import Select, delete, func, select, update

from bot import metrics
from bot.config import Settings
from bot.db import Database
from bot.keys import KeyWork, forget_room_keys
from bot.models import HandledEvent, OutboxMessage, SentEvent
from bot.outbox import LEAVE_ROOM
from bot.roomstate import RoomState

log = logging.getLogger(__name__)

REPLIES_WAIT_S = 2.0  # the sync loop waits at most this long for a sync's replies to be sent
MAX_SEND_ATTEMPTS = 8  # for permanent refusals (not rate limits or outages)
OUTBOX_WAVE = 100  # queued messages looked at per sending wave
ROOM_TURN = 5  # messages one room may send per wave before the other rooms' turn
RECORD_BATCH, RECORD_EVERY_S = 25, 1.0  # sent messages are recorded this many at once, or this often
REFUSALS = ("M_FORBIDDEN", "M_NOT_FOUND", "M_UNKNOWN", "M_BAD_JSON", "M_TOO_LARGE")

# "sent": accepted; "retry": this room again in the next wave; "stop": end the wave (outage, rate limit).
Outcome = Literal["sent", "retry", "stop"]


@dataclass(frozen=True)
class Outgoing:
    """One outbox row, read and decoded once."""

    id: int
    txn_id: str
    room_id: str
    event_type: str
    content: dict[str, Any]


@functools.cache
def next_turns() -> Select[int, str]:
    """(id, room) of the messages of the next wave: each room's ``ROOM_TURN`` oldest sendable
    messages, the rooms in the order of their oldest message, ``OUTBOX_WAVE`` at most. Built once
    (a statement is immutable; building and keying it again on every wave costs more than
    running it)."""
    sendable = OutboxMessage.attempts < MAX_SEND_ATTEMPTS
    by_room = (select(OutboxMessage.id, OutboxMessage.room_id,
                      func.row_number().over(partition_by=OutboxMessage.room_id, order_by=OutboxMessage.id)
                      .label("place"),
                      func.min(OutboxMessage.id).over(partition_by=OutboxMessage.room_id).label("first"))
               .where(sendable).subquery())
    return (select(by_room.c.id, by_room.c.room_id).where(by_room.c.place <= ROOM_TURN)
            .order_by(by_room.c.first, by_room.c.id).limit(OUTBOX_WAVE))


class Sender:
    def __init__(self, db: Database, client: AsyncClient, settings: Settings, rooms: RoomState, keys: KeyWork,
                 db_lock: asyncio.Lock) -> None:
        self.db = db
        self.client = client
        self.settings = settings
        self.rooms = rooms
        self.keys = keys
        self.db_lock = db_lock
        self._wakeup = asyncio.Event()
        self._caused_at: dict[str, float] = {}  # reply txn -> when its cause arrived
        self._left: set[str] = set()  # rooms the bot left for good (!forget-me)
        # Replies noted and not yet tried (see replies_out), each with the number of waves begun
        # when it was noted.
        self._unsent_replies: dict[str, int] = {}
        self._replies_tried = asyncio.Event()
        self._running = False
        self._waves = 0  # waves begun
        self._in_wave = False

    def wake(self) -> None:
        self._wakeup.set()

    def note_cause(self, txn_ids: Iterable[str], received_at: float) -> None:
        """These replies answer an event received at ``received_at`` (for the reply latency)."""
        for txn_id in txn_ids:
            self._caused_at[txn_id] = received_at
            self._unsent_replies[txn_id] = self._waves

    def _tried(self, txn_ids: Iterable[str]) -> None:
        for txn_id in txn_ids:
            self._unsent_replies.pop(txn_id, None)
        self._replies_tried.set()

    def _replies_on_their_way(self) -> bool:
        """Replies the coming or current wave takes: all those noted while no wave runs, and
        those noted before the current wave began. One noted during a wave (a fan-out of
        reminders, say) waits for the next wave: the sync loop does not wait for that."""
        return any(not self._in_wave or noted < self._waves for noted in self._unsent_replies.values())

    async def replies_out(self, timeout: float | None = None) -> None:
        """Returns once every reply noted so far has had its PUT answered (or was not sent in the
        wave that took it: a rate limit, an outage), or after ``timeout`` seconds (default
        ``REPLIES_WAIT_S``); at once when the sender is not running. The sync loop waits here
        before its next long poll, as the echo bot does (it sends, then syncs): a long poll set
        up while the reply's PUT is on its way made the bot's loop and the homeserver handle both
        at once (``bench.latency``: the bot's PUT 22.4 ms against the echo's 17.3 ms, 19.2 ms
        once it waited)."""
        deadline = time.monotonic() + (REPLIES_WAIT_S if timeout is None else timeout)
        while self._running and self._replies_on_their_way():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._replies_tried.clear()
            timer = asyncio.get_running_loop().call_later(left, self._replies_tried.set)
            try:
                await self._replies_tried.wait()
            finally:
                timer.cancel()

    async def run(self, stopping: asyncio.Event) -> None:
        self._running = True
        try:
            await self._run(stopping)
        finally:
            self._running = False
            self._tried(list(self._unsent_replies))

    async def _run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                sent_any = await self.send_wave()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001
                log.warning("outbox sender hit %s; retrying", type(exc).__name__)
                await asyncio.sleep(1)
                continue
            if not sent_any:
                self._wakeup.clear()
                # Woken by wake() or after a second. Not asyncio.wait_for: it wraps the wait in a
                # task of its own, one more turn of the loop before a reply is on its way.
                timer = asyncio.get_running_loop().call_later(1.0, self._wakeup.set)
                try:
                    await self._wakeup.wait()
                finally:
                    timer.cancel()

    async def send_wave(self) -> bool:
        """One wave: each room's turn of its oldest queued messages (rooms waiting longest first),
        up to ``send_concurrency`` rooms at a time, each room's messages in order; the
        bookkeeping for every message sent is batched. True when something was sent."""
        # Every reply noted by now is committed, so in this wave unless the queue is long: after
        # the wave none of them is waited for any more (see replies_out).
        noted = list(self._unsent_replies)
        self._waves += 1
        self._in_wave = True
        try:
            return await self._send_wave()
        finally:
            self._in_wave = False
            self._tried(noted)

    async def _send_wave(self) -> bool:
        with self.db.session() as session:
            heads = list(session.execute(next_turns()))
            depth = session.scalar(select(func.count()).select_from(OutboxMessage)) or 0
        metrics.SEND_QUEUE.set(depth)
        if not heads:
            return False
        per_room: dict[str, list[int]] = {}
        for row_id, room_id in heads:
            per_room.setdefault(room_id, []).append(row_id)
        await self.prepare_wave(list(per_room))
        sent_any = await Wave(self, per_room).run()
        if not sent_any:
            await asyncio.sleep(0.5)
        return sent_any

    async def prepare_wave(self, room_ids: list[str]) -> None:
        """The wave's rooms' state (``send_concurrency`` at a time), then the key work for all of
        them at once (:meth:`KeyWork.prepare_rooms`). A room that cannot be read here is left
        to ``send_one``, which tells a refusal from an outage."""
        if self.client.olm is None or len(room_ids) < 2:
            return
        gate = asyncio.Semaphore(self.settings.bot.send_concurrency)

        async def readable(room_id: str) -> bool:
            async with gate:
                try:
                    return await self.rooms.refusal(room_id) is None
                except (LocalProtocolError, asyncio.TimeoutError, OSError, aiohttp.ClientError):
                    return False

        flags = await asyncio.gather(*(readable(r) for r in room_ids))
        await self.keys.prepare_rooms([r for r, ok in zip(room_ids, flags) if ok and r not in self._left])

    async def load(self, row_id: int) -> Outgoing | None:
        """The row with its content, or None if it is gone or cannot be read (then it is set
        aside, so one bad row never holds up the queue)."""
        try:
            with self.db.session() as session:
                row = session.get(OutboxMessage, row_id)
                if row is None:
                    return None
                content = json.loads(row.content)
                if not isinstance(content, dict):
                    raise TypeError("content is not an object")
                return Outgoing(id=row.id, txn_id=row.txn_id, room_id=row.room_id, event_type=row.event_type,
                                content=content)
        except Exception as exc:  # noqa: BLE001 - e.g. sealed with another key, or not JSON
            log.error("outbox row %s cannot be read (%s); set aside", row_id, type(exc).__name__)
            async with self.db_lock:
                with self.db.session() as session:
                    session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id)
                                    .values(attempts=MAX_SEND_ATTEMPTS))
            return None

    async def send_one(self, message: Outgoing) -> tuple[Outcome, str]:
        """("sent", event id), or ("retry", "") to try this room again in the next wave, or
        ("stop", "") to end the wave (outage, rate limit)."""
        if message.event_type == LEAVE_ROOM:
            return await self.leave_room(message.room_id)
        try:
            refusal = await self.rooms.refusal(message.room_id)
            if refusal is None:
                await self.keys.prepare_room(message.room_id)
                async with self.keys.gate.shared():  # shares the room's group session first if needed
                    resp = await self.client.room_send(message.room_id, message.event_type, message.content,
                                                       tx_id=message.txn_id, ignore_unverified_devices=True)
        except (LocalProtocolError, asyncio.TimeoutError, OSError, aiohttp.ClientError) as exc:
            log.warning("sending %s to %s failed (%s); will retry", message.txn_id, message.room_id,
                        type(exc).__name__)
            return "stop", ""
        errcode: str | None
        retry_after: int | None
        if refusal is not None:  # the room's state could not be read: a refusal like any other
            errcode, retry_after = refusal, None
        elif isinstance(resp, RoomSendResponse):
            return "sent", resp.event_id
        else:
            errcode, retry_after = getattr(resp, "status_code", None), getattr(resp, "retry_after_ms", None)
        if errcode == "M_LIMIT_EXCEEDED":
            await asyncio.sleep((retry_after or 1000) / 1000)
            return "stop", ""
        if errcode in REFUSALS:
            async with self.db_lock:
                with self.db.session() as session:
                    session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id)
                                    .values(attempts=OutboxMessage.attempts + 1))
            log.warning("homeserver refused %s in %s (%s)", message.txn_id, message.room_id, errcode)
            return "retry", ""
        log.warning("sending %s failed (%s); will retry", message.txn_id, errcode)
        return "stop", ""

    async def leave_room(self, room_id: str) -> tuple[Outcome, str]:
        """Leave and forget the room (the homeserver then serves the bot none of its history),
        then drop every trace of it: what is still queued there, and the handled and sent events
        recorded for it. ("retry", "") when done: nothing of the room is left to send."""
        try:
            left = await self.client.room_leave(room_id)
            forgotten = await self.client.room_forget(room_id)
        except (LocalProtocolError, asyncio.TimeoutError, OSError, aiohttp.ClientError) as exc:
            log.warning("leaving %s failed (%s); will retry", room_id, type(exc).__name__)
            return "stop", ""
        for resp in (left, forgotten):
            errcode = getattr(resp, "status_code", None)
            if errcode is not None and errcode not in REFUSALS:  # refused: not in the room any more
                log.warning("leaving %s failed (%s); will retry", room_id, errcode)
                return "stop", ""
        self._left.add(room_id)
        forget_room_keys(self.client, room_id)
        async with self.db_lock:
            with self.db.session() as session:
                session.execute(delete(OutboxMessage).where(OutboxMessage.room_id == room_id))
                session.execute(delete(SentEvent).where(SentEvent.room_id == room_id))
                session.execute(delete(HandledEvent).where(HandledEvent.room_id == room_id))
        log.info("left and forgot %s", room_id)
        return "retry", ""

    async def record_sent(self, sent: list[tuple[Outgoing, str]]) -> None:
        """Sent messages leave the outbox and their event ids are kept, in one transaction. (A
        crash before this commit resends them with the same transaction ids, which the
        homeserver recognises.)"""
        async with self.db_lock:
            with self.db.session() as session:
                session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_([m.id for m, _ in sent])))
                for message, event_id in sent:
                    if message.room_id in self._left:  # sent just before the bot left: no trace kept
                        continue
                    session.merge(SentEvent(txn_id=message.txn_id, event_id=event_id, room_id=message.room_id))
        now = time.time()
        for message, _ in sent:
            metrics.MESSAGES_SENT.inc()
            cause = self._caused_at.pop(message.txn_id, None)
            if cause is not None:
                metrics.REPLY_LATENCY.observe(now - cause)


class Wave:
    """One sending wave's state: the rooms' queues, what was sent but not yet recorded, and
    whether the wave was halted (an outage or rate limit: no new sends in this wave)."""

    def __init__(self, sender: Sender, per_room: dict[str, list[int]]) -> None:
        self.sender = sender
        self.per_room = per_room
        self.unrecorded: list[tuple[Outgoing, str]] = []
        self.sent_any = False
        self.last_record = time.monotonic()
        self.halt = asyncio.Event()
        self.gate = asyncio.Semaphore(sender.settings.bot.send_concurrency)

    async def run(self) -> bool:
        try:
            if len(self.per_room) == 1:  # one room (a reply): sent at once, no task to schedule first
                ((room_id, ids),) = self.per_room.items()
                outcomes: list[BaseException | None] = [None]
                try:
                    await self._room(room_id, ids)
                except Exception as exc:  # noqa: BLE001 - as gather(return_exceptions=True) below
                    outcomes = [exc]
            else:
                # Every room's task ends before the wave does (none keeps sending unrecorded).
                outcomes = await asyncio.gather(*(self._room(r, ids) for r, ids in self.per_room.items()),
                                                return_exceptions=True)
        finally:
            await self._record(force=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return self.sent_any

    async def _record(self, force: bool = False) -> None:
        # In batches (one transaction for many sends), but at least every RECORD_EVERY_S.
        if self.unrecorded and (force or len(self.unrecorded) >= RECORD_BATCH
                                or time.monotonic() - self.last_record > RECORD_EVERY_S):
            batch = self.unrecorded[:]
            self.unrecorded.clear()
            self.last_record = time.monotonic()
            await self.sender.record_sent(batch)

    async def _room(self, room_id: str, row_ids: list[int]) -> None:
        async with self.gate:
            try:
                for row_id in row_ids:
                    if self.halt.is_set():
                        return
                    message = await self.sender.load(row_id)
                    if message is None:
                        continue
                    try:
                        outcome, event_id = await self.sender.send_one(message)
                    finally:
                        self.sender._tried((message.txn_id,))
                    if outcome == "sent":
                        self.unrecorded.append((message, event_id))
                        self.sent_any = True
                    elif outcome == "stop":
                        self.halt.set()
                        return
                    else:  # "retry": keep this room's order, the next wave tries again
                        return
            except Exception as exc:  # noqa: BLE001 - end the wave; the room's rest stays queued
                log.warning("sending to %s hit %s; will retry", room_id, type(exc).__name__)
                self.halt.set()
            finally:
                await self._record()
