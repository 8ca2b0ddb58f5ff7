"""Synapse with workers on PostgreSQL and Redis, for the integration tests and the benchmarks.

The same interface as :class:`bot.localsynapse.LocalSynapse` (``start``, ``stop``, ``url``,
``register``, ``shared_secret``, ``data_dir``), but five processes instead of one:

- ``main``: the main process (admin API, media, event creation, everything not routed below);
- ``sync``: a ``generic_worker`` serving ``/sync`` and the other sync endpoints;
- ``reader``: a ``generic_worker`` serving client reads and the ``/keys`` endpoints;
- ``persister``: a ``generic_worker`` that is the only writer of the ``events`` stream;
- a small reverse proxy (:func:`run_proxy`, its own process) on ``url``, routing client paths as
  Synapse's worker documentation lists them and everything else to ``main``. It counts the
  requests each upstream served (``request_counts()``), so a test can show the workers were used.

Each run gets a fresh PostgreSQL database (dropped at stop) and a server name of its own: Synapse's
Redis replication channel is named after the server name, and Redis pub/sub ignores the database
number, so two runs with the same name on one Redis would hear each other.
Every process is started and stopped by its pid.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

from bot.localsynapse import LocalSynapse, free_port

log = logging.getLogger(__name__)

PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379

# Endpoint regexes from Synapse's docs/workers.md ("synapse.app.generic_worker"). Order matters:
# the first match wins; methods None means any method.
_C = "^/_matrix/client/"
SYNC_ROUTES: list[tuple[str, str, frozenset[str] | None]] = [
    ("sync", _C + r"(r0|v3)/sync$", None),
    ("events", _C + r"(api/v1|r0|v3)/events$", None),
    ("initial_sync", _C + r"(api/v1|r0|v3)/initialSync$", None),
    ("room_initial_sync", _C + r"(api/v1|r0|v3)/rooms/[^/]+/initialSync$", None),
]
READER_ROUTES: list[tuple[str, str, frozenset[str] | None]] = [
    # Encryption requests
    ("keys", _C + r"(r0|v3|unstable)/keys/(query|changes|claim)$", None),
    ("keys_upload", _C + r"(r0|v3|unstable)/keys/upload", None),
    ("keys_signing", _C + r"(api/v1|r0|v3|unstable)/keys/(device_signing|signatures)/upload$", None),
    ("room_keys", _C + r"(r0|v3|unstable)/room_keys/", None),
    # Client reads
    ("joined_members", _C + r"(api/v1|r0|v3|unstable)/rooms/.*/joined_members$", None),
    ("members", _C + r"(api/v1|r0|v3|unstable)/rooms/.*/members$", None),
    ("context", _C + r"(api/v1|r0|v3|unstable)/rooms/.*/context/.*$", None),
    ("room_state", _C + r"(api/v1|r0|v3|unstable)/rooms/.*/state$", frozenset({"GET"})),
    ("event", _C + r"(api/v1|r0|v3|unstable)/rooms/.*/event/", None),
    ("relations", _C + r"(v1|unstable)/rooms/.*/relations/", None),
    ("messages", _C + r"(api/v1|r0|v3|unstable)/rooms/.*/messages$", None),
    ("joined_rooms", _C + r"(api/v1|r0|v3|unstable)/joined_rooms$", None),
    ("whoami", _C + r"(r0|v3|unstable)/account/whoami$", None),
    ("capabilities", _C + r"(r0|v3|unstable)/capabilities$", None),
    ("versions", _C + r"versions$", None),
    ("filter", _C + r"(r0|v3|unstable)/user/.*/filter(/|$)", None),
    ("profile", _C + r"(api/v1|r0|v3|unstable)/profile/", frozenset({"GET"})),
]


# Event-sending requests ("writer" workers, when the homeserver has them): room creation and every
# request that makes an event in a room. With several writers the proxy sends all of one room's
# requests to the same one (by the room id), room creation to each in turn.
WRITER_ROUTES: list[tuple[str, str, frozenset[str] | None]] = [
    ("create_room", _C + r"(api/v1|r0|v3|unstable)/createRoom$", None),
    ("join", _C + r"(api/v1|r0|v3|unstable)/join/", None),
    ("knock", _C + r"(api/v1|r0|v3|unstable)/knock/", None),
    ("membership", _C + r"(api/v1|r0|v3|unstable)/rooms/[^/]+/(join|invite|leave|ban|unban|kick)$", None),
    ("send", _C + r"(api/v1|r0|v3|unstable)/rooms/[^/]+/send/", None),
    ("state_event", _C + r"(api/v1|r0|v3|unstable)/rooms/[^/]+/state/", None),
    ("redact", _C + r"(api/v1|r0|v3|unstable)/rooms/[^/]+/redact", None),
]
_ROOM_IN_PATH = re.compile(r"/(?:rooms|join|knock)/([^/]+)")


@dataclass(frozen=True)
class Route:
    name: str
    pattern: re.Pattern[str]
    methods: frozenset[str] | None
    upstream: str


def routing_table(writers: bool = False) -> list[Route]:
    """Which worker serves which client path; anything unmatched goes to ``main``. ``writers``:
    event-sending requests go to the ``writer`` workers (else to ``main``)."""
    return ([Route(n, re.compile(p), m, "sync") for n, p, m in SYNC_ROUTES]
            + [Route(n, re.compile(p), m, "reader") for n, p, m in READER_ROUTES]
            + ([Route(n, re.compile(p), m, "writer") for n, p, m in WRITER_ROUTES] if writers else []))


def pick_upstream(group: str, names: list[str], path: str, turn: int) -> str:
    """The one upstream of a group (``writer`` → ``writer1``, ``writer2``, ...) for a request: by the
    room id in the path, so one room's events are made by one process, else by ``turn``."""
    members = [n for n in names if n == group or re.fullmatch(re.escape(group) + r"\d+", n)]
    if len(members) <= 1:
        return members[0] if members else "main"
    room = _ROOM_IN_PATH.search(path)
    index = zlib.crc32(unquote(room.group(1)).encode()) if room else turn
    return members[index % len(members)]


