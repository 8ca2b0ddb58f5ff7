"""The community on a real Synapse with real encrypted clients: enrolment, the privacy guard,
crisis response, moderation, reports, reveals and provider rooms."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Awaitable, Callable

from nio import RoomGetEventResponse, RoomGetStateEventResponse

from bot.db import Database, utcnow
from bot.models import RoomKind
from bot.roomdir import find_room, toolbox_room_of
from rooms.models import Mute
from tests.integration.matrix_user import MatrixUser


def room_of(handle, kind: RoomKind, **kw) -> str:
    with handle.app.db.session() as s:
        room = find_room(s, kind, **kw)
        assert room is not None, kind
        return room.room_id


def toolbox_of(handle, user_id: str) -> str:
    with handle.app.db.session() as s:
        room_id = toolbox_room_of(s, user_id)
    assert room_id is not None
    return room_id


async def joined(handle, user: MatrixUser, room_id: str) -> str:
    """Make sure ``user`` is in the room and the bot has seen it (so they get its room keys).
    Staff invited before their client logged in would otherwise never join."""
    if room_id not in user.client.rooms or user.user_id not in user.client.rooms[room_id].users:
        await user.client.join(room_id)
    await user.until(lambda: room_id in user.client.rooms, 30, f"joining {room_id}")

    async def bot_sees_it() -> bool:
        room = handle.app.client.rooms.get(room_id)
        return room is not None and user.user_id in room.users

    await poll(bot_sees_it, f"the bot to see {user.user_id} in {room_id}")
    return room_id


def pseudonym(base: str) -> str:
    return f"{base}{uuid.uuid4().hex[:4]}"


async def enrolled(handle, consultant: MatrixUser, make_user, base: str, community: str = "North"):
    """A participant enrolled by the consultant, joined to the forum and café room."""
    user = await make_user(base.lower())
    name = pseudonym(base)
    consultant_room = await joined(handle, consultant, room_of(handle, RoomKind.CONSULTANT))
    await joined(handle, consultant, room_of(handle, RoomKind.FORUM))
    await ask_for(consultant, consultant_room, f"!enroll {user.user_id} {name} {community}", handle.user_id,
                  f"**{name}** ({community}) is in")
    forum = room_of(handle, RoomKind.FORUM)
    cafe = room_of(handle, RoomKind.CAFE, community=community)
    toolbox = toolbox_of(handle, user.user_id)
    for room_id in (forum, cafe, toolbox):
        await user.until(lambda r=room_id: r in user.client.rooms, 30, f"joining {room_id}")
    await user.wait_for(lambda r: r.room_id == toolbox and f"Welcome, {name}" in r.body)
    # The house rules follow as a message of their own; wait for them too, so that later waits
    # (crisis numbers, privacy words) cannot mistake them for the reply they wait for.
    await user.wait_for(lambda r: r.room_id == toolbox and "House rules" in r.body)
    await user.wait_joined(forum, handle.user_id)
    return user, name, toolbox


async def power_of(user: MatrixUser, room_id: str, who: str) -> int | None:
    resp = await user.client.room_get_state_event(room_id, "m.room.power_levels")
    assert isinstance(resp, RoomGetStateEventResponse)
    return resp.content.get("users", {}).get(who)


async def ask_for(user: MatrixUser, room_id: str, body: str, bot_id: str, text: str):
    """Send ``body`` and wait for the bot's message in that room holding ``text``."""
    mark = len(user.received)
    await user.send(room_id, body)
    return await user.wait_for(lambda r: r.room_id == room_id and r.sender == bot_id and text in r.body, after=mark,
                               what=f"a reply holding {text!r}")


async def poll(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 30) -> None:
    for _ in range(int(timeout * 4)):
        if await check():
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"waited {timeout:.0f} s for {what}")


async def is_redacted(user: MatrixUser, room_id: str, event_id: str) -> bool:
    resp = await user.client.room_get_event(room_id, event_id)
    return isinstance(resp, RoomGetEventResponse) and "redacted_because" in resp.event.source.get("unsigned", {})


async def pinned(user: MatrixUser, room_id: str) -> list[str]:
    resp = await user.client.room_get_state_event(room_id, "m.room.pinned_events")
    return list(resp.content.get("pinned", [])) if isinstance(resp, RoomGetStateEventResponse) else []


