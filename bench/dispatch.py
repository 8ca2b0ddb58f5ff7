"""In-process commands per second through parse, permission check and domain, for toolbox
commands (``!goal add``, ``!goals``, ``!goal delete``), on SQLite and on PostgreSQL.

Each command runs the way the bot runs it: one transaction per event (context, router, handler,
the reply queued in the outbox, the event marked handled, commit). Matrix is a FakePort.

``--populations 100,2500`` measures the cost of a command as the population grows: a database per
size is filled with that many participants and what they leave behind (toolbox room, provider
room, goals and steps, moods, diary, activities, network, handled and sent events, reminder
ledger, café RSVPs, uploads; cafés and providers), then the same commands from participants in the
middle run against each database in turns (blocks of ``BLOCK`` commands, so a busy machine slows
both alike). The SQL is captured (SQLAlchemy cursor events); on PostgreSQL every distinct
statement is EXPLAINed on the largest population (a sequential scan of a table that grows with the
population is reported), and the slowest one is shown with EXPLAIN ANALYZE.

    .venv/bin/python -m bench.dispatch [--n 3000]
    .venv/bin/python -m bench.dispatch --populations 100,2500 [--n 1200] [--no-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

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
    parser.add_argument("--populations", default=None, metavar="SMALL,LARGE",
                        help="commands/s as the population grows, e.g. 100,2500 (see the module's docstring)")
    args = parser.parse_args(argv)
    if args.populations:
        sizes = sorted(int(x) for x in args.populations.split(","))
        pop = asyncio.run(population_main(sizes, args.n, not args.no_postgres))
        print_population(pop, sizes)
        path = write_result("dispatch-population", {"sizes": sizes, "cycle": list(POP_CYCLE), "results": pop,
                                                    "target_ratio": TARGET_RATIO})
        print(f"written {path}")
        return pop
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



# --- command cost as the population grows -------------------------------------------------------

POP_CYCLE = ("!goal add Health: walk to the shop and back {i}", "!goals", "!goal delete 1", "!mood 6 fine",
             "!activities", "!network", "!cafe", "!whoami", "!help goals")
BLOCK = 30  # commands on one database before the other's turn
GROWING_TABLE_ROWS = 5000  # a sequential scan of a table this big (or bigger) is reported
TARGET_RATIO = 0.9


def pop_user(i: int) -> str:
    return f"@p{i:05d}:localhost"


def seed_population(db: Database, n: int) -> None:
    """``n`` participants with what a year of use leaves (see the module's docstring)."""
    from datetime import timedelta

    from sqlalchemy import insert

    from bot.db import utcnow
    from bot.models import ManagedRoom, Provider, SentEvent, UploadedMedia, UserPref
    from schedules.models import Cafe, ReminderLedger, Rsvp
    from toolbox.models import Activity, DiaryEntry, Goal, GoalStep, MoodEntry, NetworkContact

    now = utcnow()
    communities = ("North", "South")
    with db.session() as s:
        s.execute(insert(ManagedRoom), [{"room_id": "!forum:localhost", "kind": RoomKind.FORUM.value,
                                         "community": None, "owner": None, "partner": None, "created_at": now}]
                  + [{"room_id": f"!cafe{c}:localhost", "kind": RoomKind.CAFE.value, "community": communities[c % 2],
                      "owner": None, "partner": None, "created_at": now} for c in range(10)])
        s.execute(insert(Provider), [{"user_id": f"@prov{k:03d}:localhost", "added_by": "@consultant:localhost",
                                      "added_at": now, "office_hours": None, "timezone": "Europe/Oslo"}
                                     for k in range(max(2, n // 50))])
        cafes = [Cafe(community=communities[c % 2], starts_at=now + timedelta(days=3 + c), place=f"Library {c}",
                      created_by="@consultant:localhost", number=c // 2 + 1) for c in range(10)]
        s.add_all(cafes)
        s.flush()
        cafe_ids = [c.id for c in cafes]
    batch = 100
    for start in range(0, n, batch):
        users = [(i, pop_user(i)) for i in range(start, min(n, start + batch))]
        with db.session() as s:
            s.add_all(Participant(user_id=u, status=EnrolmentStatus.ACTIVE.value, pseudonym=f"Walker {i}",
                                  pseudonym_key=f"walker {i}", community=communities[i % 2]) for i, u in users)
            s.execute(insert(UserPref), [{"user_id": u, "language": "en" if i % 3 else "nb", "timezone": None,
                                          "break_until": None, "on_break": False} for i, u in users])
            s.execute(insert(ManagedRoom), [
                {"room_id": f"!{kind}-{i}:localhost", "kind": kind, "community": communities[i % 2], "owner": u,
                 "partner": f"@prov{i % max(2, n // 50):03d}:localhost" if kind == RoomKind.PROVIDER.value else None,
                 "created_at": now}
                for i, u in users for kind in (RoomKind.TOOLBOX.value, RoomKind.PROVIDER.value)])
            goals = [Goal(user_id=u, area="health", text=f"goal {g} of {i}") for i, u in users for g in range(3)]
            s.add_all(goals)
            s.flush()
            s.add_all(GoalStep(goal_id=g.id, user_id=g.user_id, text="a first step") for g in goals)
            s.add_all(MoodEntry(user_id=u, score=5, note="so-so", created_at=now - timedelta(days=d))
                      for i, u in users for d in range(5))
            s.add_all(DiaryEntry(user_id=u, text="a day") for i, u in users for _ in range(2))
            s.add_all(Activity(user_id=u, text="a walk", due_at=now + timedelta(days=1 + a)) for i, u in users
                      for a in range(2))
            s.add_all(NetworkContact(user_id=u, name=f"Friend {k}", circle="close") for i, u in users for k in range(2))
            s.execute(insert(HandledEvent), [{"event_id": f"$h{i}-{k}", "room_id": f"!toolbox-{i}:localhost",
                                              "handled_at": now - timedelta(days=k)} for i, u in users for k in range(20)])
            s.execute(insert(SentEvent), [{"txn_id": f"rc-{i}-{k}", "event_id": f"$s{i}-{k}",
                                           "room_id": f"!toolbox-{i}:localhost", "sent_at": now - timedelta(days=k)}
                                          for i, u in users for k in range(20)])
            s.execute(insert(ReminderLedger), [{"key": f"bench:{i}:{k}", "status": "sent",
                                                "due_at": now - timedelta(days=k), "handled_at": now, "user_id": u}
                                               for i, u in users for k in range(10)])
            s.execute(insert(Rsvp), [{"cafe_id": cafe_ids[(i % 2) + 2 * (i % 5)], "user_id": u, "answer": "yes",
                                      "reaction_event_id": None, "updated_at": now} for i, u in users])
            s.execute(insert(UploadedMedia), [{"owner": u, "url": f"mxc://localhost/m{i}", "uploaded_at": now}
                                              for i, u in users])


class SqlLog:
    """Every statement run on an engine while ``on``: its text, parameters and time."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.on = False
        self.stats: dict[str, dict[str, Any]] = {}
        self._t0: list[float] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        self._t0.append(time.perf_counter())

    def _after(self, conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        elapsed = time.perf_counter() - self._t0.pop()
        if not self.on:
            return
        st = self.stats.setdefault(statement, {"count": 0, "seconds": 0.0, "max": 0.0, "params": params,
                                               "many": many})
        st["count"] += 1
        st["seconds"] += elapsed
        if elapsed > st["max"]:
            st["max"], st["params"] = elapsed, params

    def table(self) -> list[dict[str, Any]]:
        return sorted(({"sql": " ".join(k.split()), "count": v["count"],
                        "mean_ms": round(v["seconds"] / v["count"] * 1000, 3), "max_ms": round(v["max"] * 1000, 3)}
                       for k, v in self.stats.items()), key=lambda r: -r["mean_ms"])


async def one_command(db: Database, services: Services, user: str, room: str, body: str, event_id: str) -> None:
    with db.session() as session:
        ctx = make_context(session, services, sender=user, room_id=room, body=body, event_id=event_id)
        name = await dispatch_command(services.router, ctx)
        assert name is not None and ctx.sent, f"no reply to {body!r}"
        session.add(HandledEvent(event_id=event_id, room_id=room))


async def population_run(label_: str, make_url: Any, sizes: list[int], n: int, services: Services,
                         features: list) -> dict[str, Any]:
    """The same commands against a database per population size, in turns."""
    dbs: dict[int, Database] = {}
    logs: dict[int, SqlLog] = {}
    seeded: dict[int, float] = {}
    from contextlib import ExitStack

    with ExitStack() as stack:
        for size in sizes:
            url = stack.enter_context(make_url(size))
            db = Database(url)
            stack.callback(db.dispose)
            upgrade(db.engine, features)
            t0 = time.perf_counter()
            seed_population(db, size)
            seeded[size] = round(time.perf_counter() - t0, 1)
            if db.engine.dialect.name == "postgresql":
                from sqlalchemy import text

                with db.engine.connect() as c:
                    c.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
            dbs[size], logs[size] = db, SqlLog(db.engine)
        # Who sends: ten participants in the middle of the population, each in their toolbox room.
        senders = {size: [(pop_user(i), f"!toolbox-{i}:localhost") for i in range(size // 2, size // 2 + 10)]
                   for size in sizes}
        for size in sizes:  # warm-up (statement caches, connections), not counted
            for k, body in enumerate(POP_CYCLE):
                user, room = senders[size][0]
                await one_command(dbs[size], services, user, room, body.format(i=k), f"$warm{k}")
            logs[size].on = True
        elapsed = {size: 0.0 for size in sizes}
        done = {size: 0 for size in sizes}
        i = 0
        while min(done.values()) < n:
            for size in sizes:
                for _ in range(BLOCK):
                    k = done[size]
                    body = POP_CYCLE[k % len(POP_CYCLE)].format(i=k)
                    user, room = senders[size][(k // len(POP_CYCLE)) % len(senders[size])]
                    t0 = time.perf_counter()
                    await one_command(dbs[size], services, user, room, body, f"$c{k}")
                    elapsed[size] += time.perf_counter() - t0
                    done[size] += 1
                    if k % 100 == 99:  # the sender would have sent and deleted these
                        with dbs[size].session() as session:
                            session.execute(delete(OutboxMessage))
            i += 1
        result: dict[str, Any] = {"database": label_, "seed_seconds": {str(k): v for k, v in seeded.items()}}
        for size in sizes:
            logs[size].on = False
        # Outside the commands, what the sender and the maintenance run against the same tables
        # (captured for the plans only, in a transaction rolled back): a wave's turns, a room's
        # traces dropped when the bot leaves it, the prune of handled events.
        maintenance = SqlLog(dbs[max(sizes)].engine)
        maintenance.on = True
        with dbs[max(sizes)].session() as session:
            from datetime import timedelta

            from bot.db import utcnow
            from bot.models import SentEvent
            from bot.sender import next_turns

            room = senders[max(sizes)][0][1]
            session.execute(next_turns()).all()
            session.execute(delete(OutboxMessage).where(OutboxMessage.room_id == room))
            session.execute(delete(SentEvent).where(SentEvent.room_id == room))
            session.execute(delete(HandledEvent).where(HandledEvent.room_id == room))
            session.execute(delete(HandledEvent).where(HandledEvent.handled_at < utcnow() - timedelta(days=30)))
            session.rollback()
        maintenance.on = False
        for size in sizes:
            result[str(size)] = {"commands": done[size], "seconds": round(elapsed[size], 3),
                                 "per_second": round(done[size] / elapsed[size], 1),
                                 "slowest_statements": logs[size].table()[:5]}
        small, large = min(sizes), max(sizes)
        result["ratio"] = round(result[str(large)]["per_second"] / result[str(small)]["per_second"], 3)
        if dbs[large].engine.dialect.name == "postgresql":
            result["plans"] = explain_all(dbs[large], logs[large], maintenance)
    return result


def explain_all(db: Database, log: SqlLog, maintenance: SqlLog) -> dict[str, Any]:
    """EXPLAIN every captured statement on PostgreSQL; report sequential scans of big tables, and
    the slowest statement's EXPLAIN ANALYZE (in a transaction rolled back: writes leave nothing)."""
    import json as json_

    from sqlalchemy import text

    log.on = maintenance.on = False
    with db.engine.connect() as c:
        sizes = dict(c.execute(text("SELECT relname, reltuples::bigint FROM pg_class WHERE relkind = 'r' "
                                    "AND relnamespace = current_schema()::regnamespace")).all())
    scans: list[dict[str, Any]] = []

    def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield plan
        for sub in plan.get("Plans", []):
            yield from nodes(sub)

    def mean(kv: tuple[str, dict[str, Any]]) -> float:
        return float(kv[1]["seconds"] / kv[1]["count"])

    slowest_any = max(log.stats.items(), key=mean)
    # EXPLAIN ANALYZE runs the statement: the slowest read (a write would run again).
    slowest = max(((k, v) for k, v in log.stats.items() if k.lstrip().upper().startswith("SELECT")), key=mean)
    analyzed = ""
    for statement, st in [*log.stats.items(), *maintenance.stats.items()]:
        if st["many"] or not statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "INSERT", "WITH")):
            continue
        with db.engine.connect() as c:
            raw = c.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, st["params"]).scalar()
            c.rollback()
        plan = (raw if isinstance(raw, list) else json_.loads(raw))[0]["Plan"]
        for node in nodes(plan):
            if node.get("Node Type") == "Seq Scan" and sizes.get(node.get("Relation Name"), 0) >= GROWING_TABLE_ROWS:
                scans.append({"table": node["Relation Name"], "rows": sizes[node["Relation Name"]],
                              "sql": " ".join(statement.split())[:300]})
    with db.engine.connect() as c:
        rows = c.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + slowest[0], slowest[1]["params"]).all()
        c.rollback()
        analyzed = "\n".join(r[0] for r in rows)
    return {"statements": len(log.stats) + len(maintenance.stats), "big_table_seq_scans": scans,
            "slowest_of_all": {"sql": " ".join(slowest_any[0].split())[:300],
                               "mean_ms": round(mean(slowest_any) * 1000, 3)},
            "slowest": {"sql": " ".join(slowest[0].split()), "mean_ms": round(
                slowest[1]["seconds"] / slowest[1]["count"] * 1000, 3), "explain_analyze": analyzed},
            "table_rows": {k: v for k, v in sorted(sizes.items()) if v}}


async def population_main(sizes: list[int], n: int, postgres: bool) -> dict[str, Any]:
    install_cipher(FieldCipher(os.urandom(32)))
    features = load_features()
    settings = test_settings()
    services = Services(settings=settings, catalogue=catalogue_for(features), port=FakePort(),
                        router=router_for(features, settings.bot.command_prefix), features=features)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="reconnect-population-") as tmp:
        @contextmanager
        def sqlite_url(size: int) -> Iterator[str]:
            yield f"sqlite:///{Path(tmp) / f'pop{size}.db'}"

        results["sqlite"] = await population_run("sqlite", sqlite_url, sizes, n, services, features)
    if postgres and postgres_available():
        @contextmanager
        def pg_url(size: int) -> Iterator[str]:
            with pg_schema(f"pop{size}") as url:
                yield url

        results["postgresql"] = await population_run("postgresql", pg_url, sizes, n, services, features)
    else:
        results["postgresql"] = {"skipped": "PostgreSQL not reachable on 127.0.0.1:5432"}
    return results


def print_population(results: dict[str, Any], sizes: list[int]) -> None:
    small, large = min(sizes), max(sizes)
    rows = []
    for engine, r in results.items():
        if "skipped" in r:
            rows.append((engine, "-", "-", "-", r["skipped"]))
            continue
        rows.append((engine, f"{r[str(small)]['per_second']} /s", f"{r[str(large)]['per_second']} /s",
                     f"×{r['ratio']}", f"{'met' if r['ratio'] >= TARGET_RATIO else 'MISSED'} (≥ ×{TARGET_RATIO})"))
    print_table(f"Command cost as the population grows: commands/s at {large} participants vs {small} "
                f"(cycle: {', '.join(b.split(' {')[0] for b in POP_CYCLE)})",
                ("database", f"{small} participants", f"{large} participants", "ratio", "target"), rows)
    for engine, r in results.items():
        if "skipped" in r:
            continue
        print_table(f"{engine}: slowest statements at {large} participants (mean per call)",
                    ("ms", "calls", "statement"),
                    [(s["mean_ms"], s["count"], s["sql"][:150]) for s in r[str(large)]["slowest_statements"]])
        plans = r.get("plans")
        if plans:
            scans = plans["big_table_seq_scans"]
            print(f"\n{engine}: {plans['statements']} distinct statements EXPLAINed at {large} participants; "
                  f"sequential scans of tables with ≥ {GROWING_TABLE_ROWS} rows: {len(scans)}")
            for scan in scans:
                print(f"  {scan['table']} ({scan['rows']} rows): {scan['sql'][:200]}")
            print(f"\nslowest statement ({plans['slowest']['mean_ms']} ms mean):\n  {plans['slowest']['sql'][:400]}\n"
                  + plans["slowest"]["explain_analyze"], flush=True)


if __name__ == "__main__":
    main()
