"""The sync loop: incremental syncs from the saved token, with backoff while the homeserver is
away; after each sync the key work, then invites, timeline events and receipts are handed on,
and only then is the new token saved (nio stores its own token before callbacks run, which is
why the dispatcher also keeps a table of handled events)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Awaitable, Callable, Iterator

from nio import AsyncClient, ForwardedRoomKeyEvent, ReceiptEvent, RoomKeyEvent, SyncResponse

from bot import metrics
from bot.config import Settings
from bot.db import Database
from bot.dispatch import Dispatcher
from bot.keys import KeyWork
from bot.models import BotState
from bot.roomstate import RoomState
from bot.watchdog import sd_notify

log = logging.getLogger(__name__)

SYNC_TIMEOUT_MS = 30_000
# What the bot reads of a sync: timelines, room state with every member (encryption needs them
# all), receipts, to-device messages and device lists. Not presence, typing notices or account
# data (global or per room), which in a forum of a thousand people would come with every sync.
SYNC_FILTER: dict[str, Any] = {
    "presence": {"not_types": ["*"]},
    "account_data": {"not_types": ["*"]},
    "room": {"timeline": {"limit": 100}, "state": {"lazy_load_members": False},
             "ephemeral": {"types": ["m.receipt"]}, "account_data": {"not_types": ["*"]}},
}


def take_turns(timelines: dict[str, list[Any]]) -> Iterator[tuple[str, Any]]:
    """(room, event) with the rooms taking turns, one event each, every room's events in order:
    a hundred events of one busy room do not hold up another room's one."""
    queues = [(room_id, iter(events)) for room_id, events in timelines.items() if events]
    while queues:
        still = []
        for room_id, events in queues:
            event = next(events, _DONE)
            if event is not _DONE:
                yield room_id, event
                still.append((room_id, events))
        queues = still


_DONE = object()


class Syncer:
    def __init__(self, db: Database, client: AsyncClient, settings: Settings, rooms: RoomState, keys: KeyWork,
                 dispatcher: Dispatcher, db_lock: asyncio.Lock,
                 replies_out: Callable[[], Awaitable[None]] | None = None) -> None:
        self.db = db
        self.client = client
        self.settings = settings
        self.rooms = rooms
        self.keys = keys
        self.dispatcher = dispatcher
        self.db_lock = db_lock
        self.replies_out = replies_out  # the sender's Sender.replies_out
        self.last_sync_at: float | None = None
        self.ok = False

    async def run(self, stopping: asyncio.Event) -> None:
        backoff = 1.0
        while not stopping.is_set():
            # systemd's watchdog (WatchdogSec= in the unit): the loop is turning. Also while the
            # homeserver is away: a restart would not bring it back.
            sd_notify("WATCHDOG=1")
            try:
                ok = await self.sync_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the loop must survive anything
                log.warning("sync failed (%s); retrying in %.0f s", type(exc).__name__, backoff)
                ok = False
            if ok:
                if not self.ok:
                    log.info("connected to the homeserver")
                self.ok, backoff = True, 1.0
                continue
            metrics.SYNC_FAILURES.inc()
            if self.ok:
                log.warning("the homeserver at %s is unreachable; will keep trying", self.settings.homeserver.url)
            self.ok = False
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)

    async def sync_once(self, first: bool = False) -> bool:
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
        self.rooms.note_sync(resp, since)
        await self.keys.after_sync()
        await self._hand_on(resp)
        # A turn of the loop for the outbox: the replies just queued go out now, before the
        # token is saved and the next long poll is set up (both can wait a few milliseconds).
        await asyncio.sleep(0)
        if self.replies_out is not None:
            # The next long poll only once the homeserver has accepted them (see Sender.replies_out).
            await self.replies_out()
        async with self.db_lock:
            with self.db.session() as session:
                session.merge(BotState(key="sync_token", value=resp.next_batch))
        self.last_sync_at = time.time()
        return True

    async def _hand_on(self, resp: SyncResponse) -> None:
        for room_id, invited in resp.rooms.invite.items():
            await self.rooms.handle_invite(room_id, invited.invite_state)
        got_keys = any(isinstance(e, (RoomKeyEvent, ForwardedRoomKeyEvent)) for e in resp.to_device_events)
        if got_keys and self.dispatcher.awaiting_keys:
            await self.dispatcher.retry_undecrypted()
        for room_id, info in resp.rooms.join.items():
            if any(getattr(e, "sender", None) != self.client.user_id for e in info.timeline.events):
                try:  # kind, encryption and members before handling
                    await self.rooms.ensure_room(room_id)
                except Exception as exc:  # noqa: BLE001 - handled with what nio knows (a room it
                    # cannot place counts as "other", where nothing private is answered)
                    log.warning("could not read the state of %s (%s)", room_id, type(exc).__name__)
        for room_id, event in take_turns({r: info.timeline.events for r, info in resp.rooms.join.items()}):
            await self.dispatcher.timeline_event(room_id, event)
        for room_id, info in resp.rooms.join.items():
            for eph in info.ephemeral:
                if isinstance(eph, ReceiptEvent):
                    await self.dispatcher.receipts(room_id, eph)
