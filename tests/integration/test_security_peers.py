"""Issue 11, findings 6 and 7, on a real Synapse with real encrypted clients: a banned participant
reaches nobody, a removed provider is put out of the room and loses ``!view``, and a consultant
dropped from the config is demoted and removed from the consultant room at the next start; café
buddy rooms have the privacy guard and ``!report``."""

from __future__ import annotations

from nio import RoomGetStateEventResponse

from bot.models import RoomKind
from tests.integration.matrix_user import MatrixUser
from tests.integration.test_rooms_flows import (
    ask_for,
    enrolled,
    is_redacted,
    joined,
    poll,
    power_of,
    pseudonym,
    room_of,
)
from tests.integration.test_schedules_cafes import consultant_room, enrol, schedule_in


async def membership(user: MatrixUser, room_id: str, who: str) -> str | None:
    resp = await user.client.room_get_state_event(room_id, "m.room.member", who)
    return resp.content.get("membership") if isinstance(resp, RoomGetStateEventResponse) else None


async def test_a_banned_participants_reveal_is_refused(bot, consultant, make_user):
    ola, oname, otoolbox = await enrolled(bot, consultant, make_user, "Skua")
    kari, kname, ktoolbox = await enrolled(bot, consultant, make_user, "Auk")
    consultant_room = room_of(bot, RoomKind.CONSULTANT)
    await ask_for(consultant, consultant_room, f"!ban {oname} harassment", bot.user_id, "**ban**")
    refused = await ask_for(ola, otoolbox, f"!reveal {kname} I am the one by the window", bot.user_id,
                            "You are banned")
    assert "by the window" not in refused.body
    await ask_for(ola, otoolbox, f"!circle create Walk with {kname}", bot.user_id, "You are banned")
    # Kari got nothing: her next answer from the bot says nothing is waiting.
    await ask_for(kari, ktoolbox, "!accept", bot.user_id, "nothing waiting")
    assert not any(oname in r.body for r in kari.received if r.room_id == ktoolbox)
    await ask_for(consultant, consultant_room, f"!unban {oname}", bot.user_id, "ban lifted")


async def test_a_block_keeps_reveals_away_and_a_fresh_circle_gets_the_mute(bot, consultant, make_user):
    kari, kname, ktoolbox = await enrolled(bot, consultant, make_user, "Heron")
    ola, oname, otoolbox = await enrolled(bot, consultant, make_user, "Rook")
    per, pname, ptoolbox = await enrolled(bot, consultant, make_user, "Kite")
    await ask_for(kari, ktoolbox, f"!block {oname}", bot.user_id, "will no longer reach you")
    mark = len(kari.received)
    # Ola hears what anyone hears; Kari is not asked and has nothing to answer.
    await ask_for(ola, otoolbox, f"!reveal {kname} I'm the one with the red scarf", bot.user_id, "I've asked")
    await ask_for(kari, ktoolbox, "!accept", bot.user_id, "nothing waiting")
    assert not any(oname in r.body for r in kari.received[mark:])
    # Per is muted, then accepts a circle: the circle room is made with Per muted in it.
    consultant_room = room_of(bot, RoomKind.CONSULTANT)
    await ask_for(kari, ktoolbox, f"!circle create Herons with {pname}", bot.user_id, "Herons")
    await per.wait_for(lambda r: r.room_id == ptoolbox and "Herons" in r.body)
    await ask_for(consultant, consultant_room, f"!mute {pname} 2h", bot.user_id, "**mute**")
    await ask_for(per, ptoolbox, "!accept", bot.user_id, "joined")
    circle = room_of(bot, RoomKind.CIRCLE, owner=kari.user_id)
    await per.until(lambda: circle in per.client.rooms, 30, "the circle room")
    assert await power_of(per, circle, per.user_id) == -1
    assert await power_of(per, circle, kari.user_id) is None
    await ask_for(consultant, consultant_room, f"!unmute {pname}", bot.user_id, "**unmute**")


