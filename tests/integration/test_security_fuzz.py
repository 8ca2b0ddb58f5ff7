"""Generated command lines through a real encrypted direct chat: every one is answered (the bot
never falls silent on a command, never shows its generic error), and it still works afterwards.
20 lines in CI, 200 in soak."""

from __future__ import annotations

import os
import random

import pytest

from tests.unit.test_fuzz_router import NASTY

SOAK = os.environ.get("SOAK") == "1"
NAMES = ("help", "whoami", "lang", "start", "consent", "pseudonym", "community", "goal add", "goals", "cafe",
         "rsvp", "enroll", "approve", "break", "unknowncmd", "HELP", "Goal   ADD")


def generated_lines(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    lines = []
    for _ in range(count):
        pieces = [rng.choice(NASTY) for _ in range(rng.randint(0, 5))]
        pieces += ["".join(chr(rng.randint(0x20, 0x2FFF)) for _ in range(rng.randint(1, 12)))]
        rng.shuffle(pieces)
        lines.append(f"!{rng.choice(NAMES)} " + " ".join(pieces).replace("\x00", ""))
    return lines


async def fuzz_dm(bot, make_user, count: int) -> None:
    user = await make_user("fuzzer")
    room = await user.dm(bot.user_id)
    error_text = "something went wrong on my side"
    for line in generated_lines(count, seed=count):
        reply = await user.ask(room, line, bot.user_id, timeout=60)
        assert reply.decrypted and error_text not in reply.body, (line, reply.body)
    await user.send(room, "!whoami")
    await user.wait_for(lambda r: r.room_id == room and f"You are {user.user_id}" in r.body, timeout=60)
    assert not any(error_text in r.body for r in user.notices(room, bot.user_id))


async def test_generated_lines_in_an_encrypted_dm(bot, make_user):
    await fuzz_dm(bot, make_user, 20)


@pytest.mark.soak
@pytest.mark.timeout(1200)
async def test_generated_lines_in_an_encrypted_dm_soak(bot, make_user):
    await fuzz_dm(bot, make_user, 200 if SOAK else 20)
