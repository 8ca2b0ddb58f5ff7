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
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.botprocess import BotProcess, EchoProcess, bot_config
from bench.common import bench_synapse, percentile, print_table, quiet_logs, summary_ms, verdict, write_result
from bench.scenario import enrol, staff_room
from tests.integration.matrix_user import MatrixUser

TARGET_P50_RATIO = 1.1
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


def stage_breakdown(spans: list[tuple[str, float, float]]) -> dict[str, Any]:
    """From one process's spans (bench/spans.py): for each reply PUT, the time since the end of
    the sync that carried the command (the process's own work on the command), and the median
    time each stage took within that stretch."""
    syncs = sorted(end for name, _, end in spans if name == "http.sync")
    puts = sorted(start for name, start, _ in spans if name == "http.room_send")
    gaps: list[float] = []
    stages: dict[str, list[float]] = {}
    for put in puts:
        before = [end for end in syncs if end <= put]
        if not before:
            continue
        since = before[-1]
        gaps.append(put - since)
        within: dict[str, float] = {}
        for name, start, end in spans:
            overlap = min(end, put) - max(start, since)
            if overlap > 0 and name != "http.room_send":
                within[name] = within.get(name, 0.0) + overlap
        for name, t in within.items():
            stages.setdefault(name, []).append(t)
    sends = [end - start for name, start, end in spans if name == "http.room_send"]
    return {"replies": len(gaps), "sync_end_to_reply_put": summary_ms(gaps), "room_send": summary_ms(sends),
            "stage_median_ms": {k: round(percentile(v, 50) * 1000, 2) for k, v in sorted(stages.items())},
            "stage_seen_in": {k: len(v) for k, v in sorted(stages.items())}}


def request_summary(requests: list[tuple[str, str, float, float]]) -> dict[str, Any]:
    """What the process asked the homeserver (bench/spans.py's request log): each kind of request
    with its count and median time, and how the reply PUTs and the syncs lay in time: syncs set up
    while a PUT was on its way (the homeserver handles both at once), and from a PUT's answer to the
    next sync."""
    kinds: dict[str, list[float]] = {}
    for _, kind, start, end in requests:
        kinds.setdefault(kind, []).append(end - start)
    puts = [(start, end) for _, kind, start, end in requests if "/send/" in kind]
    syncs = sorted(start for _, kind, start, _ in requests if kind == "GET /sync")
    during = sum(1 for start, end in puts if any(start < s < end for s in syncs))
    after = [min(s for s in syncs if s > end) - end for _, end in puts if any(s > end for s in syncs)]
    return {"by_kind": {k: {"n": len(v), "p50_ms": round(percentile(v, 50) * 1000, 2)}
                        for k, v in sorted(kinds.items(), key=lambda kv: -len(kv[1]))},
            "room_sends": len(puts), "syncs_started_during_a_room_send": during,
            "put_answered_to_next_sync": summary_ms(after) if after else {}}


