"""Cafés on a real homeserver, with short offsets: reminders arrive decrypted in the café room and
privately, a reaction counts as an RSVP, a reminder due while the bot is down arrives once (late),
a crash after sending never sends twice, and a buddy match makes an encrypted room for two."""

from __future__ import annotations

import asyncio
import json
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Iterator
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.models import OutboxMessage, RoomKind
from bot.roomdir import find_room, toolbox_room_of
from schedules.cafes import cafe_room_of
from schedules.delivery import txn_for
from schedules.models import ReminderLedger

OSLO = ZoneInfo("Europe/Oslo")


@contextmanager
def database(handle) -> Iterator[Session]:
    """A session on a (stopped) bot's own database."""
    db = Database(handle.settings.storage.resolved_database_url())
    try:
        with db.session() as s:
            yield s
    finally:
        db.dispose()


def consultant_room(handle) -> str:
    with handle.app.db.session() as s:
        return find_room(s, RoomKind.CONSULTANT).room_id


async def enrol(handle, consultant, person, pseudonym: str) -> tuple[str, str]:
    """Enrol ``person`` in North through the consultant; returns (café room, toolbox room) once joined."""
    room = consultant_room(handle)
    await consultant.until(lambda: room in consultant.client.rooms, 30, "the consultant room")
    reply = await consultant.ask(room, f"!enroll {person.user_id} {pseudonym} North", handle.user_id)
    assert pseudonym in reply.body
    with handle.app.db.session() as s:
        cafe, toolbox = cafe_room_of(s, "North").room_id, toolbox_room_of(s, person.user_id)
    await person.until(lambda: cafe in person.client.rooms and toolbox in person.client.rooms, 30, "joining")
    return cafe, toolbox


async def schedule_in(handle, consultant, seconds: int, place: str = "Library") -> None:
    at = datetime.now(OSLO) + timedelta(seconds=seconds)
    reply = await consultant.ask(consultant_room(handle), f"!cafe schedule North {at:%Y-%m-%d %H:%M:%S} {place}",
                                 handle.user_id)
    assert "Planned: café for North" in reply.body


async def test_reminders_in_the_room_and_privately_and_a_reaction_counts(start_bot, consultant, make_user):
    handle = await start_bot(schedules={"cafe_room_reminders": ["25s"], "cafe_private_reminder": "15s"})
    ann, bob = await make_user("ann"), await make_user("bob")
    cafe_room, ann_toolbox = await enrol(handle, consultant, ann, "Ann")
    _, bob_toolbox = await enrol(handle, consultant, bob, "Bob")
    await schedule_in(handle, consultant, 45)
    announcement = await ann.wait_for(lambda r: r.room_id == cafe_room and "Café for North" in r.body)
    assert announcement.decrypted
    await ann.react(cafe_room, announcement.event_id, "👍")
    for _ in range(20):
        listing = await consultant.ask(consultant_room(handle), "!cafe", handle.user_id)
        if "(👍 1 · 🤔 0 · 👎 0)" in listing.body:
            break
        await asyncio.sleep(0.5)
    assert "(👍 1 · 🤔 0 · 👎 0)" in listing.body
    room_reminder = await bob.wait_for(lambda r: r.room_id == cafe_room and "Reminder: café for North" in r.body,
                                       timeout=60)
    assert room_reminder.decrypted and "(late)" not in room_reminder.body
    private = await ann.wait_for(lambda r: r.room_id == ann_toolbox and "gentle reminder" in r.body, timeout=60)
    assert private.decrypted and "Library" in private.body and "(late)" not in private.body
    await asyncio.sleep(2)
    assert not any("gentle reminder" in r.body for r in bob.received)  # Bob did not answer
    assert [r.room_id for r in ann.received if "Reminder: café" in r.body] == [cafe_room]


async def test_due_while_stopped_arrives_once_marked_late(start_bot, consultant, make_user):
    handle = await start_bot(schedules={"cafe_room_reminders": ["40s"], "cafe_private_reminder": "5s"})
    cleo = await make_user("cleo")
    cafe_room, _ = await enrol(handle, consultant, cleo, "Cleo")
    await schedule_in(handle, consultant, 50)  # the room reminder is due in 10 s
    await cleo.wait_for(lambda r: r.room_id == cafe_room and "Café for North" in r.body)
    await handle.stop()
    await asyncio.sleep(14)
    await handle.start()
    late = await cleo.wait_for(lambda r: r.room_id == cafe_room and "Reminder: café" in r.body, timeout=60)
    assert late.decrypted and late.body.startswith("(late)")
    await handle.restart()
    await asyncio.sleep(5)
    assert len([r for r in cleo.received if "Reminder: café" in r.body]) == 1


