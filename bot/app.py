"""The running bot, as a composition root: it builds the parts (room state, key work, sender,
dispatcher, sync loop) once connected, starts the features with a narrow ``Runtime``, runs the
loops, answers health checks, and stops it all again."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import Any

from nio import AsyncClient
from sqlalchemy import select

from bot.config import Settings
from bot.contentkey import (
    KeyFileError,
    check_content_key,
    crypto_store_has_data,
    load_content_key,
    make_private,
    nio_pickle_key,
    resolve_key_file,
)
from bot.context import IncomingEvent, Services
from bot.contracts import check_requirements
from bot.crosssign import ensure_cross_signed
from bot.db import Database, FieldCipher, SealError, create_private_sqlite_file, database_has_sealed_rows, install_cipher
from bot.dispatch import Dispatcher, prune_handled
from bot.feature import Feature, Stop
from bot.features import load_features
from bot.i18n import Catalogue
from bot.keys import KeyWork
from bot.matrix import NioPort, StartupError, connect
from bot.migrate import upgrade
from bot.roomstate import RoomState
from bot.router import Router
from bot.runtime import BotRuntime
from bot.sender import Sender
from bot.speaker import Speaker
from bot.sync import SYNC_TIMEOUT_MS, Syncer
from bot.watchdog import LoopLag, sd_notify

log = logging.getLogger(__name__)


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
        self.speaker = Speaker(self.catalogue, settings)
        # One writer at a time on the event loop: a handler keeps its transaction open across
        # awaits (Matrix calls), and SQLite has a single write lock. Background writers on the
        # loop (the outbox sender, feature tasks) take this lock instead of blocking the loop.
        self.db_lock = asyncio.Lock()
        # Built by start(), once there is a database and a connected client:
        self.db: Database | None = None
        self.client: AsyncClient | None = None
        self.port: NioPort | None = None
        self.runtime: BotRuntime | None = None
        self.services: Services | None = None
        self.rooms: RoomState | None = None
        self.keys: KeyWork | None = None
        self.sender: Sender | None = None
        self.dispatcher: Dispatcher | None = None
        self.syncer: Syncer | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._stops: list[tuple[str, Stop]] = []  # what the features' start hooks left running
        self.loop_lag = LoopLag()
        self._stopping = asyncio.Event()

    def wake_outbox(self) -> None:
        if self.sender is not None:
            self.sender.wake()

    # --- life cycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        check_requirements(self.features)  # one line naming what is missing, before any work
        s = self.settings
        s.storage.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        make_private(s.storage.data_dir, 0o700)
        url = s.storage.resolved_database_url()
        create_private_sqlite_file(url)
        db = self.db = Database(url)
        try:
            key = load_content_key(s.storage, lambda: crypto_store_has_data(s.storage)
                                   or database_has_sealed_rows(db.engine))
        except KeyFileError as exc:
            db.dispose()
            raise StartupError(str(exc)) from None
        if any(other != key for app_id, other in App._running_keys.items() if app_id != id(self)):
            raise StartupError("another bot runs in this process with a different content key; "
                               "give both the same storage.encryption_key_file")
        App._running_keys[id(self)] = key
        install_cipher(FieldCipher(key))
        try:
            await asyncio.to_thread(upgrade, db.engine, self.features)
            with db.session() as session:
                check_content_key(session)
        except SealError:
            db.dispose()
            raise StartupError(f"the content key {resolve_key_file(s.storage)} does not open this database; "
                               "restore the key that belongs to it") from None

        with db.session() as session:
            try:
                client = self.client = await connect(s, session, pickle_key=nio_pickle_key(key))
            except KeyFileError as exc:
                raise StartupError(str(exc)) from None
        port = self.port = NioPort(client)
        syncer, sender, runtime = self._build(db, client, port)
        if client.should_upload_keys:
            await client.keys_upload()
        with db.session() as session:
            await ensure_cross_signed(port.http, session, s.bot.user_id, client.device_id, s.bot.password)

        await self._set_profile(client)
        self.prune_handled()
        await syncer.sync_once(first=True)
        try:
            for f in self.features:
                for hook in f.on_start:
                    stop = await hook(runtime)
                    if stop is not None:
                        self._stops.append((f.name, stop))
        except BaseException:
            await self._run_stops()  # what had started stops again
            raise
        self._tasks = [
            asyncio.create_task(syncer.run(self._stopping), name="sync"),
            asyncio.create_task(sender.run(self._stopping), name="outbox"),
            asyncio.create_task(self.loop_lag.run(self._stopping), name="loop-lag"),
        ]
        self.wake_outbox()
        sd_notify("READY=1")
        log.info("ReConnect is running as %s (device %s)", s.bot.user_id, client.device_id)

    def _build(self, db: Database, client: AsyncClient, port: NioPort) -> tuple[Syncer, Sender, BotRuntime]:
        """The parts, each given only what it uses."""
        s = self.settings
        rooms = self.rooms = RoomState(client, s)
        keys = self.keys = KeyWork(client)
        sender = self.sender = Sender(db, client, s, rooms, keys, self.db_lock)
        runtime = self.runtime = BotRuntime(settings=s, port=port, speaker=self.speaker, features=self.features,
                                            db_lock=self.db_lock, database=db, wake=sender.wake)
        self.services = Services(settings=s, catalogue=self.catalogue, port=port, router=self.router,
                                 features=self.features, runtime=runtime)
        self.dispatcher = Dispatcher(db, client, self.services, self.router, rooms, self.speaker, sender,
                                     self.db_lock)
        syncer = self.syncer = Syncer(db, client, s, rooms, keys, self.dispatcher, self.db_lock,
                                      replies_out=sender.replies_out)
        return syncer, sender, runtime

    async def _set_profile(self, client: AsyncClient) -> None:
        wanted = self.settings.bot.display_name
        current = await client.get_displayname(client.user_id)
        if getattr(current, "displayname", None) != wanted:
            await client.set_displayname(wanted)

    async def stop(self) -> None:
        """Stop cleanly. Never logs out: the device and its keys must survive restarts."""
        self._stopping.set()
        sd_notify("STOPPING=1")
        await self._run_stops()
        if self.runtime is not None:
            for f in reversed(self.features):
                for hook in f.on_stop:
                    try:
                        await hook(self.runtime)
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
        if self.dispatcher is not None:
            await self.dispatcher.drain()  # a picture being rendered is finished and queued
        App._running_keys.pop(id(self), None)
        if self.client is not None:
            await self.client.close()
        if self.db is not None:
            self.db.dispose()

    async def _run_stops(self) -> None:
        """What the start hooks left running, in reverse order of start."""
        stops, self._stops = self._stops, []
        for name, stop in reversed(stops):
            try:
                await stop()
            except Exception:  # noqa: BLE001 - stopping goes on
                log.exception("a stop hook of %s failed", name)

    async def run_forever(self) -> None:
        await self.start()
        try:
            await self._stopping.wait()
        finally:
            await self.stop()

    # --- for tests and tools -------------------------------------------------------------------
    async def handle_event(self, event: IncomingEvent) -> None:
        """An event through the dispatcher, as if it had come in a sync."""
        assert self.dispatcher is not None, "the dispatcher is built at start"
        await self.dispatcher.handle_event(event)

    async def ensure_room(self, room_id: str) -> bool:
        """See :meth:`bot.roomstate.RoomState.ensure_room`."""
        assert self.rooms is not None, "room state is built at start"
        return await self.rooms.ensure_room(room_id)

    def prune_handled(self, older_than: timedelta = timedelta(days=30)) -> None:
        assert self.db is not None
        prune_handled(self.db, older_than)

    # --- health --------------------------------------------------------------------------------
    @property
    def last_sync_at(self) -> float | None:
        return self.syncer.last_sync_at if self.syncer is not None else None

    @property
    def sync_ok(self) -> bool:
        return self.syncer is not None and self.syncer.ok

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
        return {"ok": healthy, "sync_alive": self.sync_ok, "last_sync_age_seconds": age, "database": db_ok,
                "event_loop": self.loop_lag.health()}