def route_for(routes: list[Route], method: str, path: str) -> tuple[str, str]:
    """(upstream, route name) for a request."""
    for route in routes:
        if (route.methods is None or method in route.methods) and route.pattern.search(path):
            return route.upstream, route.name
    return "main", "other"


# --- services ------------------------------------------------------------------------------------

def postgres_ready() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_DSN, connect_timeout=3) as c:
            c.execute("select 1")
        return True
    except Exception:  # noqa: BLE001 - any failure means "not usable"
        return False


def redis_ready() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _try(cmd: list[str]) -> None:
    if shutil.which(cmd[0]):
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60, check=False)


def ensure_services() -> str | None:
    """Start PostgreSQL and Redis if they are down. Returns None when both answer, else why not."""
    if not postgres_ready():
        _try(["service", "postgresql", "start"])
        clusters = Path("/etc/postgresql")
        if not postgres_ready() and clusters.is_dir():
            for version in sorted(p.name for p in clusters.iterdir()):
                _try(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"])
        for _ in range(20):
            if postgres_ready():
                break
            time.sleep(0.5)
    if not redis_ready():
        _try(["service", "redis-server", "start"])
        if not redis_ready():
            _try(["redis-server", "--daemonize", "yes", "--bind", REDIS_HOST, "--port", str(REDIS_PORT)])
        for _ in range(20):
            if redis_ready():
                break
            time.sleep(0.5)
    missing = [name for name, ok in (("PostgreSQL on 127.0.0.1:5432", postgres_ready()),
                                     (f"Redis on {REDIS_HOST}:{REDIS_PORT}", redis_ready())) if not ok]
    return f"not running and could not be started: {', '.join(missing)}" if missing else None


# --- the homeserver ------------------------------------------------------------------------------

@dataclass
class SynapseProcess:
    name: str
    app: str  # python module
    config: Path | None  # the worker's own config (None for main)
    health_port: int
    process: subprocess.Popen[bytes] | None = None


class WorkersSynapse(LocalSynapse):
    """Main process, sync worker, reader worker, event persister and a routing proxy; optionally
    more event persisters (the events stream sharded by room) and ``writers`` generic workers that
    make the events (room creation, joins, invitations, sends, state) instead of the main process."""

    def __init__(self, data_dir: Path, *, server_name: str | None = None, fast_passwords: bool = False,
                 persisters: int = 1, writers: int = 0) -> None:
        run = uuid.uuid4().hex[:8]
        super().__init__(data_dir, server_name=server_name or f"w{run}.localhost", fast_passwords=fast_passwords)
        self.db_name = f"synapse_workers_{run}"
        self.persisters = ["persister"] + [f"persister{i}" for i in range(2, persisters + 1)]
        self.writers = [f"writer{i}" for i in range(1, writers + 1)]
        self.workers = (*self.persisters, "sync", "reader", *self.writers)
        self.ports = {name: free_port() for name in ("proxy", "main", "main_replication", *self.workers)}
        self.port = self.ports["proxy"]
        self.database = {"name": "psycopg2", "args": {"user": "postgres", "host": "127.0.0.1", "port": 5432,
                                                      "database": self.db_name, "cp_min": 2, "cp_max": 10}}
        self.processes: list[SynapseProcess] = []
        self.proxy: subprocess.Popen[bytes] | None = None
        self._db_created = False
        self.template: str | None = None  # a saved database (save_database) to start from

    def restore(self, template: str, server_name: str) -> None:
        """Start (in a data folder copied from a saved homeserver) from a copy of the database that
        ``save_database`` kept, with the server name it was made with."""
        self.template, self.server_name = template, server_name

    # URLs of each process, for readiness checks and direct use.
    def upstreams(self) -> dict[str, str]:
        return {name: f"http://127.0.0.1:{self.ports[name]}" for name in ("main", "sync", "reader", *self.writers)}

    def _write_base_config(self) -> None:
        """What ``--generate-config`` would write, without the seconds of importing Synapse for it;
        LocalSynapse.prepare fills in the rest."""
        from signedjson.key import generate_signing_key, write_signing_keys

        self.data_dir.mkdir(parents=True, exist_ok=True)
        key_path = self.data_dir / f"{self.server_name}.signing.key"
        with open(key_path, "w") as key_file:
            write_signing_keys(key_file, [generate_signing_key("a_" + secrets.token_hex(2))])
        self.config_path.write_text(yaml.safe_dump({
            "server_name": self.server_name,
            "pid_file": str(self.data_dir / "homeserver.pid"),
            "signing_key_path": str(key_path),
            "macaroon_secret_key": secrets.token_urlsafe(32),
            "form_secret": secrets.token_urlsafe(32),
            "registration_shared_secret": secrets.token_urlsafe(32),
            "report_stats": False,
        }, sort_keys=False))

    def prepare(self) -> None:
        if not self.config_path.exists():
            self._write_base_config()
        super().prepare()
        config = yaml.safe_load(self.config_path.read_text())
        http = {"type": "http", "tls": False, "bind_addresses": ["127.0.0.1"]}
        config["listeners"] = [
            {**http, "port": self.ports["main"], "x_forwarded": True,
             "resources": [{"names": ["client"], "compress": False}]},
            {**http, "port": self.ports["main_replication"], "resources": [{"names": ["replication"]}]},
        ]
        config.update({
            "public_baseurl": self.url + "/",
            "worker_replication_secret": config.get("worker_replication_secret") or secrets.token_hex(16),
            # Redis pub/sub channels are named after the server name, which is unique per run; the
            # database number keeps Synapse's cache keys apart from other users of this Redis.
            "redis": {"enabled": True, "host": REDIS_HOST, "port": REDIS_PORT,
                      "dbid": 1 + int(self.db_name[-8:], 16) % 15},
            "instance_map": {
                "main": {"host": "127.0.0.1", "port": self.ports["main_replication"]},
                **{name: {"host": "127.0.0.1", "port": self.ports[name]} for name in self.persisters},
            },
            "stream_writers": {"events": list(self.persisters)},
        })
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False) + "\n")
        self.processes = [SynapseProcess("main", "synapse.app.homeserver", None, self.ports["main"])]
        for name in self.workers:
            resources = ["replication"] if name in self.persisters else ["client"]
            worker: dict[str, Any] = {
                "worker_app": "synapse.app.generic_worker",
                "worker_name": name,
                "worker_listeners": [{"type": "http", "port": self.ports[name], "bind_addresses": ["127.0.0.1"],
                                      "x_forwarded": True,
                                      "resources": [{"names": resources, "compress": False}]}],
                "worker_log_config": str(self._worker_log_config(name)),
            }
            path = self.data_dir / f"worker-{name}.yaml"
            path.write_text(yaml.safe_dump(worker, sort_keys=False))
            self.processes.append(SynapseProcess(name, "synapse.app.generic_worker", path, self.ports[name]))
        (self.data_dir / "proxy.json").write_text(json.dumps({
            "port": self.ports["proxy"], "upstreams": self.upstreams(), "writers": bool(self.writers)}))

    def _worker_log_config(self, name: str) -> Path:
        path = self.data_dir / f"log-{name}.config"
        path.write_text(
            "version: 1\nformatters:\n  f:\n    format: '%(asctime)s %(levelname)s %(name)s %(message)s'\n"
            "handlers:\n  file:\n    class: logging.FileHandler\n    formatter: f\n"
            f"    filename: {self.data_dir / f'{name}.log'}\n"
            "root:\n  level: WARNING\n  handlers: [file]\ndisable_existing_loggers: false\n")
        return path

    def _create_database(self) -> None:
        import psycopg

        with psycopg.connect(PG_DSN, autocommit=True) as c:
            if self.template:  # a file copy of the saved database: seconds, however large
                c.execute(f"CREATE DATABASE {self.db_name} TEMPLATE {_saved_name(self.template)}")
            else:
                c.execute(f"CREATE DATABASE {self.db_name} ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' "
                          "TEMPLATE template0")
        self._db_created = True

    def save_database(self, name: str) -> None:
        """Keep a copy of the (stopped) homeserver's database as ``name``, to ``restore`` from;
        an earlier copy of that name is replaced."""
        import psycopg

        if self.processes and any(p.process is not None for p in self.processes):
            raise RuntimeError("stop the homeserver (keep_database=True) before saving its database")
        with psycopg.connect(PG_DSN, autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {_saved_name(name)}")
            c.execute(f"CREATE DATABASE {_saved_name(name)} TEMPLATE {self.db_name}")

    def _drop_database(self, wait: bool) -> None:
        """DROP DATABASE waits for a checkpoint, which takes tens of seconds on a busy server; unless
        asked to wait, a detached process of its own drops it and ``stop`` returns at once."""
        if not self._db_created:
            return
        self._db_created = False
        if wait:
            drop_database(self.db_name)
        else:
            subprocess.Popen([sys.executable, "-m", "bot.localsynapse_workers", "dropdb", self.db_name],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def _spawn(self, proc: SynapseProcess) -> None:
        cmd = [sys.executable, "-m", proc.app, "-c", str(self.config_path)]
        if proc.config is not None:
            cmd += ["-c", str(proc.config)]
        out = open(self.data_dir / f"{proc.name}.stdout.log", "ab")
        proc.process = subprocess.Popen(cmd, cwd=self.data_dir, stdout=out, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        out.close()

    def _wait_healthy(self, procs: list[SynapseProcess], deadline: float) -> None:
        waiting = list(procs)
        while waiting:
            for proc in list(waiting):
                assert proc.process is not None
                if proc.process.poll() is not None:
                    raise RuntimeError(f"Synapse {proc.name} exited at start; see "
                                       f"{self.data_dir / (proc.name if proc.config else 'homeserver')}.log")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{proc.health_port}/health", timeout=2) as r:
                        if r.status == 200:
                            waiting.remove(proc)
                except (urllib.error.URLError, OSError):
                    pass
            if waiting and time.monotonic() > deadline:
                raise RuntimeError(f"Synapse {', '.join(p.name for p in waiting)} not healthy in time")
            if waiting:
                time.sleep(0.2)

    def start(self, timeout: float = 180.0) -> None:
        reason = ensure_services()
        if reason:
            raise RuntimeError(f"Synapse with workers needs PostgreSQL and Redis: {reason}")
        deadline = time.monotonic() + timeout
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self._db_created:  # a start after stop(keep_database=True) resumes on the same one
            self._create_database()
        try:
            self.prepare()
            # The main process creates the schema; workers refuse an unprepared database.
            main, workers = self.processes[0], self.processes[1:]
            self._spawn(main)
            (self.data_dir / "synapse.pid").write_text(str(main.process.pid if main.process else ""))
            self._wait_healthy([main], deadline)
            for proc in workers:
                self._spawn(proc)
            out = open(self.data_dir / "proxy.log", "ab")
            self.proxy = subprocess.Popen([sys.executable, "-m", "bot.localsynapse_workers", "proxy",
                                           str(self.data_dir / "proxy.json")],
                                          stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            out.close()
            self._wait_healthy(workers, deadline)
            self._wait_proxy(deadline)
        except BaseException:
            self.stop()
            raise

    def _wait_proxy(self, deadline: float) -> None:
        while True:
            assert self.proxy is not None
            if self.proxy.poll() is not None:
                raise RuntimeError(f"the routing proxy exited; see {self.data_dir / 'proxy.log'}")
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the routing proxy did not answer on {self.url}")
            time.sleep(0.2)

    def request_counts(self) -> dict[str, dict[str, int]]:
        """Requests the proxy forwarded so far: {upstream: {route name: count}}."""
        with urllib.request.urlopen(f"{self.url}{COUNTS_PATH}", timeout=5) as r:
            counts: dict[str, dict[str, int]] = json.load(r)
            return counts

    def pids(self) -> dict[str, int]:
        pids = {p.name: p.process.pid for p in self.processes if p.process is not None}
        if self.proxy is not None:
            pids["proxy"] = self.proxy.pid
        return pids

    def stop(self, *, keep_database: bool = False, wait_for_drop: bool = False) -> None:
        """Stop every process and drop the database; ``keep_database`` for an outage (a later
        ``start`` resumes where the homeserver was, as LocalSynapse does with its SQLite file)."""
        # Workers first, the main process after them, then the proxy; each by its own pid.
        running = [p.process for p in reversed(self.processes) if p.process is not None]
        if self.proxy is not None:
            running.append(self.proxy)
        for process in running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in running:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for p in self.processes:
            p.process = None
        self.proxy = None
        self.process = None
        if not keep_database:
            self._drop_database(wait_for_drop)


def _saved_name(name: str) -> str:
    if not re.fullmatch(r"synapse_saved_[0-9a-z_]{1,40}", name):
        raise ValueError(f"not a saved database name of this harness: {name}")
    return name


def saved_database_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(PG_DSN, autocommit=True) as c:
        return c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (_saved_name(name),)).fetchone() is not None


def drop_database(name: str) -> None:
    import psycopg

    if not re.fullmatch(r"synapse_workers_[0-9a-f]{8}", name):
        raise ValueError(f"not a database of this harness: {name}")
    with psycopg.connect(PG_DSN, autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --- the routing proxy ---------------------------------------------------------------------------

COUNTS_PATH = "/_reconnect_proxy/counts"
# Hop-by-hop headers (RFC 9110 7.6.1) are not forwarded. Content-Length is: Synapse refuses an
# upload without one, and with it aiohttp streams the body as is instead of chunking it.
_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "host"}


async def serve_proxy(port: int, upstreams: dict[str, str], writers: bool = False) -> None:
    """Forward every request to the upstream its path routes to, streaming bodies both ways (long
    /sync polls and media pass through untouched), and count requests per upstream and route."""
    from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector, web
    from multidict import CIMultiDict

    routes = routing_table(writers)
    names = list(upstreams)
    turns = Counter[str]()
    counts: dict[str, Counter[str]] = {name: Counter() for name in upstreams}
    # No total timeout: a /sync long-poll lasts as long as the client asked for.
    session = ClientSession(connector=TCPConnector(limit=0), auto_decompress=False,
                            timeout=ClientTimeout(total=None, sock_connect=10))

    async def forward(request: web.Request) -> web.StreamResponse:
        if request.path == COUNTS_PATH:
            return web.json_response({u: dict(c) for u, c in counts.items()})
        group, route = route_for(routes, request.method, request.path)
        upstream = pick_upstream(group, names, request.path, turns[group])
        turns[group] += 1
        counts[upstream][route] += 1
        headers = CIMultiDict((k, v) for k, v in request.headers.items() if k.lower() not in _HOP)
        headers["X-Forwarded-For"] = request.remote or "127.0.0.1"
        headers["X-Forwarded-Proto"] = "http"
        headers["Host"] = request.host
        body = request.content if request.body_exists else None
        response: web.StreamResponse | None = None
        try:
            async with session.request(request.method, upstreams[upstream] + request.path_qs, headers=headers,
                                       data=body, allow_redirects=False) as upstream_response:
                response = web.StreamResponse(status=upstream_response.status, reason=upstream_response.reason)
                for key, value in upstream_response.headers.items():
                    if key.lower() not in _HOP:
                        response.headers.add(key, value)
                await response.prepare(request)
                async for chunk in upstream_response.content.iter_chunked(65536):
                    await response.write(chunk)
                await response.write_eof()
                return response
        except (ClientError, ConnectionResetError) as err:
            if response is not None and response.prepared:
                # Mid-stream: the client went away (a /sync cancelled at its close) or the upstream
                # did; the status line is sent, so ending here is all that is left.
                return response
            # An upstream stopping or not yet listening: a Bad Gateway, as nginx would answer.
            log.warning("proxy: %s %s -> %s failed: %s", request.method, route, upstream, type(err).__name__)
            return web.json_response({"errcode": "M_UNKNOWN", "error": "Bad gateway"}, status=502)

    app = web.Application(client_max_size=1024**3)
    app.router.add_route("*", "/{tail:.*}", forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()
    await session.close()


def run_proxy(config_file: Path) -> None:
    config = json.loads(config_file.read_text())
    asyncio.run(serve_proxy(int(config["port"]), dict(config["upstreams"]), bool(config.get("writers"))))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True)
    proxy = sub.add_parser("proxy", help="run the routing proxy (the harness starts it)")
    proxy.add_argument("config", type=Path)
    dropdb = sub.add_parser("dropdb", help="drop a database this harness made (stop does it)")
    dropdb.add_argument("name")
    run = sub.add_parser("run", help="start the whole homeserver in a folder and wait for Ctrl-C")
    run.add_argument("data_dir", type=Path)
    args = parser.parse_args(argv)
    if args.command == "proxy":
        run_proxy(args.config)
        return
    if args.command == "dropdb":
        drop_database(args.name)
        return
    server = WorkersSynapse(args.data_dir, fast_passwords=True)
    server.start()
    print(f"Synapse with workers on {server.url} (server name {server.server_name}); pids {server.pids()}",
          flush=True)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        server.stop()


if __name__ == "__main__":
    main()
