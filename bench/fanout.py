"""Reminder fan-out: one café with N yes-RSVPs. Time from the private reminder's due moment to the
last reminder accepted by the homeserver, against a plain nio client (a second device of the bot's
account) sending the same N encrypted messages to the same rooms, one after another. Every room is
then read back: each must hold exactly one reminder (none lost, none doubled).

The people are the first N participants of a ``bench.population`` (restored from its snapshot or
built once): each with a toolbox room and 1-2 encryption devices with one-time keys, so both
senders query their devices, claim one-time keys and share a Megolm session per room.

    .venv/bin/python -m bench.fanout [--n 2000] [--participants 2500 ...population options]
                                     [--bot-concurrency 1] [--synapse single]

Result (``bench/results/fanout.json``, also returned by ``main``): ``fanout_ratio`` (ReConnect /
plain client), ``bot_s``, ``plain_s``, ``lost``, ``doubled``, ``unencrypted``, ``n``, ``devices``,
``fanout_met``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from nio import AsyncClient, AsyncClientConfig, RoomSendResponse
from sqlalchemy import func, select

from bench.common import http_json, print_table, quiet_logs, verdict, write_result
from bench.population import PopulationSpec, add_population_arguments, drain_outbox, prepare, settings_for, spec_from
from bot.app import App
from bot.db import utcnow
from bot.models import SentEvent
from schedules import jobs
from schedules.models import Cafe, Rsvp

TARGET_RATIO = 1.0
SYNAPSE_OPTION = True  # bench.run_all passes --synapse on (single, single-postgres, workers)
LEAD = timedelta(seconds=8)  # the reminder falls due this long after the café is written


async def bot_fanout(app: App, rooms: dict[str, str], community: str) -> float:
    """Seconds from the reminder's due moment to the last one accepted by the homeserver."""
    assert app.db is not None
    due = utcnow() + LEAD
    before = app.settings.schedules.cafe_private_reminder  # "2h" by default
    hours = int(before.rstrip("h"))
    with app.db.session() as s:
        cafe = Cafe(community=community, starts_at=due + timedelta(hours=hours), place="Café Bench", topic=None,
                    created_by="@bench:localhost", created_at=utcnow() - timedelta(minutes=5),
                    announce_txn="bench-announce")
        s.add(cafe)
        s.flush()
        for user_id in rooms:
            s.add(Rsvp(cafe_id=cafe.id, user_id=user_id, answer="yes", updated_at=utcnow() - timedelta(minutes=5)))
    jobs.plan_soon(app.runtime)
    due_wall = due.timestamp()
    while True:
        with app.db.session() as s:
            # Only the private reminders: a forum or café reminder may go out in the same sweep.
            sent = s.scalar(select(func.count()).select_from(SentEvent).where(
                SentEvent.txn_id.like("rc-rem-%"), SentEvent.room_id.in_(list(rooms.values()))))
        if sent >= len(rooms):
            return time.time() - due_wall
        if time.time() - due_wall > 600:
            raise RuntimeError(f"only {sent} of {len(rooms)} reminders sent after 10 minutes")
        await asyncio.sleep(0.5)  # the bot runs in this process: polling must not take its time


async def plain_fanout(homeserver: str, user_id: str, password: str, store: Path, rooms: list[str]) -> float:
    store.mkdir(parents=True, exist_ok=True)
    client = AsyncClient(homeserver, user_id, store_path=str(store),
                         config=AsyncClientConfig(store_sync_tokens=False, encryption_enabled=True))
    try:
        await client.login(password, device_name="plain bench client")
        await client.keys_upload()
        await client.sync(timeout=0, full_state=True)
        if client.should_query_keys:
            await client.keys_query()
        t0 = time.perf_counter()
        for room_id in rooms:
            resp = await client.room_send(room_id, "m.room.message", {"msgtype": "m.notice", "body": "reminder"},
                                          ignore_unverified_devices=True)
            assert isinstance(resp, RoomSendResponse), resp
        return time.perf_counter() - t0
    finally:
        await client.close()


async def count_bot_events(homeserver: str, token_of: dict[str, str], rooms: dict[str, str], bot_id: str,
                           since_ms: int) -> list[tuple[int, int]]:
    """Per room, the bot's (encrypted, unencrypted) messages after ``since_ms``, read with the
    member's token."""
    gate = asyncio.Semaphore(8)

    async def one(user_id: str, room_id: str) -> tuple[int, int]:
        url = f"{homeserver}/_matrix/client/v3/rooms/{quote(room_id)}/messages?dir=b&limit=100"
        async with gate:
            for _ in range(5):  # an overloaded homeserver may answer with an error: ask again
                data = await http_json("GET", url, token_of[user_id])
                if "chunk" in data:
                    break
                await asyncio.sleep(1)
            else:
                raise RuntimeError(f"could not read {room_id}: {data}")
        mine = [e.get("type") for e in data.get("chunk", [])
                if e.get("sender") == bot_id and e.get("origin_server_ts", 0) >= since_ms]
        return mine.count("m.room.encrypted"), mine.count("m.room.message")

    return list(await asyncio.gather(*(one(u, r) for u, r in rooms.items())))


