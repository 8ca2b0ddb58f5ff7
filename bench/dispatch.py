"""In-process commands per second through parse, permission check and domain, for toolbox
commands (``!goal add``, ``!goals``, ``!goal delete``), on SQLite and on PostgreSQL.

Each command runs the way the bot runs it: one transaction per event (context, router, handler,
the reply queued in the outbox, the event marked handled, commit). Matrix is a FakePort.

    .venv/bin/python -m bench.dispatch [--n 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import delete

from bench.common import pg_schema, postgres_available, print_table, write_result
from bot.context import Services
from bot.db import Database, FieldCipher, install_cipher
from bot.features import load_features
from bot.migrate import upgrade
from bot.models import EnrolmentStatus, HandledEvent, OutboxMessage, Participant, RoomKind
from bot.roomdir import register_room
from bot.router import dispatch_command
from tests.support.core import FakePort, catalogue_for, make_context, router_for, test_settings

USER = "@bench:localhost"
ROOM = "!toolbox-bench:localhost"
CYCLE = ("!goal add Health: walk to the shop and back {i}", "!goals", "!goal delete 1")


def label(body: str) -> str:
    return " ".join(body.split()[:2]) if body.startswith("!goal ") else body.split()[0]


def prepare(url: str, features: list) -> Database:
    db = Database(url)
    upgrade(db.engine, features)
    with db.session() as s:
        s.add(Participant(user_id=USER, status=EnrolmentStatus.ACTIVE.value, pseudonym="Bench",
                          pseudonym_key="bench", community="North"))
        register_room(s, ROOM, RoomKind.TOOLBOX, owner=USER)
    return db


async def run(db: Database, services: Services, n: int) -> dict[str, Any]:
    per_command: dict[str, list[float]] = {label(c): [] for c in CYCLE}
    started = time.perf_counter()
    for i in range(n):
        body = CYCLE[i % len(CYCLE)].format(i=i)
        t0 = time.perf_counter()
        with db.session() as session:
            ctx = make_context(session, services, sender=USER, room_id=ROOM, body=body, event_id=f"$e{i}")
            name = await dispatch_command(services.router, ctx)
            assert ctx.sent, f"no reply to {body!r}"
            session.add(HandledEvent(event_id=f"$e{i}", room_id=ROOM))
        per_command[label(body)].append(time.perf_counter() - t0)
        assert name is not None
        if i % 100 == 99:  # the sender would have sent and deleted these
            with db.session() as session:
                session.execute(delete(OutboxMessage))
    elapsed = time.perf_counter() - started
    return {"commands": n, "seconds": round(elapsed, 3), "per_second": round(n / elapsed, 1),
            "mean_ms_by_command": {k: round(sum(v) / len(v) * 1000, 2) for k, v in per_command.items()}}


async def main_async(n: int, postgres: bool) -> dict[str, Any]:
    install_cipher(FieldCipher(os.urandom(32)))
    features = load_features()
    settings = test_settings()
    services = Services(settings=settings, catalogue=catalogue_for(features), port=FakePort(),
                        router=router_for(features, settings.bot.command_prefix), features=features)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="reconnect-dispatch-") as tmp:
        db = prepare(f"sqlite:///{Path(tmp) / 'bench.db'}", features)
        results["sqlite"] = await run(db, services, n)
        db.dispose()
    if postgres and postgres_available():
        with pg_schema("dispatch") as url:
            db = prepare(url, features)
            results["postgresql"] = await run(db, services, n)
            db.dispose()
    else:
        results["postgresql"] = {"skipped": "PostgreSQL not reachable on 127.0.0.1:5432"}
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="commands per database")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    results = asyncio.run(main_async(args.n, not args.no_postgres))
    rows = []
    for engine, r in results.items():
        if "skipped" in r:
            rows.append((engine, "-", "-", r["skipped"]))
            continue
        by = r["mean_ms_by_command"]
        rows.append((engine, r["commands"], r["per_second"],
                     ", ".join(f"{k} {v} ms" for k, v in by.items())))
    print_table("Dispatch: toolbox commands in process (parse, permission, domain, commit)",
                ("database", "commands", "commands/s", "mean per command"), rows)
    path = write_result("dispatch", {"cycle": list(CYCLE), "results": results})
    print(f"written {path}")
    return results


if __name__ == "__main__":
    main()
