"""Scale: the bot in many rooms (toolbox rooms, plus the forum with M members).

1. The population is built through the bot's own code (in process), then the bot is stopped.
2. A participant with an encryption device sends ``!goals`` while the bot is down; the bot is
   started as a child process (``bot.cli run``): time from start to that first reply.
3. Simulated activity: every forum member posts once in the forum and the participant sends
   toolbox commands one at a time, either back to back (60 commands, the default) or spread over
   ``--activity-minutes`` in real time (a command every 30 s, RSS sampled each minute); then the
   bot's resident memory (RSS).
Run on SQLite and, with --postgres, again with the bot's database on PostgreSQL; with
--synapse-postgres also with Synapse's database on PostgreSQL.

    .venv/bin/python -m bench.scale [--rooms 1000 --forum 300] [--postgres] [--synapse-postgres]
                                    [--activity-minutes 60]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.botprocess import BotProcess, bot_config
from bench.common import (
    bench_synapse,
    bot_settings,
    http_json,
    pg_schema,
    pg_synapse_database,
    postgres_available,
    print_table,
    quiet_logs,
    rss_mb,
    verdict,
    write_result,
)
from bench.population import enrol_with_toolboxes, join_all
from bot.app import App
from bot.models import RoomKind
from bot.roomdir import find_room
from tests.integration.matrix_user import MatrixUser

TARGET_FIRST_REPLY_S = 10.0
TARGET_RSS_MB = 250.0
COMMANDS = ("!goals", "!goal add Leisure: a walk in the park {i}", "!help", "!mood {score} slept a little better",
            "!diary a quiet day with a short walk ({i})", "!moods")


def command(i: int) -> str:
    return COMMANDS[i % len(COMMANDS)].format(i=i, score=3 + i % 6)


async def run_once(rooms: int, forum: int, database_url: str | None,
                   synapse_db: dict[str, Any] | None = None, activity_minutes: float = 0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="reconnect-scale-") as tmp_name, bench_synapse(synapse_db) as server:
        tmp = Path(tmp_name)
        bot = server.register("reconnect")
        people = await asyncio.to_thread(server.register_many, "p", rooms)
        settings = bot_settings(server, bot, tmp / "bot", database_url=database_url)
        app = App(settings)
        await app.start()
        t0 = time.perf_counter()
        try:
            toolboxes = await enrol_with_toolboxes(app, people)
            with app.db.session() as s:
                forum_id = find_room(s, RoomKind.FORUM).room_id
            gate = asyncio.Semaphore(8)

            async def invite(user_id: str) -> None:
                async with gate:
                    await app.port.invite(forum_id, user_id)

            await asyncio.gather(*(invite(p.user_id) for p in people[:forum]))
            await join_all(server.url, [(p, forum_id) for p in people[:forum]])
        finally:
            await app.stop()
        setup_s = time.perf_counter() - t0

        # The participant who measures has an encryption device; the bot is down now.
        tester = people[0]
        user = MatrixUser(server.url, tester.user_id, tester.password, tmp / "tester")
        await user.login()
        proc = BotProcess(bot_config(server.url, bot.user_id, bot.password, tmp / "bot", database_url=database_url,
                                     log_level="WARNING"), tmp / "bot")
        try:
            toolbox = toolboxes[tester.user_id]
            mark = len(user.received)
            await user.send(toolbox, "!goals")
            started = time.perf_counter()
            proc.ready_marker = ""  # measured by the reply itself
            await proc.start()
            await user.wait_for(lambda r: r.room_id == toolbox and r.sender == bot.user_id
                                and r.type == "m.room.message", timeout=300, after=mark)
            first_reply_s = time.perf_counter() - started

            gate = asyncio.Semaphore(8)

            async def post(i: int) -> None:
                async with gate:
                    await http_json("PUT", f"{server.url}/_matrix/client/v3/rooms/{quote(forum_id)}/send/"
                                    f"m.room.message/scale{i}", people[i].access_token,
                                    {"msgtype": "m.text", "body": f"good morning, everyone ({i})"})

            samples: list[tuple[float, float]] = []  # (minutes since the first reply, RSS MB)
            if activity_minutes <= 0:
                # Compressed: every forum member posts once; 60 toolbox commands one at a time.
                await asyncio.gather(*(post(i) for i in range(forum)))
                commands = 60
                for i in range(commands):
                    await user.ask(toolbox, command(i), bot.user_id, timeout=120)
                activity = f"{forum} forum posts (one per member) + {commands} toolbox commands, back to back"
            else:
                # In real time: the forum posts spread evenly, a toolbox command every 30 s, RSS each minute.
                t_start = time.monotonic()
                end = t_start + activity_minutes * 60
                posted = commands = 0
                next_sample = t_start
                while time.monotonic() < end:
                    elapsed = time.monotonic() - t_start
                    due_posts = min(forum, int(forum * elapsed / (activity_minutes * 60)) + 1)
                    await asyncio.gather(*(post(i) for i in range(posted, due_posts)))
                    posted = due_posts
                    if elapsed >= commands * 30:
                        await user.ask(toolbox, command(commands), bot.user_id, timeout=120)
                        commands += 1
                    if time.monotonic() >= next_sample:
                        samples.append((round(elapsed / 60, 1), round(rss_mb(proc.pid), 1)))
                        next_sample += 60
                    await asyncio.sleep(1)
                activity = (f"{activity_minutes:g} minutes in real time: {posted} forum posts spread evenly, "
                            f"{commands} toolbox commands (one every 30 s)")
            await asyncio.sleep(2)
            memory = rss_mb(proc.pid)
            samples.append((round((time.perf_counter() - started) / 60, 1), round(memory, 1)))
        finally:
            proc.stop()
            await user.close()
    # rooms: the toolbox rooms + space, forum, two cafés and the consultant room
    return {"rooms": rooms + 5, "toolbox_rooms": rooms, "forum_members": forum, "setup_seconds": round(setup_s, 1),
            "start_to_first_reply_seconds": round(first_reply_s, 2), "rss_mb_after_activity": round(memory, 1),
            "rss_mb_peak_sampled": max(m for _, m in samples), "rss_samples_minutes_mb": samples,
            "activity": activity}


async def measure(rooms: int, forum: int, postgres: bool, synapse_postgres: bool, activity_minutes: float = 0,
                  sqlite: bool = True) -> dict[str, Any]:
    """Keys name the bot's database, then Synapse's."""
    results: dict[str, Any] = {}
    if sqlite:
        results["bot SQLite, Synapse SQLite"] = await run_once(rooms, forum, None, None, activity_minutes)
    if postgres and postgres_available():
        with pg_schema("scale") as url:
            results["bot PostgreSQL, Synapse SQLite"] = await run_once(rooms, forum, url, None, activity_minutes)
    if synapse_postgres and postgres_available():
        with pg_schema("scale") as url, pg_synapse_database() as synapse_db:
            results["bot PostgreSQL, Synapse PostgreSQL"] = await run_once(rooms, forum, url, synapse_db,
                                                                          activity_minutes)
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, default=1000, help="toolbox rooms (people)")
    parser.add_argument("--forum", type=int, default=300, help="forum members (of those people)")
    parser.add_argument("--postgres", action="store_true", help="also run with the bot's database on PostgreSQL")
    parser.add_argument("--synapse-postgres", action="store_true",
                        help="also run with both the bot's and Synapse's databases on PostgreSQL (needs psycopg2)")
    parser.add_argument("--activity-minutes", type=float, default=0,
                        help="simulated activity in real time for this long (default: compressed, back to back)")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the run with the bot on SQLite")
    parser.add_argument("--out", default="scale", help="name of the JSON result (bench/results/NAME.json)")
    args = parser.parse_args(argv)
    quiet_logs()
    results = asyncio.run(measure(args.rooms, min(args.forum, args.rooms), args.postgres, args.synapse_postgres,
                                  args.activity_minutes, sqlite=not args.no_sqlite))
    rows = [(db, r["rooms"], r["forum_members"], r["start_to_first_reply_seconds"],
             verdict(r["start_to_first_reply_seconds"], TARGET_FIRST_REPLY_S), r["rss_mb_after_activity"],
             verdict(r["rss_mb_after_activity"], TARGET_RSS_MB)) for db, r in results.items()]
    print_table("Scale: start to first reply and memory after simulated activity",
                ("databases (bot, Synapse)", "rooms", "forum members", "first reply s", f"≤ {TARGET_FIRST_REPLY_S:.0f} s",
                 "RSS MB", f"≤ {TARGET_RSS_MB:.0f} MB"), rows)
    path = write_result(args.out, {"results": results})
    print(f"written {path}")
    return results


if __name__ == "__main__":
    main()
