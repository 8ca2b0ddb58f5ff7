"""Issue 12, item 3, with real encrypted clients: the person's real crisis plan inside a real
crisis reply; no automatic alert from a private room but `!alert`; a crisis message first seen
after an outage is answered late and reaches the consultant room late."""

from __future__ import annotations

import asyncio

from bot.models import RoomKind
from tests.integration.test_rooms_flows import ask_for, enrolled, joined, room_of


async def test_the_real_crisis_plan_in_the_reply_and_alert_on_request(bot, consultant, make_user):
    kari, name, toolbox = await enrolled(bot, consultant, make_user, "Kestrel")
    consultant_room = await joined(bot, consultant, room_of(bot, RoomKind.CONSULTANT))
    forum = room_of(bot, RoomKind.FORUM)
    await ask_for(kari, toolbox, "!crisis add coping Walk by the river with Bella", bot.user_id, "Added to")
    mark, cmark = len(kari.received), len(consultant.received)
    post = await kari.send(forum, "Some nights I just want to die")
    reply = await kari.wait_for(lambda r: r.room_id == toolbox and "113" in r.body, after=mark)
    assert "Walk by the river with Bella" in reply.body and "has been told" in reply.body
    alert = await consultant.wait_for(lambda r: r.room_id == consultant_room and post in r.body, after=cmark)
    assert "Bella" not in alert.body and "die" not in alert.body
    # In the toolbox nobody else reads along: no alert by itself, but the offer of !alert.
    mark, cmark = len(kari.received), len(consultant.received)
    await kari.send(toolbox, "I want to die")
    offer = await kari.wait_for(lambda r: r.room_id == toolbox and "113" in r.body, after=mark)
    assert "!alert" in offer.body and "Walk by the river with Bella" in offer.body
    await ask_for(kari, toolbox, "!alert", bot.user_id, "asked a peer consultant")
    asked = await consultant.wait_for(lambda r: r.room_id == consultant_room and "reach out" in r.body, after=cmark)
    assert name in asked.body and "die" not in asked.body
    assert f"!answer {name}" in asked.body and kari.user_id not in asked.body  # the command to copy, no Matrix id
    assert not [r for r in consultant.received[cmark:] if "may need attention" in r.body]


async def test_a_crisis_message_during_an_outage_is_answered_late(start_bot, consultant, make_user):
    handle = await start_bot(bot={"max_event_age_seconds": 2})
    kari, _, toolbox = await enrolled(handle, consultant, make_user, "Merlin")
    consultant_room = await joined(handle, consultant, room_of(handle, RoomKind.CONSULTANT))
    forum = room_of(handle, RoomKind.FORUM)
    await handle.stop()
    mark, cmark = len(kari.received), len(consultant.received)
    post = await kari.send(forum, "I can't go on")
    await kari.send(toolbox, "!whoami")  # an old command still gets no answer
    await asyncio.sleep(3)
    await handle.start()
    reply = await kari.wait_for(lambda r: r.room_id == toolbox and "113" in r.body, after=mark, timeout=60)
    assert "only saw your message from" in reply.body
    alert = await consultant.wait_for(lambda r: r.room_id == consultant_room and post in r.body, after=cmark,
                                      timeout=60)
    assert "(late)" in alert.body
    digest = await ask_for(consultant, consultant_room, "!digest", handle.user_id, "Flags in the last day")
    assert "seen late" in digest.body
    assert not [r for r in kari.received[mark:] if r.room_id == toolbox and "Role:" in r.body]
