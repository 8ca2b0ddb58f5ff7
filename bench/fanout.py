"""Reminder fan-out: one café with N yes-RSVPs (N toolbox rooms). Time from the private
reminder's due moment to the last reminder accepted by the homeserver, against a plain nio client
(a second device of the bot's account) sending the same N encrypted messages to the same rooms.
Every room is then read back: each must hold exactly one reminder (none lost, none doubled).

    .venv/bin/python -m bench.fanout [--n 500]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from nio import AsyncClient, AsyncClientConfig, RoomSendResponse
from sqlalchemy import func, select

from bench.common import bench_synapse, bot_settings, http_json, print_table, quiet_logs, verdict, write_result
from bench.population import enrol_with_toolboxes
from bot.app import App
from bot.db import utcnow
from bot.models import SentEvent
from schedules import jobs
from schedules.models import Cafe, Rsvp

TARGET_RATIO = 1.2
LEAD = timedelta(seconds=8)  # the reminder falls due this long after the café is written


async def bot_fanout(app: App, rooms: dict[str, str]) -> float:
    """Seconds from the reminder's due moment to the last one accepted by the homeserver."""
    assert app.db is not None
    due = utcnow() + LEAD
    before = app.settings.schedules.cafe_private_reminder  # "2h" by default
    hours = int(before.rstrip("h"))
    with app.db.session() as s:
        cafe = Cafe(community="North", starts_at=due + timedelta(hours=hours), place="Café Bench", topic=None,
                    created_by="@bench:localhost", created_at=utcnow() - timedelta(minutes=5),
                    announce_txn="bench-announce")
        s.add(cafe)
        s.flush()
        for user_id in rooms:
            s.add(Rsvp(cafe_id=cafe.id, user_id=user_id, answer="yes", updated_at=utcnow() - timedelta(minutes=5)))
    jobs.plan_soon(app)
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
        await asyncio.sleep(0.05)


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


async def measure(n: int, bot_concurrency: int | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="reconnect-fanout-") as tmp_name, bench_synapse() as server:
        tmp = Path(tmp_name)
        bot = server.register("reconnect")
        people = await asyncio.to_thread(server.register_many, "yes", n)
        settings = bot_settings(server, bot, tmp / "bot")
        if bot_concurrency:
            settings.bot.send_concurrency = bot_concurrency
        app = App(settings)
        await app.start()
        try:
            t0 = time.perf_counter()
            rooms = await enrol_with_toolboxes(app, people)
            setup_s = time.perf_counter() - t0
            await asyncio.sleep(3)  # the joins reach the bot
            since_ms = int(time.time() * 1000)
            bot_s = await bot_fanout(app, rooms)
        finally:
            await app.stop()
        counts = await count_bot_events(server.url, {p.user_id: p.access_token for p in people}, rooms,
                                        bot.user_id, since_ms)
        plain_s = await plain_fanout(server.url, bot.user_id, bot.password, tmp / "plain", list(rooms.values()))
    return {
        "rooms": n,
        "setup_seconds": round(setup_s, 1),
        "reconnect_due_to_last_seconds": round(bot_s, 2),
        "plain_client_seconds": round(plain_s, 2),
        "ratio": round(bot_s / plain_s, 2),
        "bot_send_concurrency": settings.bot.send_concurrency,
        "plain_client_concurrency": 1,
        "target_ratio": TARGET_RATIO,
        "lost": sum(1 for enc, plain in counts if enc + plain == 0),
        "doubled": sum(1 for enc, plain in counts if enc + plain > 1),
        "unencrypted": sum(plain for _, plain in counts),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=500, help="yes-people (toolbox rooms)")
    parser.add_argument("--bot-concurrency", type=int, default=None,
                        help="the bot's bot.send_concurrency (default: its configured default)")
    args = parser.parse_args(argv)
    quiet_logs()
    r = asyncio.run(measure(args.n, args.bot_concurrency))
    print_table(f"Reminder fan-out: one café, {r['rooms']} private reminders",
                ("sender", "seconds", "ratio", "lost", "doubled", "target"),
                [("plain nio client, one message after another", r["plain_client_seconds"], "", "", "", ""),
                 (f"ReConnect (due → last), {r['bot_send_concurrency']} rooms at a time",
                  r["reconnect_due_to_last_seconds"], f"×{r['ratio']}", r["lost"],
                  r["doubled"], f"{verdict(r['ratio'], TARGET_RATIO)} (≤ ×{TARGET_RATIO}, 0 lost/doubled)")])
    path = write_result("fanout", r)
    print(f"written {path}")
    return r


if __name__ == "__main__":
    main()
