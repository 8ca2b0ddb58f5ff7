"""What every benchmark shares: a private Synapse in a temporary folder, fast account creation,
percentiles, the printed table and the JSON result file. Loopback only."""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import aiohttp
from sqlalchemy import text

from bot.config import Settings
from bot.db import make_engine
from bot.localsynapse import LocalSynapse, registration_mac
from bot.localsynapse_workers import WorkersSynapse, ensure_services

RESULTS = Path(__file__).parent / "results"
PG_BASE = os.environ.get("RECONNECT_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


# --- numbers and output ------------------------------------------------------------------------

def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100), linear between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary_ms(values: Sequence[float]) -> dict[str, float]:
    """p50/p95/mean of durations in seconds, as milliseconds."""
    return {"n": len(values), "p50_ms": round(percentile(values, 50) * 1000, 1),
            "p95_ms": round(percentile(values, 95) * 1000, 1),
            "mean_ms": round(statistics.fmean(values) * 1000, 1) if values else float("nan")}


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(c) for c in header]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    print(f"\n{title}\n{line}")
    for i, r in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
        if i == 0:
            print(line)
    print(line, flush=True)


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {"benchmark": name, "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "homeserver": synapse_kind(), **data}
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def quiet_logs() -> None:
    """nio warns about every unverified device and missing session; benchmarks print tables."""
    import logging

    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("nio").setLevel(logging.CRITICAL)


def verdict(value: float, target: float) -> str:
    return "met" if value <= target else "MISSED"


# --- PostgreSQL --------------------------------------------------------------------------------

def postgres_available() -> bool:
    try:
        engine = make_engine(PG_BASE)
        with engine.connect() as c:
            c.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001
        return False


@contextmanager
def pg_schema(prefix: str = "bench") -> Iterator[str]:
    """A private schema on the test database; yields a URL whose search_path is that schema."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_BASE)
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def pg_synapse_database() -> Iterator[dict[str, Any]]:
    """A fresh PostgreSQL database for Synapse (C collation, as Synapse requires)."""
    import psycopg

    name = f"bench_synapse_{uuid.uuid4().hex[:8]}"
    dsn = PG_BASE.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(f"CREATE DATABASE {name} LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
    try:
        yield {"name": "psycopg2", "args": {"user": "postgres", "host": "127.0.0.1", "port": 5432,
                                            "database": name, "cp_min": 2, "cp_max": 10}}
    finally:
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --- a private homeserver ----------------------------------------------------------------------

@dataclass
class Account:
    user_id: str
    password: str
    access_token: str


# Which homeserver a benchmark runs on: "single" (one Synapse process; SQLite unless a database is
# given) or "workers" (bot.localsynapse_workers: main, sync worker, reader, event persister on
# PostgreSQL and Redis, behind a routing proxy). `--synapse` on a script, or this variable for all
# of them (`RECONNECT_BENCH_SYNAPSE=workers make bench`).
SYNAPSE_KINDS = ("single", "workers")


def synapse_kind(kind: str | None = None) -> str:
    chosen = kind or os.environ.get("RECONNECT_BENCH_SYNAPSE") or "single"
    if chosen not in SYNAPSE_KINDS:
        raise SystemExit(f"unknown homeserver kind {chosen!r}; one of {', '.join(SYNAPSE_KINDS)}")
    return chosen


def add_synapse_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--synapse", choices=SYNAPSE_KINDS, default=None,
                        help="homeserver: single process, or workers on PostgreSQL and Redis "
                             "(default: $RECONNECT_BENCH_SYNAPSE or single)")


class BenchSynapse:
    """LocalSynapse (or WorkersSynapse) in a temporary folder, with cheap password hashing so
    hundreds of accounts can be made in seconds."""

    def __init__(self, root: Path, database: dict[str, Any] | None = None, kind: str | None = None,
                 persisters: int = 1, writers: int = 0) -> None:
        self.root = root
        self.kind = synapse_kind(kind)
        self.server: LocalSynapse
        if self.kind == "workers":
            # It makes (and drops) a PostgreSQL database of its own; `database` is for single Synapse.
            reason = ensure_services()
            if reason:
                raise SystemExit(f"Synapse with workers needs PostgreSQL and Redis: {reason}")
            self.server = WorkersSynapse(root / "synapse", fast_passwords=True, persisters=persisters,
                                         writers=writers)
        else:
            self.server = LocalSynapse(root / "synapse", database=database, fast_passwords=True)

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.server.stop()

    def register(self, localpart: str, password: str | None = None) -> Account:
        import urllib.request

        password = password or uuid.uuid4().hex
        base = f"{self.url}/_synapse/admin/v1/register"
        with urllib.request.urlopen(base, timeout=30) as r:
            nonce = json.load(r)["nonce"]
        body = json.dumps({"nonce": nonce, "username": localpart, "password": password, "admin": False,
                           "mac": registration_mac(self.server.shared_secret, nonce, localpart, password, False)})
        req = urllib.request.Request(base, data=body.encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            data = json.load(r)
        return Account(data["user_id"], password, data["access_token"])

    def register_many(self, prefix: str, count: int, workers: int = 8) -> list[Account]:
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(lambda i: self.register(f"{prefix}{i:04d}"), range(count)))


@contextmanager
def bench_synapse(database: dict[str, Any] | None = None, kind: str | None = None) -> Iterator[BenchSynapse]:
    """A started homeserver, stopped at the end, also when the benchmark is terminated (SIGTERM
    becomes SystemExit, so the clean-up runs instead of leaving Synapse behind). ``kind``: see
    SYNAPSE_KINDS; ``server.kind`` says which one ran, for the result file."""
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="reconnect-bench-") as tmp:
        server = BenchSynapse(Path(tmp), database, kind)
        server.start()
        try:
            yield server
        finally:
            server.stop()
            signal.signal(signal.SIGTERM, previous)


def bot_settings(server: BenchSynapse, bot: Account, data_dir: Path, *, consultants: Sequence[str] = (),
                 database_url: str | None = None) -> Settings:
    storage: dict[str, Any] = {"data_dir": str(data_dir)}
    if database_url:
        storage["database_url"] = database_url
    return Settings.model_validate({
        "homeserver": {"url": server.url},
        "bot": {"user_id": bot.user_id, "password": bot.password},
        "storage": storage,
        "people": {"consultants": list(consultants)},
        "communities": [{"name": "North"}, {"name": "South"}],
        "http": {"enabled": False},
        "log_level": "WARNING",
    })


async def http_json(method: str, url: str, token: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        async with http.request(method, url, json=body, headers={"Authorization": f"Bearer {token}"}) as r:
            return await r.json()


def rss_mb(pid: int | None = None) -> float:
    """Resident memory of a process in MB (from /proc)."""
    status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")