async def measure(n: int, spec: PopulationSpec, bot_concurrency: int | None = None, synapse: str = "single",
                  rebuild: bool = False, concurrency: int = 12, profile: Path | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="reconnect-fanout-") as tmp_name:
        tmp = Path(tmp_name)
        prepared = await prepare(spec, tmp, synapse=synapse, rebuild=rebuild, concurrency=concurrency)
        server, pop = prepared.server, prepared.population
        try:
            people = pop.people[:n]
            rooms = {p.user_id: pop.toolbox[p.user_id] for p in people}
            settings = settings_for(prepared)
            if bot_concurrency:
                settings.bot.send_concurrency = bot_concurrency
            app = App(settings)
            await app.start()
            try:
                await asyncio.sleep(3)
                await drain_outbox(app)  # only the reminders are counted after this moment
                since_ms = int(time.time() * 1000)
                spy = None
                if profile is not None:  # py-spy of this process (the bot runs in it) while it fans out
                    spy = subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record", "--idle",
                                            "-r", "50", "-f", "raw", "-o", str(profile), "--pid", str(os.getpid())],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                try:
                    bot_s = await bot_fanout(app, rooms, pop.spec.communities[0])
                finally:
                    if spy is not None:
                        spy.send_signal(signal.SIGINT)
                        await asyncio.to_thread(spy.wait, 120)
            finally:
                await app.stop()
            counts = await count_bot_events(server.url, {p.user_id: p.access_token for p in people}, rooms,
                                            pop.bot.user_id, since_ms)
            plain_s = await plain_fanout(server.url, pop.bot.user_id, pop.bot.password, tmp / "plain",
                                         list(rooms.values()))
        finally:
            server.stop()
    lost = sum(1 for enc, plain in counts if enc + plain == 0)
    doubled = sum(1 for enc, plain in counts if enc + plain > 1)
    ratio = bot_s / plain_s
    return {
        "n": n, "rooms": n, "participants": spec.participants, "devices_in_population": pop.devices,
        "population_key": spec.key(), "population_build_s": pop.build.get("seconds"),
        "population_restored": prepared.restored_from is not None,
        "bot_s": round(bot_s, 2), "plain_s": round(plain_s, 2), "fanout_ratio": round(ratio, 3),
        "bot_send_concurrency": settings.bot.send_concurrency, "plain_client_concurrency": 1,
        "target_ratio": TARGET_RATIO, "lost": lost, "doubled": doubled,
        "unencrypted": sum(plain for _, plain in counts),
        "fanout_met": ratio <= TARGET_RATIO and lost == 0 and doubled == 0,
        # the names earlier tables read
        "reconnect_due_to_last_seconds": round(bot_s, 2), "plain_client_seconds": round(plain_s, 2),
        "ratio": round(ratio, 2),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_population_arguments(parser)
    parser.add_argument("--n", type=int, default=2000, help="yes-people (their toolbox rooms)")
    parser.add_argument("--bot-concurrency", type=int, default=None,
                        help="the bot's bot.send_concurrency (default: its configured default)")
    parser.add_argument("--profile", type=Path, default=None,
                        help="py-spy (raw, --idle) of the bot's fan-out, written here")
    parser.add_argument("--out", default="fanout")
    args = parser.parse_args(argv)
    quiet_logs()
    spec = spec_from(args, at_least=args.n)
    r = asyncio.run(measure(args.n, spec, args.bot_concurrency, args.synapse, args.rebuild, args.concurrency,
                             args.profile))
    print_table(f"Reminder fan-out: one café, {r['n']} private reminders",
                ("sender", "seconds", "ratio", "lost", "doubled", "target"),
                [("plain nio client, one message after another", r["plain_s"], "", "", "", ""),
                 (f"ReConnect (due → last), {r['bot_send_concurrency']} rooms at a time",
                  r["bot_s"], f"×{r['fanout_ratio']}", r["lost"], r["doubled"],
                  f"{verdict(r['fanout_ratio'], TARGET_RATIO)} (≤ ×{TARGET_RATIO}, 0 lost/doubled)")])
    path = write_result(args.out, r)
    print(f"written {path}")
    return r


if __name__ == "__main__":
    main()
