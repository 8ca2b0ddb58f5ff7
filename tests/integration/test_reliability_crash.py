"""Crash mid-burst: five participants send commands to a bot run as its operators run it
(``python -m bot.cli run -c config.yaml``); the bot is killed with SIGKILL in the middle and
started again. Every command is answered exactly once, decrypted, and done exactly once."""

from __future__ import annotations

import asyncio
import os
import secrets

import pytest

from bench.botprocess import BotProcess, bot_config
from bench.scenario import enrol, staff_room
from tests.integration.conftest import unique

SOAK = os.environ.get("SOAK") == "1"
NAMES = ("Alder", "Birch", "Cedar", "Hazel", "Rowan")


def goal_text(client: int, n: int) -> str:
    return f"crashgoal-{client}-{n:03d} walk to the lake"


def answers(person, toolbox: str, bot_id: str) -> list:
    return [r for r in person.notices(toolbox, bot_id) if "crashgoal-" in r.body]


async def start_bot_process(synapse, staff, tmp_path, **overrides) -> BotProcess:
    password = secrets.token_urlsafe(12)
    user_id = synapse.register(unique("bot"), password)
    data = tmp_path / "bot"
    proc = BotProcess(bot_config(synapse.url, user_id, password, data, consultants=(staff["consultant"]["user_id"],),
                                 admins=(staff["admin"]["user_id"],), **overrides), data)
    await proc.start()
    return proc


async def burst_with_crashes(synapse, staff, consultant, make_user, tmp_path, *, per_client: int, kills: int) -> None:
    proc = await start_bot_process(synapse, staff, tmp_path)
    bot_id = proc.user_id
    try:
        room = await staff_room(consultant, bot_id)
        people = [await make_user(name.lower()) for name in NAMES]
        toolboxes = [await enrol(consultant, room, p, bot_id, name) for p, name in zip(people, NAMES)]
        total = len(people) * per_client

        def answered() -> int:
            return sum(len(answers(p, t, bot_id)) for p, t in zip(people, toolboxes))

        async def send_all(i: int) -> None:
            for n in range(per_client):
                await people[i].send(toolboxes[i], f"!goal add {goal_text(i, n)}")
                await asyncio.sleep(0.05)

        async def crash_and_restart() -> None:
            for k in range(kills):
                threshold = total * (k + 1) // (kills + 2)
                await people[0].until(lambda: answered() >= threshold, 120, f"{threshold} answers before a kill")
                proc.kill()
                await asyncio.sleep(1)
                await proc.start()

        await asyncio.gather(crash_and_restart(), *(send_all(i) for i in range(len(people))))
        log = proc.log_text()
        assert log.count("ReConnect is running as") == kills + 1  # really killed and started again

        for i, (person, toolbox) in enumerate(zip(people, toolboxes)):
            expected = {goal_text(i, n) for n in range(per_client)}
            await person.until(lambda: all(any(t in r.body for r in answers(person, toolbox, bot_id))
                                           for t in expected), 120, f"answers to all {per_client} commands")
        await asyncio.sleep(3)  # a duplicate would arrive by now
        for i, (person, toolbox) in enumerate(zip(people, toolboxes)):
            replies = answers(person, toolbox, bot_id)
            assert all(r.decrypted for r in replies)
            for n in range(per_client):
                assert sum(goal_text(i, n) in r.body for r in replies) == 1, f"answers to {goal_text(i, n)}"
            listing = await person.ask(toolbox, "!goals", bot_id, timeout=60)
            for n in range(per_client):  # done exactly once, too
                assert listing.body.count(goal_text(i, n)) == 1
            # (keys in the shared rooms are test_security_keys' subject)
            assert [u for u in person.undecryptable if u.room_id == toolbox] == []
    finally:
        proc.stop()


async def test_sigkill_mid_burst_answers_every_command_once(synapse, staff, consultant, make_user, tmp_path):
    await burst_with_crashes(synapse, staff, consultant, make_user, tmp_path, per_client=20, kills=1)


@pytest.mark.soak
@pytest.mark.timeout(1200)
async def test_repeated_sigkills_soak(synapse, staff, consultant, make_user, tmp_path):
    await burst_with_crashes(synapse, staff, consultant, make_user, tmp_path,
                             per_client=60 if SOAK else 20, kills=4 if SOAK else 2)
