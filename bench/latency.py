"""Reply latency against the floor: one client sends messages one at a time to the bare echo bot
and to ReConnect, in encrypted rooms on the same private Synapse, and times each round trip
(send → the decrypted reply arrives in the client's sync).

ReConnect answers an enrolled participant in their toolbox room (enrolled by a consultant with
``!enroll``), cycling ``!help``, ``!goals`` and ``!goal add …``. The two bots run as child
processes; the client alternates between them so both see the same load.

    .venv/bin/python -m bench.latency [--n 200]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.botprocess import BotProcess, EchoProcess, bot_config
from bench.common import bench_synapse, print_table, quiet_logs, summary_ms, verdict, write_result
from bench.scenario import enrol, staff_room
from tests.integration.matrix_user import MatrixUser

TARGET_P50_RATIO = 1.2
WARM_UP = 5
COMMANDS = ("!help", "!goals", "!goal add Health: a short walk after lunch {i}")


def label(command: str) -> str:
    return " ".join(command.split()[:2]) if command.startswith("!goal ") else command


async def login(url: str, user_id: str, password: str, store: Path) -> MatrixUser:
    user = MatrixUser(url, user_id, password, store)
    await user.login()
    return user


async def round_trip(client: MatrixUser, room_id: str, body: str, bot_id: str) -> float:
    t0 = time.perf_counter()
    reply = await client.ask(room_id, body, bot_id, timeout=60)
    elapsed = time.perf_counter() - t0
    assert reply.decrypted
    return elapsed


async def measure(n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="reconnect-latency-") as tmp_name, bench_synapse() as server:
        tmp = Path(tmp_name)
        bot, echo, consultant_acc, client_acc = (server.register(name) for name in
                                                  ("reconnect", "echo", "consultant", "client"))
        reconnect = BotProcess(bot_config(server.url, bot.user_id, bot.password, tmp / "bot",
                                          consultants=(consultant_acc.user_id,)), tmp / "bot")
        echo_proc = EchoProcess(server.url, echo.user_id, echo.password, tmp / "echo")
        users: list[MatrixUser] = []
        try:
            await asyncio.gather(reconnect.start(), echo_proc.start())
            consultant = await login(server.url, consultant_acc.user_id, consultant_acc.password, tmp / "c1")
            client = await login(server.url, client_acc.user_id, client_acc.password, tmp / "c2")
            users += [consultant, client]
            toolbox = await enrol(consultant, await staff_room(consultant, bot.user_id), client, bot.user_id,
                                  "Benchmark")
            echo_room = await client.dm(echo.user_id, timeout=60)
            for i in range(WARM_UP):
                await round_trip(client, echo_room, f"warm-up {i}", echo.user_id)
                await round_trip(client, toolbox, "!help", bot.user_id)
            echo_times: list[float] = []
            bot_times: dict[str, list[float]] = {label(c): [] for c in COMMANDS}
            for i in range(n):
                echo_times.append(await round_trip(client, echo_room, f"message {i}", echo.user_id))
                command = COMMANDS[i % len(COMMANDS)]
                bot_times[label(command)].append(await round_trip(client, toolbox, command.format(i=i), bot.user_id))
            undecryptable = len(client.undecryptable)
        except BaseException:
            print("ReConnect's log (end):\n" + reconnect.log_text()[-4000:], flush=True)
            raise
        finally:
            for user in users:
                await user.close()
            reconnect.stop()
            echo_proc.stop()
    every = [t for times in bot_times.values() for t in times]
    echo_s, bot_s = summary_ms(echo_times), summary_ms(every)
    return {
        "messages_each": n,
        "echo": echo_s,
        "reconnect": bot_s,
        "reconnect_by_command": {k: summary_ms(v) for k, v in bot_times.items()},
        "p50_ratio": round(bot_s["p50_ms"] / echo_s["p50_ms"], 2),
        "p95_ratio": round(bot_s["p95_ms"] / echo_s["p95_ms"], 2),
        "target_p50_ratio": TARGET_P50_RATIO,
        "undecryptable": undecryptable,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="messages to each bot")
    args = parser.parse_args(argv)
    quiet_logs()
    r = asyncio.run(measure(args.n))
    rows = [("echo bot (floor)", r["echo"]["n"], r["echo"]["p50_ms"], r["echo"]["p95_ms"], "", "")]
    rows += [(f"ReConnect {k}", v["n"], v["p50_ms"], v["p95_ms"], "", "") for k, v in r["reconnect_by_command"].items()]
    rows.append(("ReConnect all", r["reconnect"]["n"], r["reconnect"]["p50_ms"], r["reconnect"]["p95_ms"],
                 f"p50 ×{r['p50_ratio']} / p95 ×{r['p95_ratio']}",
                 f"{verdict(r['p50_ratio'], TARGET_P50_RATIO)} (p50 ≤ ×{TARGET_P50_RATIO})"))
    print_table("Reply latency: encrypted round trip, one message at a time",
                ("to", "messages", "p50 ms", "p95 ms", "ratio to echo", "target"), rows)
    path = write_result("latency", r)
    print(f"written {path}")
    return r


if __name__ == "__main__":
    main()