async def test_a_removed_provider_is_kicked_and_view_is_refused(bot, consultant, make_user):
    kari, kname, _ = await enrolled(bot, consultant, make_user, "Wren")
    gp = await make_user("gp")
    consultant_room = await joined(bot, consultant, room_of(bot, RoomKind.CONSULTANT))
    await ask_for(consultant, consultant_room, f"!providers add {gp.user_id}", bot.user_id, "registered as a health")
    await ask_for(consultant, consultant_room, f"!provider link {kname} {gp.user_id}", bot.user_id,
                  "secure messages room")
    room_id = room_of(bot, RoomKind.PROVIDER, owner=kari.user_id, partner=gp.user_id)
    await gp.until(lambda: room_id in gp.client.rooms, 30, "the provider room")
    await gp.wait_joined(room_id, bot.user_id)
    await ask_for(gp, room_id, "!view", bot.user_id, "Nothing from the toolbox is shared")

    await ask_for(consultant, consultant_room, f"!providers remove {gp.user_id}", bot.user_id,
                  "no longer a registered provider")

    async def kicked() -> bool:
        return await membership(kari, room_id, gp.user_id) == "leave"

    await poll(kicked, "the provider to be removed from the room")
    told = await kari.wait_for(lambda r: r.room_id == room_id and "no longer in this room" in r.body)
    assert told.decrypted
    # Wherever they ask now, !view is refused.
    dm = await gp.dm(bot.user_id)
    await ask_for(gp, dm, "!view goals", bot.user_id, "not available to you")


async def test_a_consultant_dropped_from_config_is_demoted_at_restart(start_bot, consultant, make_user):
    former = await make_user("former")
    handle = await start_bot(people={"consultants": [consultant.user_id, former.user_id]})
    consultant_room = room_of(handle, RoomKind.CONSULTANT)
    forum = room_of(handle, RoomKind.FORUM)
    await joined(handle, former, consultant_room)
    await joined(handle, former, forum)
    assert await power_of(consultant, forum, former.user_id) == 50
    await ask_for(former, consultant_room, "!pending", handle.user_id, "waiting for approval")

    handle.config["people"]["consultants"] = [consultant.user_id]
    await handle.restart()

    async def removed() -> bool:
        return await membership(consultant, consultant_room, former.user_id) == "leave"

    await poll(removed, "the former consultant to leave the consultant room", timeout=60)
    assert await membership(consultant, forum, former.user_id) == "leave"  # not a participant either
    assert await power_of(consultant, forum, former.user_id) is None
    assert await power_of(consultant, consultant_room, former.user_id) is None
    assert await power_of(consultant, forum, consultant.user_id) == 50  # who stays listed keeps their power


async def test_a_buddy_room_has_the_privacy_guard_and_report(start_bot, consultant, make_user):
    handle = await start_bot()
    eva, finn = await make_user("eva"), await make_user("finn")
    _, eva_toolbox = await enrol(handle, consultant, eva, pseudonym("Eva"))
    _, finn_toolbox = await enrol(handle, consultant, finn, pseudonym("Finn"))
    await schedule_in(handle, consultant, 3600)
    await eva.ask(eva_toolbox, "!cafe buddy", handle.user_id)
    known = set(eva.client.rooms)
    await finn.ask(finn_toolbox, "!cafe buddy", handle.user_id)
    buddy_room = await eva.wait_invite(lambda room_id: room_id not in known)
    await eva.wait_joined(buddy_room, finn.user_id)
    await finn.until(lambda: buddy_room in finn.client.rooms, 30, "the buddy room")
    await eva.wait_for(lambda r: r.room_id == buddy_room and "Hello" in r.body)
    # Eva shares her e-mail address: she is told privately, the room hears nothing from the bot.
    mark = len(eva.received)
    post = await eva.send(buddy_room, "write to me at eva.hansen@example.com")
    nudge = await eva.wait_for(lambda r: r.room_id == eva_toolbox and "e-mail address" in r.body, after=mark)
    assert "eva.hansen" not in nudge.body
    # Finn reports a message in the room: the report is removed and the consultants get a link.
    room = consultant_room(handle)
    cmark = len(consultant.received)
    await finn.wait_for(lambda r: r.event_id == post)
    report = await finn.send(buddy_room, "!report", {"m.relates_to": {"m.in_reply_to": {"event_id": post}}})
    await finn.wait_for(lambda r: r.room_id == finn_toolbox and "Thank you for your report" in r.body)
    alert = await consultant.wait_for(lambda r: r.room_id == room and "was reported" in r.body, after=cmark)
    assert post in alert.body and finn.user_id not in alert.body
    await poll(lambda: is_redacted(eva, buddy_room, report), "the report to be removed from the room")
    said = [r.body for r in eva.received[mark:]
            if r.room_id == buddy_room and r.sender == handle.user_id and r.type == "m.room.message"]
    assert said == []
