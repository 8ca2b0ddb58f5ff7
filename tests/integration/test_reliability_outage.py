"""Homeserver outage: a Synapse of this test's own is stopped (10 s in CI, 30 s in soak) and
started again on the same port, while a participant keeps sending (retrying) and a personal
reminder falls due. The bot logs the outage, reports it on /healthz, recovers by itself,
answers every command once and sends the reminder once."""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass

import aiohttp
import pytest
import pytest_asyncio

from bench.botprocess import BotProcess, bot_config
from bench.scenario import enrol, staff_room
from bot.localsynapse import LocalSynapse, free_port
from tests.integration.matrix_user import MatrixUser

SOAK = os.environ.get("SOAK") == "1"
REMINDER = "water the plants on the balcony"


async def send_retrying(user: MatrixUser, room_id: str, body: str) -> None:
    """A client that keeps trying while its homeserver is away, as real clients do."""
    deadline = time.monotonic() + 120
    while True:
        try:
            await user.send(room_id, body)
            return
        except Exception:  # noqa: BLE001 - refused or connection error during the outage
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(1)


async def health(port: int) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
            return r.status, json.loads(await r.text())


@dataclass
class Seen:
    """What the outage run observed, for the tests below to judge."""

    health_during: tuple[int, dict]
    health_after: tuple[int, dict]
    log: str
    notices: list[str]
    decrypted: bool
    undecryptable: int  # in the toolbox room (old history of shared rooms is Megolm's rule)


async def outage(tmp_path, seconds: float) -> Seen:
    server = LocalSynapse(tmp_path / "synapse", fast_passwords=True)
    await asyncio.to_thread(server.start)
    users: list[MatrixUser] = []
    proc: BotProcess | None = None
    try:
        accounts = {name: (server.register(name, f"pw-{name}-1234"), f"pw-{name}-1234")
                    for name in ("bot", "consultant", "pia")}
        http_port = free_port()
        proc = BotProcess(bot_config(server.url, *accounts["bot"], tmp_path / "bot",
                                     consultants=(accounts["consultant"][0],), http_port=http_port), tmp_path / "bot")
        await proc.start()
        bot_id = proc.user_id
        for name in ("consultant", "pia"):
            user = MatrixUser(server.url, *accounts[name], tmp_path / f"store-{name}")
            await user.login()
            users.append(user)
        consultant, pia = users
        toolbox = await enrol(consultant, await staff_room(consultant, bot_id), pia, bot_id, "Petal")  # not her login name

        # (Other notes may come in between, e.g. the tip about the display name: wait for the answer.)
        mark = len(pia.received)
        await pia.send(toolbox, f"!activity add in 1 minute {REMINDER}")
        due = time.monotonic() + 60
        await pia.wait_for(lambda r: r.room_id == toolbox and r.sender == bot_id and REMINDER in r.body,
                           timeout=60, after=mark, what="the activity's confirmation")
        await pia.send(toolbox, "!goal add outage-goal-0 before")

        # Stop the homeserver so the reminder falls due while it is away.
        await asyncio.sleep(max(0.0, due - time.monotonic() - seconds / 2))
        await asyncio.to_thread(server.stop)
        stopped_at = time.monotonic()
        sending = asyncio.create_task(send_retrying(pia, toolbox, "!goal add outage-goal-1 during"))
        await asyncio.sleep(seconds * 0.7)
        health_during = await health(http_port)
        await asyncio.sleep(max(0.0, seconds - (time.monotonic() - stopped_at)))
        assert time.monotonic() > due  # the reminder fell due during the outage
        await asyncio.to_thread(server.start)
        await sending
        await send_retrying(pia, toolbox, "!goal add outage-goal-2 after")

        for n in range(3):
            await pia.wait_for(lambda r, n=n: r.room_id == toolbox and r.sender == bot_id
                               and f"outage-goal-{n}" in r.body, timeout=120,
                               what=f"the answer to goal {n}")
        await pia.wait_for(lambda r: r.room_id == toolbox and REMINDER in r.body and "⏰" in r.body, timeout=120,
                           what="the reminder")
        await asyncio.sleep(5)  # a duplicate would arrive by now
        notices = pia.notices(toolbox, bot_id)
        return Seen(health_during=health_during, health_after=await health(http_port), log=proc.log_text(),
                    notices=[r.body for r in notices], decrypted=all(r.decrypted for r in notices),
                    undecryptable=sum(u.room_id == toolbox for u in pia.undecryptable))
    finally:
        for user in users:
            await user.close()
        if proc is not None:
            proc.stop()
        await asyncio.to_thread(server.stop)


def assert_recovered(seen: Seen) -> None:
    """Answers every command once, sends the reminder once, all readable; no restart needed."""
    for n in range(3):
        assert sum(f"outage-goal-{n}" in b for b in seen.notices) == 1
    assert sum(REMINDER in b and "⏰" in b for b in seen.notices) == 1
    assert seen.decrypted and seen.undecryptable == 0
    assert seen.health_after[0] == 200 and seen.health_after[1]["sync_alive"] is True
    assert seen.log.count("ReConnect is running as") == 1


@pytest_asyncio.fixture(scope="module")
async def short_outage(tmp_path_factory) -> Seen:
    return await outage(tmp_path_factory.mktemp("outage"), 10)


@pytest.mark.timeout(400)
async def test_recovers_by_itself_answers_once_and_reminds_once(short_outage):
    assert_recovered(short_outage)


async def test_outage_is_logged_and_reported_on_healthz(short_outage):
    assert "unreachable" in short_outage.log
    status, report = short_outage.health_during
    assert status == 503 and report["sync_alive"] is False


@pytest.mark.soak
@pytest.mark.timeout(600)
async def test_long_homeserver_outage_soak(tmp_path):
    assert_recovered(await outage(tmp_path, 30 if SOAK else 10))