async def test_enrolment_from_start_to_forum_and_cafe(bot, consultant, make_user):
    anna = await make_user("anna")
    dm = await anna.dm(bot.user_id)
    intro = await anna.ask(dm, "!start", bot.user_id)
    assert intro.decrypted and "not for emergencies" in intro.body and "113" in intro.body
    await ask_for(anna, dm, "!consent", bot.user_id, "!pseudonym")
    name = pseudonym("Lark")
    await ask_for(anna, dm, f"!pseudonym {name}", bot.user_id, "!community")
    consultant_room = await joined(bot, consultant, room_of(bot, RoomKind.CONSULTANT))
    mark = len(consultant.received)
    await ask_for(anna, dm, "!community South", bot.user_id, "approve")
    note = await consultant.wait_for(lambda r: r.room_id == consultant_room and name in r.body, after=mark)
    assert "South" in note.body and anna.user_id not in note.body
    await ask_for(consultant, consultant_room, f"!approve {name}", bot.user_id, f"**{name}** (South) is in")
    news = await anna.wait_for(lambda r: r.room_id == dm and "You're in" in r.body)
    assert news.decrypted and news.content["msgtype"] == "m.text" and name in news.body  # it notifies
    forum, cafe = room_of(bot, RoomKind.FORUM), room_of(bot, RoomKind.CAFE, community="South")
    for room_id in (forum, cafe, room_of(bot, RoomKind.SPACE)):
        await anna.until(lambda r=room_id: r in anna.client.rooms, 30, f"joining {room_id}")
    toolbox = toolbox_of(bot, anna.user_id)
    welcome = await anna.wait_for(lambda r: r.room_id == toolbox and "Welcome" in r.body)
    assert welcome.decrypted
    rules = await anna.wait_for(lambda r: r.room_id == toolbox and "House rules" in r.body)
    assert rules.decrypted and "café room for South" in rules.body
    assert anna.client.rooms[forum].encrypted and anna.client.rooms[toolbox].encrypted
    # The display name in the forum is the account name, not the pseudonym: a private tip.
    tip = await anna.wait_for(lambda r: r.room_id == toolbox and "/myroomnick" in r.body)
    assert name in tip.body


async def test_phone_number_in_forum_nudges_privately_and_redact_mine(bot, consultant, make_user):
    kari, _, toolbox = await enrolled(bot, consultant, make_user, "Wren")
    forum = room_of(bot, RoomKind.FORUM)
    mark = len(kari.received)
    event_id = await kari.send(forum, "Ring meg gjerne på 912 34 567 i kveld")
    nudge = await kari.wait_for(lambda r: r.room_id == toolbox and "phone number" in r.body and "redact-mine" in r.body,
                               after=mark)
    assert "912" not in nudge.body and "!redact-mine" in nudge.body
    done = await kari.ask(toolbox, "!redact-mine", bot.user_id)
    assert "removed" in done.body
    await poll(lambda: is_redacted(kari, forum, event_id), "the message to be removed")
    assert not [r for r in kari.received[mark:] if r.room_id == forum and r.sender == bot.user_id
                and r.type == "m.room.message"]


async def test_crisis_language_in_both_languages(bot, consultant, make_user):
    consultant_room = room_of(bot, RoomKind.CONSULTANT)
    for base, text in (("Finch", "Some nights I just want to die"), ("Heron", "Jeg vil ikke leve lenger")):
        user, _, toolbox = await enrolled(bot, consultant, make_user, base)
        forum = room_of(bot, RoomKind.FORUM)
        mark, cmark = len(user.received), len(consultant.received)
        event_id = await user.send(forum, text)
        private = await user.wait_for(lambda r: r.room_id == toolbox and "113" in r.body, after=mark)
        assert "22 40 00 40" in private.body
        alert = await consultant.wait_for(lambda r: r.room_id == consultant_room and event_id in r.body, after=cmark)
        assert f"https://matrix.to/#/{forum}/{event_id}" in alert.body
        assert text not in alert.body and user.user_id not in alert.body


