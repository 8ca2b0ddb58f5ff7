"""One person cannot delay everyone's replies: a flood of commands from one participant, with real
encrypted clients against the test Synapse, while another person's replies are timed.

The flood itself loads the homeserver (and this machine), whatever the bot does with it. So the
other person's "normal" latency is measured while the same 300 messages go to a room without the
bot (the control), and again while they go to the bot: the difference is the bot's doing. Medians
of many probes, so one slow round trip on a busy machine does not decide."""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Awaitable, Callable

import pytest
from nio import RoomSendResponse

from bot.config import CommandRateConfig
from tests.integration.matrix_user import MatrixUser

FLOOD = 300
QUIET_PROBES = 5
MIN_PROBES = 7
PROBE_GAP_S = 1.5  # the other person stays well within the limit
FLOOD_SENDERS = 8
CRISIS = "!diary I want to kill myself"


async def round_trip(person: MatrixUser, room_id: str, bot_id: str) -> float:
    started = time.perf_counter()
    reply = await person.ask(room_id, "!whoami", bot_id, timeout=60)
    assert reply.decrypted and person.user_id in reply.body
    return time.perf_counter() - started


async def probes_during(flood: Callable[[], Awaitable[None]], person: MatrixUser, room_id: str,
                        bot_id: str) -> list[float]:
    """Round trips of ``person`` one after another, as long as the flood lasts (and at least
    MIN_PROBES)."""
    flooding = asyncio.create_task(flood())
    await asyncio.sleep(0.5)  # the flood is under way
    times = []
    while len(times) < MIN_PROBES or not flooding.done():
        times.append(await round_trip(person, room_id, bot_id))
        await asyncio.sleep(PROBE_GAP_S)
    await flooding
    return times


def ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


@pytest.mark.timing
async def test_a_flood_of_commands_does_not_delay_another_persons_reply(start_bot, make_user):
    rate = CommandRateConfig()  # the limit as shipped (the harness raises it for scripted tests)
    handle = await start_bot(bot={"command_rate": rate.model_dump()})
    bot_id = handle.user_id
    flooder, other, bystander = await make_user("flooder"), await make_user("other"), await make_user("bystander")
    flood_room, other_room = await asyncio.gather(flooder.dm(bot_id), other.dm(bot_id))
    control_room = await flooder.dm(bystander.user_id)
    await round_trip(other, other_room, bot_id)  # warm up: keys shared both ways
    await round_trip(flooder, flood_room, bot_id)

    quiet = []
    for _ in range(QUIET_PROBES):
        quiet.append(await round_trip(other, other_room, bot_id))
        await asyncio.sleep(PROBE_GAP_S)

    def flood_to(room_id: str) -> Callable[[], Awaitable[None]]:
        async def flood() -> None:
            started = time.perf_counter()
            # Ending with a crisis message, long over the limit: the crisis watch must still answer it.
            bodies = iter(["!help" if n % 2 else "!whoami" for n in range(FLOOD - 1)] + [CRISIS])

            async def sending() -> None:  # several sends in flight, as fast as the homeserver takes them
                for body in bodies:
                    resp = await flooder.client.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": body},
                                                          ignore_unverified_devices=True)
                    assert isinstance(resp, RoomSendResponse), resp

            await asyncio.gather(*(sending() for _ in range(FLOOD_SENDERS)))
            print(f"\n{FLOOD} messages sent in {time.perf_counter() - started:.1f} s")
        return flood

    control = await probes_during(flood_to(control_room), other, other_room, bot_id)
    flood_started = time.monotonic()
    loaded = await probes_during(flood_to(flood_room), other, other_room, bot_id)
    print(f"\nmedian reply: quiet {ms(quiet):.0f} ms, homeserver flooded {ms(control):.0f} ms "
          f"({len(control)} probes), bot flooded {ms(loaded):.0f} ms ({len(loaded)} probes)")
    assert ms(loaded) <= 2 * ms(control), f"{ms(loaded):.0f} ms with the bot flooded, {ms(control):.0f} ms without"

    # The crisis message got its private reply with the help-line numbers, over the limit or not.
    crisis_reply = await flooder.wait_for(lambda r: r.room_id == flood_room and r.sender == bot_id
                                          and "116 123" in r.body and "113" in r.body, what="the crisis reply")
    # Besides, the flooder got the warm-up's answer, the burst, one slow-down, and what the bucket refilled.
    await asyncio.sleep(2)
    replies = [r for r in flooder.notices(flood_room, bot_id) if r.body and r.event_id != crisis_reply.event_id]
    slow_downs = [r for r in replies if "faster than I can answer everyone" in r.body]
    assert len(slow_downs) == 1
    refilled = (time.monotonic() - flood_started) * rate.per_minute / 60
    assert len(replies) <= 1 + rate.burst + 1 + refilled + 1, (len(replies), refilled)
