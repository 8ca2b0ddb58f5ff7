"""The population for the large benchmarks, as a national deployment has it.

``PopulationSpec`` (defaults: issue 13's size): P participants, each with a toolbox room the bot
made, a direct chat the person opened with the bot and ``provider_rooms`` provider rooms (the bot
made them, the person and a provider joined); a forum of F of them; ``cafes`` communities, each
with its café room that its participants joined. Every person and provider has 1-2 devices with
uploaded device keys and ``one_time_keys`` one-time keys (``bench.devices``), so the bot really
queries their devices, claims one-time keys and shares Megolm sessions with them.

Built concurrently (shared-secret registration, room creation and joins through a bounded pool of
``concurrency`` requests): the rooms and the bot's database rows are made through the bot's own
code (``App``, ``port.create_room``, ``register_room``), the people's side with client-server
calls. A build is kept as a snapshot (``bench/cache/``: Synapse's data folder with its SQLite
database, the bot's data folder, its content key and a manifest) keyed by the spec, the migrations, this builder
and Synapse's version, and copied for each run instead of being built again.

    .venv/bin/python -m bench.population --participants 2500 [--rebuild]   # build (or find) the snapshot
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import os
import random
import re
import shutil
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable, Protocol, Sequence
from urllib.parse import quote

import aiohttp
from sqlalchemy import func, select

from bench.common import Account, BenchSynapse, http_json, quiet_logs
from bench.devices import upload_device
from bot.app import App
from bot.config import Settings
from bot.localsynapse import registration_mac
from bot.localsynapse_workers import WorkersSynapse, saved_database_exists
from bot.models import EnrolmentStatus, ManagedRoom, Participant, Provider, RoomKind
from bot.port import RoomSpec
from bot.roomdir import find_room
from rooms.membership import ensure_toolbox_room

log = logging.getLogger("bench.population")
ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / "cache"
# Raise when what the builder makes changes (a snapshot made by another version is not used).
BUILDER_VERSION = 1
# Where a population that is kept as a snapshot is built: a memory file system, so that the
# homeserver's SQLite commits do not wait for the disk (an fsync of 3-10 ms each on this machine,
# over half the build's time). Nothing is measured during the build; the runs measure on a copy of
# the snapshot on disk. None: build in the run's own folder.
SCRATCH: Path | None = Path("/dev/shm") if Path("/dev/shm").is_dir() else None


# --- what is built -----------------------------------------------------------------------------

@dataclass(frozen=True)
class PopulationSpec:
    participants: int = 2500
    forum: int = 1000
    cafes: int = 10  # communities, one café room each; every participant joins their community's
    providers: int = 50
    provider_rooms: int = 2  # per participant, each with a different provider
    direct_chats: bool = True
    one_time_keys: int = 10  # per device
    second_device_share: float = 0.5  # this share of people has two devices, the others one
    cafe_members: int | None = None  # participants in their community's café; None: all of them

    @property
    def communities(self) -> list[str]:
        return [f"Community{i:02d}" for i in range(self.cafes)]

    @property
    def rooms(self) -> int:
        """Every room: toolbox, direct chat and provider rooms, then space, forum, consultant
        room and the cafés."""
        per_person = 1 + int(self.direct_chats) + self.provider_rooms
        return self.participants * per_person + 3 + self.cafes

    def key(self) -> str:
        """Snapshot key: the spec, the bot's migrations, ``BUILDER_VERSION`` and Synapse's version."""
        from importlib.metadata import version

        digest = hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode())
        # The release only: synapse.__version__ appends `git describe` of the folder it is installed
        # in, here the project's main checkout (the venv is inside it), so every commit to main
        # changed every key.
        digest.update(version("matrix-synapse").encode())
        digest.update(f"builder {BUILDER_VERSION}".encode())
        for path in sorted(ROOT.glob("*/migrations/*.py")):
            digest.update(path.name.encode() + path.read_bytes())
        return f"p{self.participants}-f{self.forum}-c{self.cafes}-{digest.hexdigest()[:12]}"


@dataclass
class Population:
    spec: PopulationSpec
    bot: Account
    people: list[Account]
    providers: list[Account]
    toolbox: dict[str, str]  # user id → room id
    direct: dict[str, str]
    provider_rooms: dict[str, list[str]]
    community_of: dict[str, str]
    forum_id: str
    cafes: dict[str, str]  # community → room id
    devices: int = 0
    build: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["spec"] = asdict(self.spec)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Population:
        data = dict(data)
        data.pop("homeserver", None)  # how a saved homeserver is restored (see prepare)
        data["spec"] = PopulationSpec(**data["spec"])
        data["bot"] = Account(**data["bot"])
        data["people"] = [Account(**a) for a in data["people"]]
        data["providers"] = [Account(**a) for a in data["providers"]]
        return cls(**data)


# --- the homeserver ----------------------------------------------------------------------------

class Homeserver(Protocol):
    """What the builder and the benchmarks need of a homeserver. ``--synapse`` chooses the
    factory: ``single`` (today's single-process Synapse on SQLite, the default),
    ``single-postgres``, or ``module:callable`` for another harness (e.g. Synapse with workers),
    called with the data folder and returning an object like this. Snapshots are kept for
    homeservers whose whole state is in their data folder (``snapshot_in_folder``)."""

    url: str
    snapshot_in_folder: bool

    @property
    def shared_secret(self) -> str: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...


class SingleSynapse(BenchSynapse):
    snapshot_in_folder = True

    def __init__(self, root: Path, database: dict[str, Any] | None = None) -> None:
        super().__init__(root, database, "single")
        self.snapshot_in_folder = database is None

    @property
    def shared_secret(self) -> str:
        return self.server.shared_secret

    def start(self) -> None:
        from bot.localsynapse import free_port

        self.server.port = free_port()  # a copied snapshot's saved port may be taken
        super().start()


class WorkersHomeserver(BenchSynapse):
    """Synapse with workers on PostgreSQL and Redis (``bot.localsynapse_workers``): its state is
    in a database of its own, so the population is built each time (no snapshot). ``persisters``
    event persisters and ``writers`` workers making the events (``--synapse workers-P-W``)."""

    snapshot_in_folder = False

    def __init__(self, root: Path, persisters: int = 1, writers: int = 0) -> None:
        super().__init__(root, None, "workers", persisters=persisters, writers=writers)
        self.layout = {"persisters": persisters, "writers": writers}

    @property
    def shared_secret(self) -> str:
        return self.server.shared_secret


def homeserver_factory(name: str) -> Callable[[Path], Homeserver]:
    if name == "single":
        return lambda root: SingleSynapse(root)
    if name == "workers":
        return lambda root: WorkersHomeserver(root)
    wide = re.fullmatch(r"workers-(\d+)-(\d+)", name)
    if wide:
        persisters, writers = int(wide.group(1)), int(wide.group(2))
        return lambda root: WorkersHomeserver(root, persisters, writers)
    if name == "single-postgres":
        from bench.common import pg_synapse_database

        def make(root: Path) -> Homeserver:
            ctx = pg_synapse_database()
            database = ctx.__enter__()
            server = SingleSynapse(root, database)
            stop = server.stop

            def stop_and_drop() -> None:
                stop()
                ctx.__exit__(None, None, None)

            server.stop = stop_and_drop  # type: ignore[method-assign]
            return server
        return make
    module, _, attr = name.partition(":")
    if not attr:
        raise SystemExit(f"--synapse: 'single', 'single-postgres', 'workers', 'workers-P-W' (P event persisters, "
                         f"W event-making workers) or 'module:callable', not {name!r}")
    import importlib

    factory: Callable[[Path], Homeserver] = getattr(importlib.import_module(module), attr)
    return factory


# --- building ----------------------------------------------------------------------------------

class Pool:
    """At most ``size`` requests to the homeserver at a time; counts what was done."""

    def __init__(self, http: aiohttp.ClientSession, homeserver: str, size: int) -> None:
        self.http = http
        self.url = homeserver
        self.gate = asyncio.Semaphore(size)
        self.registering = asyncio.Semaphore(size)
        self.calls = 0

    async def call(self, method: str, path: str, token: str | None = None, body: Any = None,
                   ok: Callable[[int, dict[str, Any]], bool] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.gate:
            for attempt in range(6):
                async with self.http.request(method, self.url + path, json=body, headers=headers) as r:
                    data = await r.json(content_type=None) if r.content_length != 0 else {}
                    status = r.status
                if status == 200 or (ok is not None and ok(status, data)):
                    self.calls += 1
                    return data or {}
                if status in (429, 500, 502, 503, 504) and attempt < 5:
                    await asyncio.sleep(0.5 * (attempt + 1))
                    continue
                raise RuntimeError(f"{method} {path}: {status} {data}")
        raise AssertionError("unreachable")


def _cpu(server: Homeserver) -> dict[str, float]:
    """CPU seconds (user + system) so far of this process (the builder and the bot in it) and of
    the homeserver's processes."""
    own = os.times()
    used = {"builder": own.user + own.system}
    inner = getattr(server, "server", None)
    pids: dict[str, int] = {}
    if inner is not None and hasattr(inner, "pids"):
        pids = inner.pids()
    elif inner is not None and getattr(inner, "process", None) is not None:
        pids = {"synapse": inner.process.pid}
    for name, pid in pids.items():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[name] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


async def _all(aws: Iterable[Awaitable[Any]]) -> list[Any]:
    return list(await asyncio.gather(*aws))


async def _register(pool: Pool, secret: str, localpart: str) -> Account:
    # A nonce lives 60 s: the whole registration holds one place of the pool's size, so the POST
    # never waits behind hundreds of other requests.
    async with pool.registering:
        password = uuid.uuid4().hex
        nonce = (await pool.call("GET", "/_synapse/admin/v1/register"))["nonce"]
        data = await pool.call("POST", "/_synapse/admin/v1/register", body={
            "nonce": nonce, "username": localpart, "password": password, "admin": False,
            "mac": registration_mac(secret, nonce, localpart, password, False)})
        return Account(data["user_id"], password, data["access_token"])


async def _devices(pool: Pool, account: Account, second: bool, one_time_keys: int) -> int:
    """The registration's device, and a second one (a new login) for some: keys for each."""
    whoami = await pool.call("GET", "/_matrix/client/v3/account/whoami", account.access_token)
    devices = [(whoami["device_id"], account.access_token)]
    if second:
        login = await pool.call("POST", "/_matrix/client/v3/login", body={
            "type": "m.login.password", "identifier": {"type": "m.id.user", "user": account.user_id},
            "password": account.password, "initial_device_display_name": "phone"})
        devices.append((login["device_id"], login["access_token"]))
    async with pool.gate:
        for device_id, token in devices:
            await upload_device(pool.http, pool.url, account.user_id, device_id, token, one_time_keys)
    return len(devices)


async def _join(pool: Pool, account: Account, room_id: str) -> None:
    await pool.call("POST", f"/_matrix/client/v3/join/{quote(room_id)}", account.access_token, {})


def _settings(server_url: str, bot: Account, data_dir: Path, spec: PopulationSpec,
              database_url: str | None = None) -> Settings:
    storage: dict[str, Any] = {"data_dir": str(data_dir)}
    if database_url:
        storage["database_url"] = database_url
    return Settings.model_validate({
        "homeserver": {"url": server_url},
        "bot": {"user_id": bot.user_id, "password": bot.password},
        "storage": storage,
        "communities": [{"name": c} for c in spec.communities],
        "http": {"enabled": False},
        "log_level": "WARNING",
    })


async def build(spec: PopulationSpec, server: Homeserver, bot_dir: Path, concurrency: int = 12,
                database_url: str | None = None, progress: Callable[[str], None] = print) -> Population:
    """Build the population on a started homeserver; the bot's data in ``bot_dir``. The bot
    (in process) is stopped at the end, its sync having seen every room."""
    rnd = random.Random(13)
    phases: dict[str, float] = {}
    cpu: dict[str, dict[str, float]] = {}
    t_all = t = time.perf_counter()
    cpu_t = cpu_all = _cpu(server)

    def phase(name: str, count: int) -> None:
        nonlocal t, cpu_t
        now, cpu_now = time.perf_counter(), _cpu(server)
        phases[name] = round(now - t, 1)
        used = {k: round(cpu_now[k] - cpu_t.get(k, 0.0), 1) for k in cpu_now}
        cpu[name] = used
        progress(f"  {name}: {count} in {now - t:.1f} s ({count / max(now - t, 1e-9):.1f}/s); CPU s "
                 + ", ".join(f"{k} {v}" for k, v in used.items()) + f"; load {os.getloadavg()[0]:.1f}")
        t, cpu_t = now, cpu_now

    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=600)) as http:
        pool = Pool(http, server.url, concurrency)
        secret = server.shared_secret
        bot = await _register(pool, secret, "reconnect")
        people = await _all(_register(pool, secret, f"p{i:05d}") for i in range(spec.participants))
        providers = await _all(_register(pool, secret, f"provider{i:03d}") for i in range(spec.providers))
        phase("register", len(people) + len(providers) + 1)

        everyone = people + providers
        devices = sum(await _all(_devices(pool, a, rnd.random() < spec.second_device_share, spec.one_time_keys)
                                 for a in everyone))
        phase("devices (keys + one-time keys uploaded)", devices)

        app = App(_settings(server.url, bot, bot_dir, spec, database_url))
        await app.start()  # builds the space, forum, cafés and consultant room
        assert app.db is not None and app.port is not None
        port = app.port
        try:
            communities = spec.communities
            community_of = {p.user_id: communities[i % len(communities)] for i, p in enumerate(people)}
            with app.db.session() as s:
                for i, person in enumerate(people):
                    s.merge(Participant(user_id=person.user_id, status=EnrolmentStatus.ACTIVE.value,
                                        pseudonym=f"Bench{i:05d}", pseudonym_key=f"bench{i:05d}",
                                        community=community_of[person.user_id]))
                for pr in providers:
                    s.merge(Provider(user_id=pr.user_id, added_by="@bench:localhost"))
                forum_id = find_room(s, RoomKind.FORUM).room_id
                cafes = {c: find_room(s, RoomKind.CAFE, community=c).room_id for c in communities}
            phase("bot started, shared rooms built", 3 + spec.cafes)
            # Its sync loop is paused while the rooms are made (on this 2-CPU machine it would take
            # CPU from the homeserver); it catches up at the end in one sync, as after downtime.
            sync_task = app._tasks[0]
            sync_task.cancel()
            await asyncio.gather(sync_task, return_exceptions=True)

            # Rooms the bot makes, through its own code; their rows written in one transaction.
            toolbox: dict[str, str] = {}
            made: list[tuple[str, RoomKind, str, str | None]] = []

            async def make_toolbox(person: Account) -> None:
                async with pool.gate:
                    toolbox[person.user_id] = await port.create_room(
                        RoomSpec(name="Toolbox", invite=(person.user_id,), is_direct=True))
                made.append((toolbox[person.user_id], RoomKind.TOOLBOX, person.user_id, None))

            provider_rooms: dict[str, list[str]] = {p.user_id: [] for p in people}
            provider_pairs: list[tuple[Account, Account]] = []
            for i, person in enumerate(people):
                for k in range(spec.provider_rooms):
                    provider_pairs.append((person, providers[(i + k * 7) % len(providers)]))

            provider_joins: list[tuple[Account, str]] = []

            async def make_provider_room(person: Account, provider: Account) -> None:
                async with pool.gate:
                    room_id = await port.create_room(RoomSpec(name="Provider", topic="Your provider and you",
                                                              invite=(person.user_id, provider.user_id)))
                provider_rooms[person.user_id].append(room_id)
                provider_joins.extend([(person, room_id), (provider, room_id)])
                made.append((room_id, RoomKind.PROVIDER, person.user_id, provider.user_id))

            await _all([*(make_toolbox(p) for p in people), *(make_provider_room(a, b) for a, b in provider_pairs)])
            with app.db.session() as s:
                for room_id, kind, owner, partner in made:
                    s.add(ManagedRoom(room_id=room_id, kind=kind.value, owner=owner, partner=partner))
            phase("rooms made by the bot (toolbox, provider)", len(made))

            # Direct chats the people open with the bot (encrypted, as clients make them).
            direct: dict[str, str] = {}
            if spec.direct_chats:
                async def open_dm(person: Account) -> None:
                    data = await pool.call("POST", "/_matrix/client/v3/createRoom", person.access_token, {
                        "preset": "trusted_private_chat", "is_direct": True, "invite": [bot.user_id],
                        "initial_state": [{"type": "m.room.encryption", "state_key": "",
                                           "content": {"algorithm": "m.megolm.v1.aes-sha2"}}]})
                    direct[person.user_id] = data["room_id"]
                await _all(open_dm(p) for p in people)
                phase("direct chats opened by people", len(direct))

            # Invitations by the bot to the forum and the cafés.
            forum_people = people[:spec.forum]

            async def invite(room_id: str, user_id: str) -> None:
                async with pool.gate:
                    await port.invite(room_id, user_id)
            cafe_people = people[:spec.participants if spec.cafe_members is None else spec.cafe_members]
            await _all([*(invite(forum_id, p.user_id) for p in forum_people),
                        *(invite(cafes[community_of[p.user_id]], p.user_id) for p in cafe_people)])
            phase("invitations to the forum and the cafés", len(forum_people) + len(cafe_people))

            # Everyone joins (the bot its direct chats, if its own sync has not already).
            joins: list[tuple[Account, str]] = [(p, toolbox[p.user_id]) for p in people]
            joins += provider_joins
            joins += [(p, forum_id) for p in forum_people]
            joins += [(p, cafes[community_of[p.user_id]]) for p in cafe_people]
            joins += [(bot, r) for r in direct.values()]
            rnd.shuffle(joins)
            await _all(_join(pool, a, r) for a, r in joins)
            phase("joins", len(joins))

            # The bot's own sync sees every room before it is stopped.
            assert app.syncer is not None
            app._tasks[0] = asyncio.create_task(app.syncer.run(app._stopping), name="sync")
            expected = spec.rooms
            deadline = time.monotonic() + max(900, expected * 0.5)  # 10,000 rooms on a busy machine
            while len(app.client.rooms) < expected and time.monotonic() < deadline:  # type: ignore[union-attr]
                await asyncio.sleep(1)
            await asyncio.sleep(5)
            # What the bot said to the newcomers is sent before it stops.
            await drain_outbox(app, timeout=max(600, spec.participants * 1.0))
            with app.db.session() as s:
                bot_rooms = s.scalar(select(func.count()).select_from(ManagedRoom))
            phase(f"bot's sync caught up ({len(app.client.rooms)} rooms in nio, {bot_rooms} managed)",  # type: ignore[union-attr]
                  len(app.client.rooms))  # type: ignore[union-attr]
        finally:
            await app.stop()
    build_s = time.perf_counter() - t_all
    cpu_end = _cpu(server)
    cpu_total = {k: round(cpu_end[k] - cpu_all.get(k, 0.0), 1) for k in cpu_end}
    progress(f"built {spec.rooms} rooms, {len(everyone)} people, {devices} devices in {build_s:.0f} s "
             f"({spec.rooms / build_s:.2f} rooms/s; {pool.calls} homeserver calls, {pool.calls / build_s:.1f}/s); "
             f"CPU s {cpu_total}; load {os.getloadavg()}")
    return Population(spec=spec, bot=bot, people=people, providers=providers, toolbox=toolbox, direct=direct,
                      provider_rooms=provider_rooms, community_of=community_of, forum_id=forum_id, cafes=cafes,
                      devices=devices, build={"seconds": round(build_s, 1), "phases_seconds": phases,
                                              "homeserver_calls": pool.calls, "concurrency": concurrency,
                                              "rooms": spec.rooms, "cpu_seconds": cpu_total,
                                              "phases_cpu_seconds": cpu, "load": os.getloadavg()[0]})