async def test_moderation_commands_on_real_rooms(bot, consultant, make_user):
    ola, name, toolbox = await enrolled(bot, consultant, make_user, "Otter")
    per, _, per_toolbox = await enrolled(bot, consultant, make_user, "Puffin")
    forum = room_of(bot, RoomKind.FORUM)
    consultant_room = room_of(bot, RoomKind.CONSULTANT)

    # A staff command typed in the forum is removed from it first; the refusal comes privately.
    for command in (f"!mute {name} 2h", f"!warn {name} hi", f"!ban {name}", f"!kick {name}", "!announce hi",
                    f"!unmute {name}", f"!unban {name}", "!topic hi", "!modlog"):
        mark = len(per.received)
        typed = await per.send(forum, command)
        await per.wait_for(lambda r: r.room_id == per_toolbox and "not available to you" in r.body, after=mark,
                           what=f"the refusal of {command}")
        await poll(lambda e=typed: is_redacted(per, forum, e), f"{command} to be removed")
    assert not [r for r in per.received if r.room_id == forum and r.sender == bot.user_id
                and r.type == "m.room.message" and "not available" in r.body]

    await ask_for(consultant, consultant_room, f"!warn {name} Please keep it kind", bot.user_id, "**warning**")
    await ola.wait_for(lambda r: r.room_id == toolbox and "Please keep it kind" in r.body)

    await ask_for(consultant, consultant_room, f"!mute {name} 2h", bot.user_id, "**mute**")
    assert await power_of(consultant, forum, ola.user_id) == -1
    await ask_for(consultant, consultant_room, f"!unmute {name}", bot.user_id, "**unmute**")
    assert await power_of(consultant, forum, ola.user_id) is None

    post = await ola.send(forum, "an unkind post")
    await consultant.wait_for(lambda r: r.event_id == post)
    await consultant.send(forum, "!redact off-topic", {"m.relates_to": {"m.in_reply_to": {"event_id": post}}})
    await poll(lambda: is_redacted(ola, forum, post), "the post to be removed")

    keep = await per.send(forum, "a helpful post")
    await consultant.wait_for(lambda r: r.event_id == keep)
    await consultant.send(forum, "!pin", {"m.relates_to": {"m.in_reply_to": {"event_id": keep}}})

    async def is_pinned() -> bool:
        return keep in await pinned(consultant, forum)

    await poll(is_pinned, "the post to be pinned")

    await ask_for(consultant, consultant_room, "!announce The café moves to Friday", bot.user_id, "Announcement posted")
    await ola.wait_for(lambda r: r.room_id == forum and "The café moves to Friday" in r.body)
    await ask_for(consultant, consultant_room, "!topic What helped you this week?", bot.user_id, "prompt is posted")
    await ola.wait_for(lambda r: r.room_id == forum and "What helped you this week?" in r.body)

    await ask_for(consultant, consultant_room, f"!kick {name} cooling off", bot.user_id, "removed from rooms")
    await ola.wait_for(lambda r: r.room_id == toolbox and "cooling off" in r.body)
    await ask_for(consultant, consultant_room, f"!ban {name} repeated abuse", bot.user_id, "**ban**")
    await ola.wait_for(lambda r: r.room_id == toolbox and "repeated abuse" in r.body)
    await ask_for(consultant, consultant_room, f"!unban {name}", bot.user_id, "ban lifted")
    await ola.wait_for(lambda r: r.room_id == toolbox and "ban has been lifted" in r.body)
    log = await ask_for(consultant, consultant_room, "!modlog 3", bot.user_id, "Moderation log")
    assert "1. " in log.body and "ban lifted" in log.body and "3. " in log.body