async def measure(n: int, compare_with: Path | None = None, spans: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="reconnect-latency-") as tmp_name, bench_synapse() as server:
        tmp = Path(tmp_name)
        names = ["reconnect"] + (["before"] if compare_with else [])
        echo, consultant_acc, client_acc = (server.register(name) for name in ("echo", "consultant", "client"))
        accounts = {name: server.register(name) for name in names}
        bots = {name: BotProcess(bot_config(server.url, acc.user_id, acc.password, tmp / name,
                                            consultants=(consultant_acc.user_id,)), tmp / name,
                                 cwd=compare_with if name == "before" else None,
                                 spans=tmp / f"{name}.spans.json" if spans else None)
                for name, acc in accounts.items()}
        echo_proc = EchoProcess(server.url, echo.user_id, echo.password, tmp / "echo",
                                spans=tmp / "echo.spans.json" if spans else None)
        users: list[MatrixUser] = []
        try:
            await asyncio.gather(echo_proc.start(), *(b.start() for b in bots.values()))
            consultant = await login(server.url, consultant_acc.user_id, consultant_acc.password, tmp / "c1")
            client = await login(server.url, client_acc.user_id, client_acc.password, tmp / "c2")
            users += [consultant, client]
            toolbox = {name: await enrol(consultant, await staff_room(consultant, acc.user_id), client, acc.user_id,
                                         "Benchmark")
                       for name, acc in accounts.items()}
            echo_room = await client.dm(echo.user_id, timeout=60)
            for i in range(WARM_UP):
                await round_trip(client, echo_room, f"warm-up {i}", echo.user_id)
                for name, acc in accounts.items():
                    await round_trip(client, toolbox[name], "!help", acc.user_id)
            echo_times: list[float] = []
            bot_times = {name: {label(c): [] for c in COMMANDS} for name in names}
            for i in range(n):
                echo_times.append(await round_trip(client, echo_room, f"message {i}", echo.user_id))
                command = COMMANDS[i % len(COMMANDS)]
                for name, acc in accounts.items():
                    bot_times[name][label(command)].append(
                        await round_trip(client, toolbox[name], command.format(i=i), acc.user_id))
            undecryptable = len(client.undecryptable)
        except BaseException:
            for b in bots.values():
                print(f"{b.user_id}'s log (end):\n" + b.log_text()[-4000:], flush=True)
            raise
        finally:
            for user in users:
                await user.close()
            for b in bots.values():
                b.stop()
            echo_proc.stop()
        breakdown: dict[str, Any] = {}
        if spans:
            for name in ["echo", *names]:
                path = tmp / f"{name}.spans.json"
                if path.exists():
                    breakdown[name] = stage_breakdown(json.loads(path.read_text()))
                    requests = Path(f"{path}.requests")
                    if requests.exists():
                        breakdown[name]["requests"] = request_summary(json.loads(requests.read_text()))
    echo_s = summary_ms(echo_times)
    result: dict[str, Any] = {"messages_each": n, "echo": echo_s, "target_p50_ratio": TARGET_P50_RATIO,
                              "undecryptable": undecryptable}
    for name in names:
        every = [t for times in bot_times[name].values() for t in times]
        bot_s = summary_ms(every)
        prefix = "" if name == "reconnect" else f"{name}_"
        result[f"{prefix}reconnect" if prefix else "reconnect"] = bot_s
        result[f"{prefix}reconnect_by_command"] = {k: summary_ms(v) for k, v in bot_times[name].items()}
        result[f"{prefix}p50_ratio"] = round(bot_s["p50_ms"] / echo_s["p50_ms"], 2)
        result[f"{prefix}p95_ratio"] = round(bot_s["p95_ms"] / echo_s["p95_ms"], 2)
    if compare_with:
        result["before_code"] = str(compare_with)
    if breakdown:
        result["stages"] = breakdown
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="messages to each bot")
    parser.add_argument("--compare-with", type=Path, default=None, metavar="DIR",
                        help="also run the bot from another checkout (e.g. before a change), side by side")
    parser.add_argument("--spans", action="store_true",
                        help="time each stage in the bots (bench/spans.py) and print the breakdown")
    args = parser.parse_args(argv)
    quiet_logs()
    r = asyncio.run(measure(args.n, args.compare_with, args.spans))
    rows = [("echo bot (floor)", r["echo"]["n"], r["echo"]["p50_ms"], r["echo"]["p95_ms"], "", "")]
    rows += [(f"ReConnect {k}", v["n"], v["p50_ms"], v["p95_ms"], "", "") for k, v in r["reconnect_by_command"].items()]
    rows.append(("ReConnect all", r["reconnect"]["n"], r["reconnect"]["p50_ms"], r["reconnect"]["p95_ms"],
                 f"p50 ×{r['p50_ratio']} / p95 ×{r['p95_ratio']}",
                 f"{verdict(r['p50_ratio'], TARGET_P50_RATIO)} (p50 ≤ ×{TARGET_P50_RATIO})"))
    if "before_reconnect" in r:
        rows.append((f"before ({r['before_code']}) all", r["before_reconnect"]["n"], r["before_reconnect"]["p50_ms"],
                     r["before_reconnect"]["p95_ms"], f"p50 ×{r['before_p50_ratio']} / p95 ×{r['before_p95_ratio']}",
                     ""))
    print_table("Reply latency: encrypted round trip, one message at a time",
                ("to", "messages", "p50 ms", "p95 ms", "ratio to echo", "target"), rows)
    for name, b in r.get("stages", {}).items():
        print_table(f"{name}: sync with the command received -> reply PUT sent, {b['replies']} replies "
                    f"(p50 {b['sync_end_to_reply_put']['p50_ms']} ms)",
                    ("stage", "median ms within", "seen in"),
                    [(k, v, b["stage_seen_in"][k]) for k, v in b["stage_median_ms"].items()])
        if "requests" in b:
            q = b["requests"]
            print(f"{name}: {q['syncs_started_during_a_room_send']} of {q['room_sends']} room sends had a sync set up "
                  f"while on their way; PUT answered -> next sync p50 "
                  f"{q['put_answered_to_next_sync'].get('p50_ms', '-')} ms; requests: "
                  + ", ".join(f"{k} ×{v['n']}" for k, v in list(q["by_kind"].items())[:6]))
    path = write_result("latency", r)
    print(f"written {path}")
    return r


if __name__ == "__main__":
    main()
