"""What a hostile participant can claim over Matrix, with real encrypted clients against a real
Synapse: a forged edit (``m.replace`` of someone else's post), megolm plaintexts that claim to be
state or redactions (the homeserver never checked them), and reply fallbacks that quote someone
else's words. None of it may move the bot."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from nio import GroupEncryptionError
from sqlalchemy import select

from bot.models import RoomKind
from schedules.models import Rsvp
from tests.integration.matrix_user import MatrixUser
from tests.integration.test_rooms_flows import enrolled, is_redacted, joined, poll, room_of
from tests.integration.test_schedules_cafes import consultant_room, enrol, schedule_in


async def send_forged(user: MatrixUser, room_id: str, plaintext: dict[str, Any]) -> str:
    """Encrypt ``plaintext`` exactly as given (any type, state_key, redacts) with the user's own
    megolm session for the room, as a modified client could, and send it."""
    for _ in range(3):
        await user.send(room_id, "hi all")  # an outbound session, shared with everyone in the room
        try:
            content = user.client.olm.group_encrypt(room_id, dict(plaintext))
        except GroupEncryptionError:
            continue  # the sender's own nio applied an earlier fake and dropped its session
        return await user.put_event(room_id, "m.room.encrypted", content)
    raise AssertionError("could not encrypt the forged event")


async def settled(user: MatrixUser, toolbox: str, bot_id: str) -> None:
    """Everything the user sent before has been through the bot: it answers a later command."""
    await user.ask(toolbox, "!help", bot_id)


def fallback(quoted_sender: str, quoted: str, text: str, event_id: str) -> dict[str, Any]:
    """A rich reply as many clients send it: the answered message quoted in front."""
    return {"msgtype": "m.text",
            "body": f"> <{quoted_sender}> {quoted}\n\n{text}",
            "format": "org.matrix.custom.html",
            "formatted_body": f"<mx-reply><blockquote>{quoted}</blockquote></mx-reply>{text}",
            "m.relates_to": {"m.in_reply_to": {"event_id": event_id}}}


async def test_a_forged_edit_and_redact_mine_never_remove_another_persons_post(bot, consultant, make_user):
    kari, _, _ = await enrolled(bot, consultant, make_user, "Kite")
    mallory, _, mallory_toolbox = await enrolled(bot, consultant, make_user, "Moth")
    forum = room_of(bot, RoomKind.FORUM)
    post = await kari.send(forum, "A good walk by the river today")
    mark = len(mallory.received)
    # Mallory "edits" Kari's post with a phone number, then asks the bot to remove "her" message.
    await mallory.send(forum, "* ring 912 34 567", {
        "m.new_content": {"msgtype": "m.text", "body": "ring 912 34 567"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": post}})
    await mallory.send(mallory_toolbox, "!redact-mine")
    answer = await mallory.wait_for(lambda r: r.room_id == mallory_toolbox and r.sender == bot.user_id
                                    and ("no flagged message" in r.body or "has been removed" in r.body), after=mark)
    assert "no flagged message" in answer.body
    assert not await is_redacted(kari, forum, post)
    assert not [r for r in mallory.received[mark:] if r.room_id == mallory_toolbox and "phone number" in r.body]


async def test_encrypted_fake_membership_changes_no_key_sharing(bot, consultant, make_user):
    kari, _, kari_toolbox = await enrolled(bot, consultant, make_user, "Gull")
    ola, _, _ = await enrolled(bot, consultant, make_user, "Tern")
    mallory = await make_user("mallory")  # never invited to the forum
    forum = room_of(bot, RoomKind.FORUM)
    await send_forged(kari, forum, {"type": "m.room.member", "state_key": ola.user_id,
                                    "content": {"membership": "leave"}})
    await send_forged(kari, forum, {"type": "m.room.member", "state_key": mallory.user_id,
                                    "content": {"membership": "join", "displayname": "Mallory"}})
    await settled(kari, kari_toolbox, bot.user_id)
    room = bot.app.client.rooms[forum]
    assert ola.user_id in room.users and mallory.user_id not in room.users
    # The bot's next forum message: Ola (a fake "leave") reads it, Mallory (a fake "join") gets no key.
    token = uuid.uuid4().hex[:8]
    consultants = await joined(bot, consultant, room_of(bot, RoomKind.CONSULTANT))
    await consultant.ask(consultants, f"!topic What helps on grey days? {token}", bot.user_id)
    seen = await ola.wait_for(lambda r: r.room_id == forum and token in r.body, timeout=30)
    assert seen.decrypted
    await asyncio.sleep(3)  # a room key sent to her would have arrived by now (it goes before the message)
    assert not [s for s in mallory.client.olm.inbound_group_store if s.room_id == forum]


async def test_an_encrypted_fake_redaction_keeps_another_persons_rsvp(start_bot, consultant, make_user):
    handle = await start_bot()
    ann, bob = await make_user("ann"), await make_user("bob")
    cafe_room, _ = await enrol(handle, consultant, ann, "Ann")
    _, bob_toolbox = await enrol(handle, consultant, bob, "Bob")
    await schedule_in(handle, consultant, 3600)
    announcement = await ann.wait_for(lambda r: r.room_id == cafe_room and "Café for North" in r.body)
    reaction = await ann.react(cafe_room, announcement.event_id, "👍")

    def answers() -> list[str]:
        with handle.app.db.session() as s:
            return list(s.scalars(select(Rsvp.answer).where(Rsvp.user_id == ann.user_id)))

    async def counted() -> bool:
        return answers() == ["yes"]

    await poll(counted, "Ann's RSVP")
    await bob.until(lambda: cafe_room in bob.client.rooms, 30, "the café room")
    await send_forged(bob, cafe_room, {"type": "m.room.redaction", "redacts": reaction,
                                       "content": {"redacts": reaction}})
    await settled(bob, bob_toolbox, handle.user_id)
    assert answers() == ["yes"]
    assert consultant_room(handle)  # the bot is still serving


async def test_reply_fallbacks_are_not_the_repliers_words(bot, consultant, make_user):
    kari, _, _ = await enrolled(bot, consultant, make_user, "Wagtail")
    ola, _, ola_toolbox = await enrolled(bot, consultant, make_user, "Plover")
    forum = room_of(bot, RoomKind.FORUM)
    consultants = await joined(bot, consultant, room_of(bot, RoomKind.CONSULTANT))
    crisis = "Some nights I just want to die"
    crisis_post = await kari.send(forum, crisis)
    mark = len(ola.received)
    # A kind answer quoting the crisis post is no crisis message of Ola's.
    await ola.send(forum, "", fallback(kari.user_id, crisis, "I'm here for you, sending a hug", crisis_post))
    await settled(ola, ola_toolbox, bot.user_id)
    assert not [r for r in ola.received[mark:] if r.room_id == ola_toolbox and "113" in r.body]
    # A !report sent as a reply with a fallback is a report.
    rude = await kari.send(forum, "Everyone here is pathetic")
    cmark = len(consultant.received)
    await ola.send(forum, "", fallback(kari.user_id, "Everyone here is pathetic", "!report unkind", rude))
    alert = await consultant.wait_for(lambda r: r.room_id == consultants and rude in r.body, after=cmark)
    assert "unkind" in alert.body
    thanks = await ola.wait_for(lambda r: r.room_id == ola_toolbox and "Thank you for your report" in r.body,
                                after=mark)
    assert thanks.decrypted


async def test_an_unreadable_message_in_the_forum_is_answered_only_privately(bot, consultant, make_user):
    ivo, _, toolbox = await enrolled(bot, consultant, make_user, "Ibis")
    forum = room_of(bot, RoomKind.FORUM)
    mark = len(ivo.received)
    for session_id in ("lostsessionCCCC", "lostsessionDDDD"):
        await ivo.put_event(forum, "m.room.encrypted", {
            "algorithm": "m.megolm.v1.aes-sha2", "sender_key": ivo.client.olm.account.identity_keys["curve25519"],
            "ciphertext": "AwgAEnB" + "A" * 40, "session_id": session_id, "device_id": ivo.client.device_id})
    await ivo.wait_for(lambda r: r.room_id == toolbox and "couldn't read a message you just sent" in r.body,
                       after=mark)
    await settled(ivo, toolbox, bot.user_id)
    assert len([r for r in ivo.received[mark:] if "couldn't read" in r.body]) == 1
    assert not [r for r in ivo.received[mark:] if r.room_id == forum and r.sender == bot.user_id]