async def test_three_reports_outside_staffed_hours_hide_a_message(start_bot, consultant, make_user):
    handle = await start_bot(moderation={"staffed_hours": "sun 03:00-03:01"})
    author, name, _ = await enrolled(handle, consultant, make_user, "Gull")
    reporters = [await enrolled(handle, consultant, make_user, base) for base in ("Tern", "Crane", "Robin")]
    forum = room_of(handle, RoomKind.FORUM)
    consultant_room = room_of(handle, RoomKind.CONSULTANT)
    post = await author.send(forum, "something hurtful")
    cmark = len(consultant.received)
    for user, _, _ in reporters:
        await user.wait_for(lambda r: r.event_id == post)
        await user.send(forum, "!report hurtful", {"m.relates_to": {"m.in_reply_to": {"event_id": post}}})
    hidden = await consultant.wait_for(lambda r: r.room_id == consultant_room and "was hidden" in r.body,
                                       after=cmark, timeout=60)
    assert name in hidden.body and "something hurtful" not in hidden.body
    alerts = [r for r in consultant.received[cmark:] if "was reported" in r.body]
    assert alerts and all(u.user_id not in a.body for u, _, _ in reporters for a in alerts)
    review = await ask_for(consultant, consultant_room, "!hidden 1", handle.user_id, "Hidden message by")
    assert "something hurtful" in review.body
    # Restored: reposted under the pseudonym in the forum, and the author is told privately.
    author_toolbox = toolbox_of(handle, author.user_id)
    amark = len(author.received)
    await ask_for(consultant, consultant_room, "!hidden 1 restore", handle.user_id, "Restored")
    repost = await author.wait_for(lambda r: r.room_id == forum and r.sender == handle.user_id
                                   and "something hurtful" in r.body, after=amark)
    assert repost.decrypted and name in repost.body
    told = await author.wait_for(lambda r: r.room_id == author_toolbox and "put it back" in r.body, after=amark)
    assert told.decrypted


async def test_timed_mute_ends_by_itself_after_restart(start_bot, consultant, make_user):
    handle = await start_bot()
    ola, name, toolbox = await enrolled(handle, consultant, make_user, "Plover")
    forum = room_of(handle, RoomKind.FORUM)
    consultant_room = room_of(handle, RoomKind.CONSULTANT)
    await ask_for(consultant, consultant_room, f"!mute {name} 2h", handle.user_id, "**mute**")
    assert await power_of(consultant, forum, ola.user_id) == -1
    await handle.stop()
    db = Database(handle.settings.storage.resolved_database_url())
    with db.session() as s:  # two hours pass while the bot is down
        s.get(Mute, ola.user_id).until = utcnow() - timedelta(minutes=1)
    db.dispose()
    mark = len(ola.received)
    await handle.start()
    await ola.wait_for(lambda r: r.room_id == toolbox and "post in the community rooms again" in r.body,
                       after=mark, timeout=60)
    assert await power_of(consultant, forum, ola.user_id) is None


async def test_reveal_is_delivered_only_after_accept(bot, consultant, make_user):
    kari, kname, ktoolbox = await enrolled(bot, consultant, make_user, "Dove")
    ola, oname, otoolbox = await enrolled(bot, consultant, make_user, "Swift")
    sent = await kari.ask(ktoolbox, f"!reveal {oname} I'm Anna, by the window at the café", bot.user_id)
    assert oname in sent.body
    asked = await ola.wait_for(lambda r: r.room_id == otoolbox and "!accept" in r.body)
    assert kname in asked.body and "Anna" not in asked.body
    assert not any("Anna" in r.body for r in ola.received)
    delivered = await ola.ask(otoolbox, "!accept", bot.user_id)
    assert "I'm Anna, by the window at the café" in delivered.body
    await kari.wait_for(lambda r: r.room_id == ktoolbox and "accepted" in r.body)


async def test_provider_room_has_exactly_three_members(bot, consultant, make_user):
    kari, kname, _ = await enrolled(bot, consultant, make_user, "Egret")
    gp = await make_user("gp")
    consultant_room = await joined(bot, consultant, room_of(bot, RoomKind.CONSULTANT))
    await ask_for(consultant, consultant_room, f"!providers add {gp.user_id}", bot.user_id, "registered as a health")
    await ask_for(consultant, consultant_room, f"!provider link {kname} {gp.user_id}", bot.user_id,
                  "secure messages room")
    room_id = room_of(bot, RoomKind.PROVIDER, owner=kari.user_id, partner=gp.user_id)
    await gp.until(lambda: room_id in gp.client.rooms, 30, "the provider room")
    await gp.wait_joined(room_id, kari.user_id)
    room = gp.client.rooms[room_id]
    assert room.encrypted
    assert set(room.users) == {kari.user_id, gp.user_id, bot.user_id}
    await ask_for(gp, room_id, "!hours sun 03:00-03:01, sun 04:00-04:01 America/New_York", bot.user_id,
                  "office hours are now **Sun 03:00–03:01, Sun 04:00–04:01** (America/New_York)")
    auto = await ask_for(kari, room_id, "A question about my medicine", bot.user_id, "will be read from")
    assert "not for emergencies" in auto.body and "113" in auto.body and "(America/New_York)" in auto.body