async def test_a_crash_after_sending_does_not_send_again(start_bot, consultant, make_user):
    handle = await start_bot(schedules={"cafe_room_reminders": ["40s"], "cafe_private_reminder": "5s"})
    dina = await make_user("dina")
    cafe_room, _ = await enrol(handle, consultant, dina, "Dina")
    await schedule_in(handle, consultant, 48)
    reminder = await dina.wait_for(lambda r: r.room_id == cafe_room and "Reminder: café" in r.body, timeout=60)
    await handle.stop()
    # What a kill right after the send leaves behind: the ledger row, and the outbox row the
    # sender had not yet deleted. The outbox sends it again with the same transaction id.
    with database(handle) as s:
        (key,) = s.scalars(select(ReminderLedger.key).where(ReminderLedger.key.like("cafe-room:%")))
        s.add(OutboxMessage(txn_id=txn_for(key), room_id=cafe_room, content=json.dumps(reminder.content)))
    await handle.start()
    for _ in range(40):  # the outbox really sends it again (and then deletes the row)
        with database(handle) as s:
            resent = s.scalar(select(OutboxMessage).where(OutboxMessage.txn_id == txn_for(key))) is None
        if resent:
            break
        await asyncio.sleep(0.5)
    assert resent
    await asyncio.sleep(3)
    assert len([r for r in dina.received if "Reminder: café" in r.body]) == 1


async def test_buddy_match_makes_an_encrypted_room_for_exactly_the_two(start_bot, consultant, make_user):
    handle = await start_bot()
    eva, finn = await make_user("eva"), await make_user("finn")
    _, eva_toolbox = await enrol(handle, consultant, eva, "Eva")
    _, finn_toolbox = await enrol(handle, consultant, finn, "Finn")
    await schedule_in(handle, consultant, 3600, place="Town hall")
    waiting = await eva.ask(eva_toolbox, "!cafe buddy", handle.user_id)
    assert "I'll put you in touch" in waiting.body
    known = set(eva.client.rooms)
    matched = await finn.ask(finn_toolbox, "!cafe buddy", handle.user_id)
    assert "matched with Eva" in matched.body
    buddy_room = await eva.wait_invite(lambda room_id: room_id not in known)
    intro = await eva.wait_for(lambda r: r.room_id == buddy_room and "Hello" in r.body, timeout=30)
    assert intro.decrypted and "Eva" in intro.body and "Finn" in intro.body
    await eva.wait_joined(buddy_room, finn.user_id)
    room = eva.client.rooms[buddy_room]
    assert room.encrypted
    assert set(room.users) == {eva.user_id, finn.user_id, handle.user_id}
    told = await eva.wait_for(lambda r: r.room_id == eva_toolbox and "would also like company" in r.body)
    assert told.decrypted


async def test_the_announcement_poll_is_an_rsvp_and_closes_when_the_cafe_starts(start_bot, consultant, make_user):
    handle = await start_bot(schedules={"cafe_room_reminders": [], "cafe_private_reminder": "5s"})
    ann, bob = await make_user("ann"), await make_user("bob")
    cafe_room, ann_toolbox = await enrol(handle, consultant, ann, "Ann")
    await enrol(handle, consultant, bob, "Bob")
    await schedule_in(handle, consultant, 40)
    poll = await bob.wait_for(lambda r: r.room_id == cafe_room and r.type == "org.matrix.msc3381.poll.start")
    assert poll.decrypted and poll.sender == handle.user_id
    start = poll.content["org.matrix.msc3381.poll.start"]
    assert [a["id"] for a in start["answers"]] == ["yes", "maybe", "no"]
    assert [a["m.id"] for a in poll.content["m.poll"]["answers"]] == ["yes", "maybe", "no"]
    assert "Are you coming" in poll.content["body"]
    reference = {"rel_type": "m.reference", "event_id": poll.event_id}
    # Bob answers as Element does (unstable form), Ann in the stable form; both encrypted.
    await bob.send(cafe_room, "", {"m.relates_to": reference, "org.matrix.msc3381.poll.response": {"answers": ["yes"]}},
                   event_type="org.matrix.msc3381.poll.response")
    await ann.send(cafe_room, "", {"m.relates_to": reference, "m.selections": ["maybe"]}, event_type="m.poll.response")
    for _ in range(20):
        listing = await consultant.ask(consultant_room(handle), "!cafe", handle.user_id)
        if "(👍 1 · 🤔 1 · 👎 0)" in listing.body:
            break
        await asyncio.sleep(0.5)
    assert "(👍 1 · 🤔 1 · 👎 0)" in listing.body
    mine = await ann.ask(ann_toolbox, "!cafe", handle.user_id)
    assert "maybe" in mine.body.lower()
    ended = await bob.wait_for(lambda r: r.room_id == cafe_room and r.type == "org.matrix.msc3381.poll.end",
                               timeout=90)
    assert ended.decrypted and ended.content["m.relates_to"] == reference