async def drain_outbox(app: App, timeout: float = 600) -> float:
    """Wait until the bot's outbox is empty (a snapshot must not hold a backlog that the next
    run would send while it measures); returns the seconds waited."""
    from bot.models import OutboxMessage

    assert app.db is not None
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with app.db.session() as s:
            if not s.scalar(select(func.count()).select_from(OutboxMessage)):
                return time.monotonic() - started
        await asyncio.sleep(1)
    raise RuntimeError(f"the bot's outbox was not empty after {timeout:.0f} s")


# --- snapshots ---------------------------------------------------------------------------------

@dataclass
class Prepared:
    server: Homeserver
    population: Population
    bot_dir: Path
    tmp: Path
    restored_from: Path | None  # the snapshot copied, or None when built in this run
    seconds: float  # building, or copying the snapshot and starting the homeserver


def _move_paths(hs_dir: Path) -> None:
    """Synapse's generated config holds absolute paths (pid file, signing key, ...) into the
    folder it was built in: point them at the copy."""
    for config in hs_dir.rglob("homeserver.yaml"):
        text = config.read_text()
        pid_line = next((line for line in text.splitlines() if line.startswith("pid_file:")), None)
        if pid_line is None:
            continue
        old = str(Path(pid_line.split(":", 1)[1].strip()).parent)
        new = str(config.parent.resolve())
        for path in config.parent.iterdir():
            if path.is_file() and path.suffix in (".yaml", ".config"):
                path.write_text(path.read_text().replace(old, new))


