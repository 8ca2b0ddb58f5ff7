"""Scale: the bot in a national deployment's rooms (``bench.population``: participants with
toolbox, direct-chat and provider rooms, a forum, cafés; every person with 1-2 encryption
devices with one-time keys).

1. The population is restored from its snapshot (or built once, concurrently, and kept), the bot
   stopped.
2. A participant with a new encryption device sends ``!goals`` while the bot is down; the bot is
   started as a child process (``bot.cli run``): time from start to that first reply.
3. Simulated activity: forum members post in the forum and the participant sends toolbox commands
   one at a time, either back to back (``--activity-minutes 0``, the default: one post per forum
   member, 60 commands) or spread over ``--activity-minutes`` in real time (a command every 30 s);
   RSS sampled every 5 s (compressed) or every minute (real time); the RSS slope is fitted over
   the last 30 minutes (or the last half of a shorter run).
``--synapse`` chooses the homeserver (``single``: single-process Synapse on SQLite, the default;
``single-postgres``; or ``module:callable``, see ``bench.population.Homeserver``).

    .venv/bin/python -m bench.scale [--participants 2500 --forum 1000 --cafes 10 --provider-rooms 2]
                                    [--activity-minutes 60] [--synapse single] [--postgres]

Result (``bench/results/<out>.json``, also returned by ``main``): ``first_reply_s``, ``rss_mb``,
``rss_peak_mb``, ``rss_slope_mb_per_min``, ``rss_slope_window_min``, ``rooms``, ``participants``,
``forum_members``, ``devices``, ``population_build_s``, and the verdicts ``first_reply_met``,
``rss_met``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.botprocess import BotProcess, bot_config
from bench.common import http_json, pg_schema, postgres_available, print_table, quiet_logs, rss_mb, verdict, write_result
from bench.population import PopulationSpec, add_population_arguments, prepare, spec_from
from tests.integration.matrix_user import MatrixUser

TARGET_FIRST_REPLY_S = 5.0
TARGET_RSS_MB = 300.0
SYNAPSE_OPTION = True  # bench.run_all passes --synapse on (single, single-postgres, workers)
SLOPE_WINDOW_MIN = 30.0
COMMANDS = ("!goals", "!goal add Leisure: a walk in the park {i}", "!help", "!mood {score} slept a little better",
            "!diary a quiet day with a short walk ({i})", "!moods")


def command(i: int) -> str:
    return COMMANDS[i % len(COMMANDS)].format(i=i, score=3 + i % 6)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def slope_mb_per_min(samples: list[tuple[float, float]], window_min: float = SLOPE_WINDOW_MIN) -> tuple[float, float]:
    """Least-squares slope of RSS (MB) over time (minutes) in the last ``window_min`` minutes, or
    the last half of the samples when the run is shorter than twice that; (slope, window used)."""
    if len(samples) < 2:
        return float("nan"), 0.0
    end = samples[-1][0]
    start = end - window_min if end >= 2 * window_min else samples[0][0] + (end - samples[0][0]) / 2
    points = [(t, m) for t, m in samples if t >= start] or samples[-2:]
    if len(points) < 2:
        points = samples[-2:]
    n = len(points)
    mt = sum(t for t, _ in points) / n
    mm = sum(m for _, m in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    slope = sum((t - mt) * (m - mm) for t, m in points) / var if var else float("nan")
    return slope, points[-1][0] - points[0][0]


async def run_once(spec: PopulationSpec, synapse: str = "single", database_url: str | None = None,
                   activity_minutes: float = 0, rebuild: bool = False, concurrency: int = 12,
                   profile: Path | None = None, cwd: Path | None = None) -> dict[str, Any]:
    """One measurement on a fresh copy of the population; ``cwd``: run the bot's code from another
    checkout (a before/after comparison)."""
    with tempfile.TemporaryDirectory(prefix="reconnect-scale-") as tmp_name:
        tmp = Path(tmp_name)
        prepared = await prepare(spec, tmp, synapse=synapse, database_url=database_url, rebuild=rebuild,
                                 concurrency=concurrency)
        try:
            return await _measure(prepared, tmp, database_url, activity_minutes, profile, cwd)
        finally:
            prepared.server.stop()


async def _measure(prepared: Any, tmp: Path, database_url: str | None, activity_minutes: float,
                   profile: Path | None = None, cwd: Path | None = None) -> dict[str, Any]:
    server, pop = prepared.server, prepared.population
    bot = pop.bot
    tester = pop.people[0]
    toolbox = pop.toolbox[tester.user_id]
    forum_people = pop.people[:pop.spec.forum]
    user = MatrixUser(server.url, tester.user_id, tester.password, tmp / "tester")
    await user.login()
    config = bot_config(server.url, bot.user_id, bot.password, prepared.bot_dir, database_url=database_url,
                        log_level="WARNING", communities=[{"name": c} for c in pop.spec.communities])
    proc = BotProcess(config, prepared.bot_dir, cwd=cwd)
    samples: list[tuple[float, float]] = []  # (minutes since the first reply, RSS MB)
    spy: subprocess.Popen[bytes] | None = None
    try:
        mark = len(user.received)
        await user.send(toolbox, "!goals")
        started = time.perf_counter()
        proc.ready_marker = ""  # measured by the reply itself
        await proc.start()
        if profile is not None:  # py-spy from just after the process started (its first ~0.2 s missed)
            spy = subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record", "--idle", "-r", "100",
                                    "-f", "raw", "-d", "10", "-o", str(profile), "--pid", str(proc.pid)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            await user.wait_for(lambda r: r.room_id == toolbox and r.sender == bot.user_id
                                and r.type == "m.room.message", timeout=180, after=mark)
        except AssertionError:
            print(proc.log_text()[-4000:])
            raise
        first_reply_s = time.perf_counter() - started
        first_reply_cpu_s = cpu_seconds(proc.pid)
        t_reply = time.monotonic()
        rss_at_first_reply = rss_mb(proc.pid)

        def sample() -> None:
            samples.append((round((time.monotonic() - t_reply) / 60, 3), round(rss_mb(proc.pid), 1)))

        gate = asyncio.Semaphore(8)

        async def post(i: int) -> None:
            async with gate:
                await http_json("PUT", f"{server.url}/_matrix/client/v3/rooms/{quote(pop.forum_id)}/send/"
                              f"m.room.message/scale{i}-{int(t_reply)}", forum_people[i].access_token,
                              {"msgtype": "m.text", "body": f"good morning, everyone ({i})"})

        sample()
        forum = len(forum_people)
        if activity_minutes <= 0:
            stop = asyncio.Event()

            async def sampler() -> None:
                while not stop.is_set():
                    await asyncio.sleep(5)
                    sample()

            task = asyncio.create_task(sampler())
            await asyncio.gather(*(post(i) for i in range(forum)))
            commands = 60
            for i in range(commands):
                await user.ask(toolbox, command(i), bot.user_id, timeout=120)
            stop.set()
            await task
            activity = f"compressed: {forum} forum posts (one per member) + {commands} toolbox commands, back to back"
        else:
            end = t_reply + activity_minutes * 60
            posted = commands = 0
            next_sample = t_reply + 60
            while time.monotonic() < end:
                elapsed = time.monotonic() - t_reply
                due_posts = min(forum, int(forum * elapsed / (activity_minutes * 60)) + 1)
                await asyncio.gather(*(post(i) for i in range(posted, due_posts)))
                posted = due_posts
                if elapsed >= commands * 30:
                    await user.ask(toolbox, command(commands), bot.user_id, timeout=120)
                    commands += 1
                if time.monotonic() >= next_sample:
                    sample()
                    next_sample += 60
                await asyncio.sleep(1)
            activity = (f"{activity_minutes:g} minutes in real time: {posted} forum posts spread evenly, "
                        f"{commands} toolbox commands (one every 30 s)")
        await asyncio.sleep(2)
        sample()
        memory = samples[-1][1]
    finally:
        if spy is not None:
            spy.wait(timeout=60)
        proc.stop()
        await user.close()
    slope, window = slope_mb_per_min(samples)
    spec = pop.spec
    return {
        "synapse": prepared.server.__class__.__name__,
        "rooms": spec.rooms, "participants": spec.participants, "forum_members": spec.forum, "cafes": spec.cafes,
        "direct_chats": spec.direct_chats, "provider_rooms_per_participant": spec.provider_rooms,
        "devices": pop.devices,
        "population_key": spec.key(), "population_build_s": pop.build.get("seconds"),
        "population_restored": prepared.restored_from is not None, "population_ready_s": round(prepared.seconds, 1),
        "first_reply_s": round(first_reply_s, 2), "first_reply_met": first_reply_s <= TARGET_FIRST_REPLY_S,
        # CPU the bot used until then (user + system): what the wall time is made of on a busy machine
        "first_reply_cpu_s": round(first_reply_cpu_s, 2), "load_average_1min": os.getloadavg()[0],
        "rss_mb_at_first_reply": round(rss_at_first_reply, 1),
        "rss_mb": round(memory, 1), "rss_peak_mb": max(m for _, m in samples), "rss_met": memory <= TARGET_RSS_MB,
        "rss_slope_mb_per_min": round(slope, 3), "rss_slope_window_min": round(window, 1),
        "rss_samples_minutes_mb": samples, "activity": activity, "activity_minutes": activity_minutes,
        # the names earlier tables read
        "start_to_first_reply_seconds": round(first_reply_s, 2), "rss_mb_after_activity": round(memory, 1),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_population_arguments(parser)
    parser.add_argument("--postgres", action="store_true",
                        help="the bot's database on PostgreSQL (the population is then built, not restored)")
    parser.add_argument("--activity-minutes", type=float, default=0,
                        help="simulated activity in real time for this long (default: compressed, back to back)")
    parser.add_argument("--profile", type=Path, default=None,
                        help="py-spy (raw, --idle) of the bot's first 10 s after start, written here")
    parser.add_argument("--out", default="scale", help="name of the JSON result (bench/results/NAME.json)")
    parser.add_argument("--compare-with", type=Path, default=None, metavar="DIR",
                        help="also measure the bot's code from this checkout (before), on its own copy of the "
                             "same population, first; its figures go under 'before'")
    args = parser.parse_args(argv)
    quiet_logs()
    spec = spec_from(args)

    async def go(cwd: Path | None = None) -> dict[str, Any]:
        if args.postgres and postgres_available():
            with pg_schema("scale") as url:
                return await run_once(spec, args.synapse, url, args.activity_minutes, args.rebuild, args.concurrency,
                                      args.profile, cwd)
        return await run_once(spec, args.synapse, None, args.activity_minutes, args.rebuild, args.concurrency,
                              args.profile, cwd)

    before = asyncio.run(go(args.compare_with.resolve())) if args.compare_with else None
    r = asyncio.run(go())
    r["bot_database"] = "PostgreSQL" if args.postgres else "SQLite"
    print_table("Scale: start to first reply and memory after activity",
                ("rooms", "participants", "forum", "devices", "first reply s (bot CPU s)",
                 f"≤ {TARGET_FIRST_REPLY_S:g} s", "RSS MB", f"≤ {TARGET_RSS_MB:g} MB", "RSS slope MB/min (window min)"),
                [(r["rooms"], r["participants"], r["forum_members"], r["devices"],
                  f"{r['first_reply_s']} ({r['first_reply_cpu_s']})",
                  verdict(r["first_reply_s"], TARGET_FIRST_REPLY_S), r["rss_mb"], verdict(r["rss_mb"], TARGET_RSS_MB),
                  f"{r['rss_slope_mb_per_min']} ({r['rss_slope_window_min']})")])
    if before is not None:
        r["before"] = before
        r["before_code"] = str(args.compare_with)
        print_table(f"Start to first reply: {args.compare_with} (before) and this checkout, same population",
                    ("code", "first reply s", "bot CPU s until then", "RSS MB at first reply", "load (1 min)"),
                    [(name, x["first_reply_s"], x["first_reply_cpu_s"], x["rss_mb_at_first_reply"],
                      round(x["load_average_1min"], 1)) for name, x in (("before", before), ("this", r))])
    path = write_result(args.out, r)
    print(f"written {path}")
    return r


if __name__ == "__main__":
    main()
