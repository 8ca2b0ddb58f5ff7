"""Hostile input from the homeserver side: malformed and huge events, events in rooms the bot
does not serve, invites from strangers, and a user wearing a consultant's display name.
The bot stays up, acts on nothing it should not, and roles come from ids, never names."""

from __future__ import annotations

import asyncio
import logging

from nio import RoomCreateResponse

from bench.scenario import enrol, staff_room
from tests.integration.matrix_user import ENCRYPTION

MALFORMED = [
    ("m.room.message", {"body": 12345, "msgtype": "m.text"}),
    ("m.room.message", {"body": {"nested": "!help"}, "msgtype": ["m.text"]}),
    ("m.room.message", {"msgtype": "m.text"}),
    ("m.room.message", {"body": "!help", "msgtype": "m.text", "m.relates_to": "garbage"}),
    ("m.room.message", {"body": "!help", "msgtype": "m.text",
                        "m.relates_to": {"rel_type": "m.thread", "event_id": 7, "m.in_reply_to": []}}),
    ("m.reaction", {"m.relates_to": {"rel_type": "m.annotation", "event_id": None, "key": {"x": 1}}}),
    ("m.reaction", {"m.relates_to": "nope"}),
    ("m.room.encrypted", {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": 5}),
    ("m.room.encrypted", {"algorithm": "unknown.algorithm"}),
    ("m.room.redaction", {"redacts": ["$x"]}),
]


def errors(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("bot")]


async def test_malformed_and_huge_events_do_not_stop_the_bot(bot, make_user, caplog):
    caplog.set_level(logging.INFO, logger="bot")
    mallory = await make_user("mallory")
    room = await mallory.dm(bot.user_id)
    passed = 0
    for event_type, content in MALFORMED:
        try:
            await mallory.put_event(room, event_type, content)
            passed += 1
        except AssertionError:
            pass  # the homeserver refused it (e.g. a body that is not a string): the bot never sees it
    assert passed >= 6
    huge = "!lang " + "x" * 60_000  # ~60 KB, unencrypted (the ciphertext would exceed the event limit)
    await mallory.put_event(room, "m.room.message", {"msgtype": "m.text", "body": huge})
    await mallory.send(room, "!whoami " + "y" * 30_000)  # ~30 KB, encrypted
    await mallory.send(room, "!whoami")
    await mallory.wait_for(lambda r: r.room_id == room and f"You are {mallory.user_id}" in r.body, timeout=60)
    replies = mallory.notices(room, bot.user_id)
    assert any("Usage: `!lang en|nb`" in r.body for r in replies)  # the huge one was read and answered
    assert not any("x" * 50 in r.body or "y" * 50 in r.body for r in replies)  # nothing echoed back
    assert errors(caplog) == []


async def test_rooms_the_bot_does_not_serve(bot, make_user):
    """A group room someone made and invited the bot to: no enrolment, no toolbox there."""
    nora, olaf = await make_user("nora"), await make_user("olaf")
    resp = await nora.client.room_create(invite=[bot.user_id, olaf.user_id], initial_state=[ENCRYPTION])
    assert isinstance(resp, RoomCreateResponse)
    await nora.wait_joined(resp.room_id, bot.user_id)
    await nora.wait_joined(resp.room_id, olaf.user_id)
    reply = await nora.ask(resp.room_id, "!start", bot.user_id)
    assert "only works in" in reply.body and "Welcome to ReConnect" not in reply.body
    reply = await nora.ask(resp.room_id, "!goals", bot.user_id)
    assert "only works in" in reply.body or "not available to you" in reply.body


async def test_invites_from_strangers_are_declined(start_bot, make_user):
    handle = await start_bot(bot={"accept_invites_from": ["elsewhere.example"]})
    stranger = await make_user("stranger")
    resp = await stranger.client.room_create(is_direct=True, invite=[handle.user_id], initial_state=[ENCRYPTION])
    assert isinstance(resp, RoomCreateResponse)
    await stranger.send(resp.room_id, "!help")
    await stranger.until(lambda: resp.room_id in stranger.client.rooms
                         and handle.user_id not in stranger.client.rooms[resp.room_id].users, 30, "the bot to decline")
    await asyncio.sleep(2)
    assert stranger.notices(resp.room_id, handle.user_id) == []


async def test_a_consultants_display_name_gives_no_power(bot, consultant, make_user):
    await consultant.client.set_displayname("Kim (peer consultant)")
    target, impostor = await make_user("target"), await make_user("impostor")
    await impostor.client.set_displayname("Kim (peer consultant)")
    dm = await impostor.dm(bot.user_id)
    for command in (f"!enroll {target.user_id} Stolen North", "!pending", f"!providers add {target.user_id}"):
        reply = await impostor.ask(dm, command, bot.user_id)
        assert "not available to you" in reply.body, (command, reply.body)
    reply = await impostor.ask(dm, "!whoami", bot.user_id)
    assert "not enrolled yet" in reply.body
    # The real consultant, with the same name, can.
    room = await staff_room(consultant, bot.user_id)
    toolbox = await enrol(consultant, room, target, bot.user_id, "Genuine")
    assert toolbox and target.invites