async def test_toolbox_command_in_forum_is_refused_without_echo(bot, consultant, make_user):
    kari, _, toolbox = await enrolled(bot, consultant, make_user, "Ibis")
    forum = room_of(bot, RoomKind.FORUM)
    mark = len(kari.received)
    event_id = await kari.send(forum, "!goal add stop drinking before my sister's wedding")
    # The forum sees nothing: the command is removed and the answer comes privately.
    reply = await kari.wait_for(lambda r: r.room_id == toolbox and "only works in" in r.body, after=mark)
    assert "sister" not in reply.body and "drinking" not in reply.body
    await poll(lambda: is_redacted(kari, forum, event_id), "the command to be removed from the forum")
    assert not [r for r in kari.received[mark:] if r.room_id == forum and r.sender == bot.user_id
                and r.type == "m.room.message"]


async def test_circle_room_holds_only_those_who_accepted(bot, consultant, make_user):
    kari, kname, ktoolbox = await enrolled(bot, consultant, make_user, "Lapwing")
    ola, oname, otoolbox = await enrolled(bot, consultant, make_user, "Curlew")
    per, pname, ptoolbox = await enrolled(bot, consultant, make_user, "Dunlin")
    await ask_for(kari, ktoolbox, f"!circle create Walkers with {oname}, {pname}", bot.user_id, "Walkers")
    await per.wait_for(lambda r: r.room_id == ptoolbox and "Walkers" in r.body)
    await ask_for(per, ptoolbox, "!decline", bot.user_id, "no thanks")
    await ola.wait_for(lambda r: r.room_id == otoolbox and "Walkers" in r.body)
    await ask_for(ola, otoolbox, "!accept", bot.user_id, "joined")
    room_id = room_of(bot, RoomKind.CIRCLE, owner=kari.user_id)
    await ola.until(lambda: room_id in ola.client.rooms, 30, "the circle room")
    await ola.wait_joined(room_id, kari.user_id)
    room = ola.client.rooms[room_id]
    assert room.encrypted and set(room.users) == {kari.user_id, ola.user_id, bot.user_id}
    welcome = await ola.wait_for(lambda r: r.room_id == room_id and "Walkers" in r.body)
    assert welcome.decrypted and kname in welcome.body and pname not in welcome.body


async def test_contact_reaches_the_consultants_and_the_answer_comes_back_privately(bot, consultant, make_user):
    kari, kname, ktoolbox = await enrolled(bot, consultant, make_user, "Robin")
    consultant_room = await joined(bot, consultant, room_of(bot, RoomKind.CONSULTANT))
    mark = len(consultant.received)
    ack = await ask_for(kari, ktoolbox, "!contact Could I move to the South café?", bot.user_id, "peer consultants")
    assert ack.content["msgtype"] == "m.notice"  # an acknowledgement stays a notice
    first = await consultant.wait_for(lambda r: r.room_id == consultant_room and "South café" in r.body, after=mark)
    assert first.decrypted and kname in first.body and kari.user_id not in first.body
    assert first.content["msgtype"] == "m.text"  # consultants' clients notify for it
    await ask_for(kari, ktoolbox, "!contact And one more thing", bot.user_id, "peer consultants")
    more = await consultant.wait_for(lambda r: r.room_id == consultant_room and "one more thing" in r.body, after=mark)
    relates = more.content.get("m.relates_to", {})
    assert relates.get("rel_type") == "m.thread" and relates.get("event_id") == first.event_id
    mark_kari = len(kari.received)
    await ask_for(consultant, consultant_room, f"!answer {kname} Yes, from next month.", bot.user_id,
                  f"Sent privately to **{kname}**")
    answer = await kari.wait_for(lambda r: r.room_id == ktoolbox and "from next month" in r.body, after=mark_kari)
    assert answer.decrypted and answer.content["msgtype"] == "m.text"
