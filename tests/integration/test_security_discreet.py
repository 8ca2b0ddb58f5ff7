"""Issue 11, findings 16 and 17, with real encrypted clients: a report leaves no trace of the
reporter in a shared room, staff commands typed there are removed first, and personal answers
come privately."""

from __future__ import annotations

from bot.models import RoomKind
from tests.integration.test_rooms_flows import ask_for, enrolled, is_redacted, joined, poll, room_of


async def test_report_by_link_from_the_toolbox_stays_anonymous(bot, consultant, make_user):
    author, _, _ = await enrolled(bot, consultant, make_user, "Heron")
    kari, kname, ktoolbox = await enrolled(bot, consultant, make_user, "Finch")
    forum = room_of(bot, RoomKind.FORUM)
    consultant_room = await joined(bot, consultant, room_of(bot, RoomKind.CONSULTANT))
    post = await author.send(forum, "something hurtful")
    amark, cmark = len(author.received), len(consultant.received)
    link = f"https://matrix.to/#/{forum}/{post}?via=localhost"
    await ask_for(kari, ktoolbox, f"!report {link} unkind", bot.user_id, "Thank you for your report")
    alert = await consultant.wait_for(lambda r: r.room_id == consultant_room and "was reported" in r.body,
                                      after=cmark)
    assert f"https://matrix.to/#/{forum}/{post}" in alert.body and "unkind" in alert.body
    assert kari.user_id not in alert.body and kname not in alert.body
    # Nothing reached the forum: the author sees no event from the reporter or the bot there.
    marker = await author.send(forum, "anyone around?")
    await author.wait_for(lambda r: r.event_id == marker, after=amark)
    assert [r for r in author.received[amark:] if r.room_id == forum and r.sender in (kari.user_id, bot.user_id)
            and r.type == "m.room.message"] == []


async def test_a_refused_report_reply_and_a_staff_command_are_removed_before_anything_else(bot, consultant, make_user):
    author, _, _ = await enrolled(bot, consultant, make_user, "Osprey")
    kari, _, ktoolbox = await enrolled(bot, consultant, make_user, "Linnet")
    forum = room_of(bot, RoomKind.FORUM)
    consultant_room = await joined(bot, consultant, room_of(bot, RoomKind.CONSULTANT))
    post = await author.send(forum, "a post")
    await kari.wait_for(lambda r: r.event_id == post)
    kmark = len(kari.received)
    # A reason over the limit: once answered with a usage error in the forum, under the visible reply.
    report = await kari.send(forum, "!report " + "x" * 400, {"m.relates_to": {"m.in_reply_to": {"event_id": post}}})
    told = await kari.wait_for(lambda r: r.room_id == ktoolbox and "too long" in r.body, after=kmark)
    assert told.sender == bot.user_id
    await poll(lambda: is_redacted(author, forum, report), "the report to be removed")
    cmark = len(consultant.received)
    warn = await consultant.send(forum, "!warn Nobodyatall be kind")
    await consultant.wait_for(lambda r: r.room_id == consultant_room and "Nobodyatall" in r.body, after=cmark)
    await poll(lambda: is_redacted(author, forum, warn), "the staff command to be removed")
    assert not [r for r in kari.received[kmark:] if r.room_id == forum and r.sender == bot.user_id and r.type == "m.room.message"]


async def test_whoami_in_the_forum_is_answered_in_the_toolbox(bot, consultant, make_user):
    kari, kname, ktoolbox = await enrolled(bot, consultant, make_user, "Siskin")
    forum = room_of(bot, RoomKind.FORUM)
    mark = len(kari.received)
    asked = await kari.send(forum, "!whoami")
    answer = await kari.wait_for(lambda r: r.room_id == ktoolbox and r.sender == bot.user_id and "Pseudonym" in r.body,
                                 after=mark)
    assert kname in answer.body
    await poll(lambda: is_redacted(kari, forum, asked), "the command to be removed")
    await ask_for(kari, ktoolbox, "!help", bot.user_id, "!whoami")  # a private room still answers in place
    assert not [r for r in kari.received[mark:] if r.room_id == forum and r.sender == bot.user_id and r.type == "m.room.message"]