def _workers_of(server: Homeserver) -> WorkersSynapse | None:
    inner = getattr(server, "server", None)
    return inner if isinstance(inner, WorkersSynapse) else None


def snapshot_paths(spec: PopulationSpec, synapse: str) -> tuple[Path, str | None] | None:
    """Where a population is kept for this homeserver: its folder in ``bench/cache`` and, for
    Synapse with workers, the name of its saved PostgreSQL database; None when it is not kept."""
    if synapse == "single":
        return CACHE / spec.key(), None
    if synapse == "workers" or re.fullmatch(r"workers-\d+-\d+", synapse):
        layout = synapse.replace("-", "_")
        return CACHE / f"{spec.key()}-{synapse}", f"synapse_saved_{spec.key().rsplit('-', 1)[1]}_{layout}"
    return None


async def prepare(spec: PopulationSpec, tmp: Path, *, synapse: str = "single", concurrency: int = 12,
                  database_url: str | None = None, rebuild: bool = False,
                  progress: Callable[[str], None] = print) -> Prepared:
    """A started homeserver with the population, the bot's data in ``tmp/bot`` (bot stopped).
    From the snapshot when there is one, else built (and kept as the snapshot). Kept: single
    Synapse (its SQLite database is in its folder) and Synapse with workers (its PostgreSQL
    database saved as a template, ``WorkersSynapse.save_database``), with the bot's database in its
    folder. The caller stops ``server``."""
    factory = homeserver_factory(synapse)
    bot_dir = tmp / "bot"
    kept = snapshot_paths(spec, synapse) if database_url is None else None
    t0 = time.perf_counter()
    if kept is not None and not rebuild and (kept[0] / "manifest.json").exists() and (
            kept[1] is None or saved_database_exists(kept[1])):
        snapshot = kept[0]
        server = _restore(snapshot, kept[1], tmp, factory)
        population = Population.from_json(json.loads((snapshot / "manifest.json").read_text()))
        seconds = time.perf_counter() - t0
        progress(f"population {snapshot.name} restored from its snapshot in {seconds:.1f} s "
                 f"(built once in {population.build.get('seconds')} s)")
        return Prepared(server, population, bot_dir, tmp, snapshot, seconds)
    # A single Synapse's snapshot is built in memory (see SCRATCH) and the run then goes on from a
    # copy of it on disk, exactly as a later run restored from the snapshot does.
    in_memory = kept is not None and kept[1] is None and SCRATCH is not None
    scratch = Path(tempfile.mkdtemp(prefix="reconnect-build-", dir=SCRATCH)) if in_memory else tmp
    server = factory(scratch / "hs")
    server.start()
    try:
        progress(f"building population {spec.key()}: {spec.rooms} rooms, {spec.participants} participants "
                 f"(concurrency {concurrency}, on {synapse}, in {scratch})")
        population = await build(spec, server, scratch / "bot", concurrency, database_url, progress)
        seconds = time.perf_counter() - t0
        if kept is not None:
            snapshot, saved = kept
            workers = _workers_of(server)
            if workers is not None and saved is not None:
                workers.stop(keep_database=True)
                workers.save_database(saved)
            else:
                server.stop()  # a consistent copy of its database
            partial = snapshot.with_name(snapshot.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            shutil.copytree(scratch / "hs", partial / "hs")
            shutil.copytree(scratch / "bot", partial / "bot")
            shutil.copytree(scratch / "secrets", partial / "secrets")
            manifest = population.to_json()
            if workers is not None:
                manifest["homeserver"] = {"server_name": workers.server_name, "database": saved}
            (partial / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
            shutil.rmtree(snapshot, ignore_errors=True)
            partial.rename(snapshot)
            progress(f"snapshot kept in {snapshot}" + (f" and database {saved}" if saved else ""))
            if scratch != tmp:
                shutil.rmtree(scratch, ignore_errors=True)
                server = _restore(snapshot, None, tmp, factory)
            else:
                server.start()  # workers: on its own database, kept at the stop
    except BaseException:
        server.stop()
        if scratch != tmp:
            shutil.rmtree(scratch, ignore_errors=True)
        raise
    return Prepared(server, population, bot_dir, tmp, None, seconds)


def _restore(snapshot: Path, saved: str | None, tmp: Path, factory: Callable[[Path], Homeserver]) -> Homeserver:
    """A started homeserver from a copy of the snapshot in ``tmp`` (and of its saved database)."""
    hs_dir = tmp / "hs"
    shutil.copytree(snapshot / "hs", hs_dir)
    shutil.copytree(snapshot / "bot", tmp / "bot")
    shutil.copytree(snapshot / "secrets", tmp / "secrets")  # the content key, beside the data folder
    _move_paths(hs_dir)
    server = factory(hs_dir)
    workers = _workers_of(server)
    if saved is not None and workers is not None:
        manifest = json.loads((snapshot / "manifest.json").read_text())
        workers.restore(saved, manifest["homeserver"]["server_name"])
    server.start()
    return server


def settings_for(prepared: Prepared, database_url: str | None = None) -> Settings:
    return _settings(prepared.server.url, prepared.population.bot, prepared.bot_dir, prepared.population.spec,
                     database_url)


# --- the earlier, lighter population (kept for small runs) ---------------------------------------

async def join_all(homeserver: str, pairs: Sequence[tuple[Account, str]], concurrency: int = 8) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def join(account: Account, room_id: str) -> None:
        async with gate:
            data = await http_json("POST", f"{homeserver}/_matrix/client/v3/join/{quote(room_id)}",
                                   account.access_token, {})
            assert "room_id" in data, data

    await asyncio.gather(*(join(a, r) for a, r in pairs))


async def enrol_with_toolboxes(app: App, people: Sequence[Account], community: str = "North",
                               concurrency: int = 8) -> dict[str, str]:
    """Active participants with toolbox rooms (no devices); returns user id → toolbox room id."""
    assert app.db is not None and app.port is not None
    rooms: dict[str, str] = {}
    with app.db.session() as s:
        for i, person in enumerate(people):
            s.merge(Participant(user_id=person.user_id, status=EnrolmentStatus.ACTIVE.value,
                                pseudonym=f"Bench{i:04d}", pseudonym_key=f"bench{i:04d}", community=community))
    gate = asyncio.Semaphore(concurrency)

    async def make(person: Account) -> None:
        async with gate:
            with app.db.session() as s:  # type: ignore[union-attr]
                rooms[person.user_id], _ = await ensure_toolbox_room(s, app.port, person.user_id, "Toolbox")

    await asyncio.gather(*(make(p) for p in people))
    await join_all(app.settings.homeserver.url, [(p, rooms[p.user_id]) for p in people])
    return rooms


def add_population_arguments(parser: argparse.ArgumentParser) -> None:
    """The population's options, the same for the builder, ``bench.scale`` and ``bench.fanout``
    (so that they share one snapshot), with the homeserver and building options."""
    d = PopulationSpec()
    parser.add_argument("--participants", "--rooms", type=int, default=d.participants,
                        help="participants (each with a toolbox room, a direct chat and provider rooms)")
    parser.add_argument("--forum", type=int, default=d.forum, help="forum members (of those participants)")
    parser.add_argument("--cafes", type=int, default=d.cafes)
    parser.add_argument("--providers", type=int, default=d.providers)
    parser.add_argument("--provider-rooms", type=int, default=d.provider_rooms, help="per participant")
    parser.add_argument("--no-direct-chats", action="store_true")
    parser.add_argument("--cafe-members", type=int, default=None, help="participants in a café (default: all)")
    parser.add_argument("--synapse", default="single",
                        help="single (default), single-postgres, workers, workers-P-W (P event persisters, "
                             "W workers making the events), or module:callable")
    parser.add_argument("--rebuild", action="store_true", help="build the population even if a snapshot exists")
    parser.add_argument("--concurrency", type=int, default=12, help="requests at a time while building")


def spec_from(args: argparse.Namespace, *, at_least: int = 0) -> PopulationSpec:
    """The population those options describe (with at least ``at_least`` participants)."""
    participants = max(args.participants, at_least)
    return PopulationSpec(participants=participants, forum=min(args.forum, args.participants), cafes=args.cafes,
                          providers=args.providers, provider_rooms=args.provider_rooms,
                          direct_chats=not args.no_direct_chats, cafe_members=args.cafe_members)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_population_arguments(parser)
    args = parser.parse_args(argv)
    quiet_logs()
    spec = spec_from(args)

    async def run() -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="reconnect-pop-") as tmp:
            prepared = await prepare(spec, Path(tmp), synapse=args.synapse, concurrency=args.concurrency,
                                     rebuild=args.rebuild)
            prepared.server.stop()
            return {"key": spec.key(), "rooms": spec.rooms, "restored": prepared.restored_from is not None,
                    "seconds": round(prepared.seconds, 1), "build": prepared.population.build}

    result = asyncio.run(run())
    print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
