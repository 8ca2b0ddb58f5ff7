"""What a real client receives, decrypted: a peer's hostile text arrives as the text typed (issue 11,
finding 8), and each kind of message that must reach someone is m.text naming them, while
acknowledgements stay m.notice (issue 12, item 1; the push-rule consequence is in
tests/unit/test_reach_push_rules.py)."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from bot.models import RoomKind
from tests.integration.matrix_user import MatrixUser, Received
from tests.integration.test_rooms_flows import ask_for, enrolled, joined, room_of
from toolbox.models import Activity

PHISH = "<a href=https://evil.example/login>your bank</a> [verify](https://evil.example) ![x](https://evil.example/p.png)"
HEADING = "<h1>URGENT</h1><mx-reply>fake</mx-reply>"


def shown_text(content: dict) -> str:
    return html.unescape(re.sub(r"<[^>]*>", "", content.get("formatted_body", "")))


def assert_as_typed(message: Received, typed: str) -> None:
    formatted = message.content["formatted_body"]
    assert not any(tag in formatted for tag in ("<a", "<h1", "<img", "<mx-reply")), formatted
    assert typed in shown_text(message.content) and typed in message.body


def is_alert_for(message: Received, *people: str) -> bool:
    return (message.decrypted and message.content["msgtype"] == "m.text"
            and sorted(message.content["m.mentions"].get("user_ids", [])) == sorted(people)
            and not message.content["m.mentions"].get("room"))


def is_quiet(message: Received) -> bool:
    return message.decrypted and message.content["msgtype"] == "m.notice" and message.content["m.mentions"] == {}


async def next_from(user: MatrixUser, room_id: str, sender: str, text: str, mark: int) -> Received:
    return await user.wait_for(lambda r: r.room_id == room_id and r.sender == sender and text in r.body, after=mark,
                               what=f"a message holding {text!r}")


async def test_peer_text_arrives_as_typed_and_invitations_reach_the_invitee(bot, consultant, make_user):
    kari, _, kari_box = await enrolled(bot, consultant, make_user, "Kite")
    ola, ola_name, ola_box = await enrolled(bot, consultant, make_user, "Owl")

    mark = len(ola.received)
    asked = await ask_for(kari, kari_box, f"!reveal {ola_name} {PHISH}", bot.user_id, "I've asked")
    assert is_quiet(asked)  # an acknowledgement
    invitation = await next_from(ola, ola_box, bot.user_id, "!accept", mark)
    assert is_alert_for(invitation, ola.user_id)
    delivered = await ask_for(ola, ola_box, "!accept", bot.user_id, "personal message from")
    assert_as_typed(delivered, PHISH)

    mark = len(ola.received)
    await ask_for(kari, kari_box, f"!circle create {HEADING} with {ola_name}", bot.user_id, "asked")
    circle_invitation = await next_from(ola, ola_box, bot.user_id, "circle", mark)
    assert is_alert_for(circle_invitation, ola.user_id)
    assert_as_typed(circle_invitation, HEADING)

    listing = await ask_for(ola, ola_box, "!help", bot.user_id, "!")
    assert is_quiet(listing)


async def test_warnings_mutes_and_alerts_reach_their_person(bot, consultant, make_user):
    per, name, per_box = await enrolled(bot, consultant, make_user, "Plover")
    kari, _, kari_box = await enrolled(bot, consultant, make_user, "Knot")
    consultant_room = await joined(bot, consultant, room_of(bot, RoomKind.CONSULTANT))
    forum = room_of(bot, RoomKind.FORUM)

    mark = len(per.received)
    echo = await ask_for(consultant, consultant_room, f"!warn {name} Please keep it kind", bot.user_id, "**warning**")
    assert is_quiet(echo)  # the moderation log's echo
    assert is_alert_for(await next_from(per, per_box, bot.user_id, "Please keep it kind", mark), per.user_id)

    mark, cmark = len(per.received), len(consultant.received)
    event_id = await per.send(forum, "Some nights I just want to die")
    assert is_alert_for(await next_from(per, per_box, bot.user_id, "113", mark), per.user_id)
    alert = await next_from(consultant, consultant_room, bot.user_id, event_id, cmark)
    assert is_alert_for(alert, consultant.user_id)

    cmark = len(consultant.received)
    post = await per.send(forum, "an ordinary post")
    await kari.wait_for(lambda r: r.event_id == post)
    await kari.send(forum, f"!report {HEADING}", {"m.relates_to": {"m.in_reply_to": {"event_id": post}}})
    report = await next_from(consultant, consultant_room, bot.user_id, "reported", cmark)
    assert is_alert_for(report, consultant.user_id)
    assert_as_typed(report, HEADING)
    thanks = await kari.wait_for(lambda r: r.room_id == kari_box and "Thank you" in r.body)
    assert is_quiet(thanks)

    mark = len(per.received)
    await ask_for(consultant, consultant_room, f"!mute {name} 2h", bot.user_id, "**mute**")
    assert is_alert_for(await next_from(per, per_box, bot.user_id, "", mark), per.user_id)


async def test_reminders_and_introductions_name_who_they_are_for(start_bot, consultant, make_user):
    from tests.integration.test_schedules_cafes import enrol, schedule_in

    handle = await start_bot(schedules={"cafe_room_reminders": ["25s"], "cafe_private_reminder": "15s"})
    ann, bob = await make_user("ann"), await make_user("bob")
    cafe_room, ann_box = await enrol(handle, consultant, ann, "Ann")
    _, bob_box = await enrol(handle, consultant, bob, "Bob")
    await schedule_in(handle, consultant, 45)
    announcement = await ann.wait_for(lambda r: r.room_id == cafe_room and "Café for North" in r.body)
    rsvp = await ann.ask(ann_box, "!rsvp yes", handle.user_id)
    assert is_quiet(rsvp)

    await ann.ask(ann_box, "!activity add in 1 hour water the plants", handle.user_id)
    with handle.app.db.session() as s:
        s.scalars(select(Activity).where(Activity.user_id == ann.user_id)).one().due_at = (
            datetime.now(timezone.utc) + timedelta(seconds=2))
    activity = await ann.wait_for(lambda r: r.room_id == ann_box and "water the plants" in r.body
                                  and "Reminder" in r.body, timeout=60)
    assert is_alert_for(activity, ann.user_id)

    known = set(ann.client.rooms)
    await ann.ask(ann_box, "!cafe buddy", handle.user_id)
    await bob.ask(bob_box, "!cafe buddy", handle.user_id)
    buddy_room = await ann.wait_invite(lambda room_id: room_id not in known)
    intro = await ann.wait_for(lambda r: r.room_id == buddy_room and "Hello" in r.body)
    assert is_alert_for(intro, ann.user_id, bob.user_id)

    room_reminder = await bob.wait_for(lambda r: r.room_id == cafe_room and "Reminder: café for North" in r.body,
                                       timeout=60)
    assert is_alert_for(room_reminder, ann.user_id)  # Ann said yes; Bob did not answer
    private = await ann.wait_for(lambda r: r.room_id == ann_box and "gentle reminder" in r.body, timeout=60)
    assert is_alert_for(private, ann.user_id)
    assert announcement.decrypted
