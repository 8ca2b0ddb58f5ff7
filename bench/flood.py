"""One participant floods the bot with 300 commands; how long do other people wait for their replies?

Enrolled participants (toolbox rooms, made by ``!enroll`` as a consultant does it) talk to ReConnect
as a child process (``bot.cli run``) on a private Synapse. ``--probers`` other participants each ask
``!whoami`` every ``PROBE_EVERY_S`` seconds (well within the per-person limit), staggered, and
their round trips (send -> decrypted reply in their sync) are timed:

1. quiet: for ``--quiet-seconds``;
2. control: the same participant sends the same messages to a room without the bot (a direct chat
   with another person): the homeserver and this machine carry the flood, the bot does not;
3. flooded: one participant sends ``--flood`` commands (``!help`` and ``!goals``, the last one a
   crisis message), ``FLOOD_SENDERS`` in flight at once, as fast as the homeserver takes them; the
   probes started from the first flood message until the crisis reply arrives count (at least
   ``--min-flood-seconds``).

Target: the others' p95 while flooded ≤ 2× their quiet p95, with the per-person command rate limit
as shipped (``CommandRateConfig``) and the fair outbox. ``--no-rate-limit`` measures the outbox's
turn-taking alone (the limit switched off: every flood command is answered).

    .venv/bin/python -m bench.flood [--flood 300] [--probers 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from nio import RoomSendResponse

from bench.botprocess import BotProcess, bot_config
from bench.common import bench_synapse, print_table, quiet_logs, summary_ms, verdict, write_result
from bench.scenario import enrol, staff_room
from bot.config import CommandRateConfig
from tests.integration.matrix_user import MatrixUser

TARGET_P95_RATIO = 2.0
PROBE_EVERY_S = 2.0  # per prober: 30 a minute at most, the shipped limit's refill rate
FLOOD_SENDERS = 8
CRISIS = "!diary I want to kill myself"
FLOOD_BODIES = ("!help", "!goals")


async def login(url: str, user_id: str, password: str, store: Path) -> MatrixUser:
    user = MatrixUser(url, user_id, password, store)
    await user.login()
    return user


async def round_trip(person: MatrixUser, room_id: str, bot_id: str) -> float:
    started = time.perf_counter()
    reply = await person.ask(room_id, "!whoami", bot_id, timeout=60)
    assert reply.decrypted and person.user_id in reply.body
    return time.perf_counter() - started


class Probes:
    """Each prober asks every PROBE_EVERY_S (staggered); (start, round trip) of each probe."""

    def __init__(self, probers: list[tuple[MatrixUser, str]], bot_id: str) -> None:
        self.probers = probers
        self.bot_id = bot_id
        self.samples: list[tuple[float, float]] = []
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        for i, (person, room) in enumerate(self.probers):
            self._tasks.append(asyncio.create_task(self._probe(person, room, i * PROBE_EVERY_S / len(self.probers))))

    async def _probe(self, person: MatrixUser, room: str, offset: float) -> None:
        await asyncio.sleep(offset)
        while not self._stop.is_set():
            started = time.monotonic()
            self.samples.append((started, await round_trip(person, room, self.bot_id)))
            await asyncio.sleep(max(0.0, PROBE_EVERY_S - (time.monotonic() - started)))

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    def between(self, t0: float, t1: float) -> list[float]:
        return [rt for started, rt in self.samples if t0 <= started < t1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def flood(flooder: MatrixUser, room_id: str, n: int) -> float:
    """``n`` commands from one person, FLOOD_SENDERS in flight; the last one a crisis message.
    Returns the seconds it took the homeserver to take them all."""
    started = time.perf_counter()
    bodies = iter([FLOOD_BODIES[i % len(FLOOD_BODIES)] for i in range(n - 1)] + [CRISIS])

    async def sending() -> None:
        for body in bodies:
            resp = await flooder.client.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": body},
                                                  ignore_unverified_devices=True)
            assert isinstance(resp, RoomSendResponse), resp

    await asyncio.gather(*(sending() for _ in range(FLOOD_SENDERS)))
    return time.perf_counter() - started


async def measure(n: int, probers: int, quiet_s: float, min_flood_s: float, rate_limit: bool) -> dict[str, Any]:
    rate = CommandRateConfig() if rate_limit else CommandRateConfig(enabled=False)
    with tempfile.TemporaryDirectory(prefix="reconnect-flood-") as tmp_name, bench_synapse() as server:
        tmp = Path(tmp_name)
        bot, consultant_acc = server.register("reconnect"), server.register("consultant")
        people = [server.register(f"person{i}") for i in range(probers + 1)]
        proc = BotProcess(bot_config(server.url, bot.user_id, bot.password, tmp / "bot",
                                     consultants=(consultant_acc.user_id,),
                                     bot={"command_rate": rate.model_dump()}), tmp / "bot")
        users: list[MatrixUser] = []
        try:
            await proc.start()
            consultant = await login(server.url, consultant_acc.user_id, consultant_acc.password, tmp / "c")
            users.append(consultant)
            staff = await staff_room(consultant, bot.user_id)
            rooms: list[tuple[MatrixUser, str]] = []
            for i, acc in enumerate(people):
                person = await login(server.url, acc.user_id, acc.password, tmp / f"p{i}")
                users.append(person)
                rooms.append((person, await enrol(consultant, staff, person, bot.user_id, f"Walker{i}")))
            (flooder, flood_room), others = rooms[0], rooms[1:]
            for person, room in rooms:  # warm up: keys shared both ways
                await round_trip(person, room, bot.user_id)
            await asyncio.sleep(PROBE_EVERY_S)

            bystander = await login(server.url, people[1].user_id, people[1].password, tmp / "bystander")
            users.append(bystander)
            control_room = await flooder.dm(bystander.user_id, timeout=60)

            probes = Probes(others, bot.user_id)
            probes.start()
            quiet_from = time.monotonic()
            cpu_quiet = cpu_seconds(proc.pid)
            await asyncio.sleep(quiet_s)
            control_from = time.monotonic()
            cpu_control = cpu_seconds(proc.pid)
            control_sent_in = await flood(flooder, control_room, n)
            await asyncio.sleep(max(0.0, min_flood_s - (time.monotonic() - control_from)))
            await asyncio.sleep(PROBE_EVERY_S)  # the last control probes finish
            flood_from = time.monotonic()
            cpu_flood = cpu_seconds(proc.pid)
            mark = len(flooder.received)
            sent_in = await flood(flooder, flood_room, n)
            await flooder.wait_for(lambda r: r.room_id == flood_room and r.sender == bot.user_id
                                   and "116 123" in r.body, timeout=300, after=mark, what="the crisis reply")
            crisis_replied = time.monotonic() - flood_from
            await asyncio.sleep(max(0.0, min_flood_s - (time.monotonic() - flood_from)))
            flood_to = time.monotonic()
            cpu_end = cpu_seconds(proc.pid)
            await probes.stop()
            await asyncio.sleep(2)
            flood_replies = len([r for r in flooder.received[mark:] if r.room_id == flood_room
                                 and r.sender == bot.user_id])
        except BaseException:
            print("ReConnect's log (end):\n" + proc.log_text()[-4000:], flush=True)
            raise
        finally:
            for user in users:
                await user.close()
            proc.stop()
    quiet = summary_ms(probes.between(quiet_from, control_from))
    control = summary_ms(probes.between(control_from + 0.5, flood_from))
    flooded = summary_ms(probes.between(flood_from, flood_to))
    return {
        "flood": n, "probers": probers, "probe_every_s": PROBE_EVERY_S, "rate_limit": rate.model_dump(),
        "quiet": quiet, "control_homeserver_flooded": control, "flooded": flooded,
        "control_p95_ratio": round(control["p95_ms"] / quiet["p95_ms"], 2),
        "flooded_vs_control_p95_ratio": round(flooded["p95_ms"] / control["p95_ms"], 2),
        "bot_cpu_share": {"quiet": round((cpu_control - cpu_quiet) / (control_from - quiet_from), 3),
                          "control": round((cpu_flood - cpu_control) / (flood_from - control_from), 3),
                          "flooded": round((cpu_end - cpu_flood) / (flood_to - flood_from), 3)},
        "control_sent_seconds": round(control_sent_in, 2),
        "p95_ratio": round(flooded["p95_ms"] / quiet["p95_ms"], 2),
        "p50_ratio": round(flooded["p50_ms"] / quiet["p50_ms"], 2),
        "target_p95_ratio": TARGET_P95_RATIO,
        "flood_sent_seconds": round(sent_in, 2), "crisis_reply_after_seconds": round(crisis_replied, 2),
        "flooder_replies": flood_replies,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flood", type=int, default=300, help="commands the flooder sends")
    parser.add_argument("--probers", type=int, default=3, help="other participants timing their replies")
    parser.add_argument("--quiet-seconds", type=float, default=40.0)
    parser.add_argument("--min-flood-seconds", type=float, default=20.0)
    parser.add_argument("--no-rate-limit", action="store_true",
                        help="switch the per-person limit off (the fair outbox alone)")
    args = parser.parse_args(argv)
    quiet_logs()
    r = asyncio.run(measure(args.flood, args.probers, args.quiet_seconds, args.min_flood_seconds,
                            not args.no_rate_limit))
    limit = "off" if args.no_rate_limit else f"burst {r['rate_limit']['burst']}, {r['rate_limit']['per_minute']}/min"
    cpu = r["bot_cpu_share"]
    rows = [("quiet", r["quiet"]["n"], r["quiet"]["p50_ms"], r["quiet"]["p95_ms"], "", "", cpu["quiet"]),
            ("control: the same flood to a room without the bot", r["control_homeserver_flooded"]["n"],
             r["control_homeserver_flooded"]["p50_ms"], r["control_homeserver_flooded"]["p95_ms"],
             f"p95 ×{r['control_p95_ratio']}", "", cpu["control"]),
            (f"during a flood of {r['flood']} (rate limit {limit})", r["flooded"]["n"], r["flooded"]["p50_ms"],
             r["flooded"]["p95_ms"], f"p95 ×{r['p95_ratio']} / p50 ×{r['p50_ratio']}",
             f"{verdict(r['p95_ratio'], TARGET_P95_RATIO)} (p95 ≤ ×{TARGET_P95_RATIO}); "
             f"×{r['flooded_vs_control_p95_ratio']} of the control", cpu["flooded"])]
    print_table(f"Flood: another person's reply while one participant sends {r['flood']} commands "
                f"(sent in {r['flood_sent_seconds']} s, crisis reply after {r['crisis_reply_after_seconds']} s, "
                f"{r['flooder_replies']} replies to the flooder)",
                ("others' round trips", "probes", "p50 ms", "p95 ms", "ratio to quiet", "target",
                 "bot CPU (s/s)"), rows)
    path = write_result("flood" if not args.no_rate_limit else "flood-no-limit", r)
    print(f"written {path}")
    return r


if __name__ == "__main__":
    main()
