"""Keys survive: in the forum (a room with several members and the bot), after a restart of the
bot, a member leaving and a new one joining, everyone — the bot included — reads every message
sent while they were members: 0 undecryptable on either side.

(Messages sent before someone joined stay unreadable to them: Megolm does not share old keys.
Those are set aside when the member has joined.)"""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bench.scenario import enrol, staff_room
from bot.db import Database
from bot.models import ManagedRoom, RoomKind, UndecryptableNotice
from tests.integration.matrix_user import MatrixUser


def forum_of(handle) -> str:
    db = Database(handle.settings.storage.resolved_database_url())
    try:
        with db.session() as s:
            return s.scalar(select(ManagedRoom.room_id).where(ManagedRoom.kind == RoomKind.FORUM.value))
    finally:
        db.dispose()


def bot_undecryptable(handle) -> int:
    db = Database(handle.settings.storage.resolved_database_url())
    try:
        with db.session() as s:
            return s.scalar(select(func.count()).select_from(UndecryptableNotice)) or 0
    finally:
        db.dispose()


async def join_forum(person: MatrixUser, forum: str) -> set[str]:
    """Wait until the member is in the forum; the undecryptable events from before they joined."""
    await person.until(lambda: forum in person.client.rooms
                       and person.user_id in person.client.rooms[forum].users, 60, "joining the forum")
    await asyncio.sleep(2)  # the join sync (with the room's history) has arrived
    return {u.event_id for u in person.undecryptable}


async def everyone_reads(members: list[MatrixUser], forum: str, sender: MatrixUser, text: str) -> None:
    await sender.send(forum, text)
    for m in members:
        if m is not sender:
            got = await m.wait_for(lambda r: r.room_id == forum and r.body == text, timeout=60,
                                   what=f"{text!r} from {sender.user_id}")
            assert got.decrypted


async def test_keys_survive_restart_leave_and_join(start_bot, consultant, make_user):
    handle = await start_bot()
    bot_id = handle.user_id
    room = await staff_room(consultant, bot_id)
    forum = forum_of(handle)
    people = {}
    before: dict[str, set[str]] = {}
    for name in ("Ash", "Beech", "Cherry"):
        person = await make_user(name.lower())
        await enrol(consultant, room, person, bot_id, name)
        before[person.user_id] = await join_forum(person, forum)
        people[name] = person
    members = list(people.values())
    for p in members:
        await everyone_reads(members, forum, p, f"hello from {p.user_id} before the restart")

    await handle.restart()
    for p in members:
        await everyone_reads(members, forum, p, f"hello from {p.user_id} after the restart")

    # Rotation: Cherry leaves, Dogwood joins and speaks first.
    await people["Cherry"].client.room_leave(forum)
    await people["Ash"].until(lambda: people["Cherry"].user_id not in people["Ash"].client.rooms[forum].users,
                              60, "Cherry to leave")
    dogwood = await make_user("dogwood")
    await enrol(consultant, room, dogwood, bot_id, "Dogwood")
    before[dogwood.user_id] = await join_forum(dogwood, forum)
    members = [people["Ash"], people["Beech"], dogwood]
    await everyone_reads(members, forum, dogwood, "my first message here")
    for p in members:
        await everyone_reads(members, forum, p, f"after the rotation, {p.user_id}")

    # The bot speaks after the rotation: every member reads it.
    # Something the bot answers in the room itself (personal commands are answered privately now).
    reply = await people["Ash"].ask(forum, "!hello-everyone", bot_id, timeout=60)
    for p in members[1:]:
        assert (await p.wait_for(lambda r: r.event_id == reply.event_id, timeout=60)).decrypted
    await asyncio.sleep(2)
    assert bot_undecryptable(handle) == 0  # anything the bot could not read leaves a notice row
    for p in members:
        late = [u for u in p.undecryptable if u.room_id == forum and u.event_id not in before[p.user_id]]
        assert late == [], f"{p.user_id} could not read {len(late)} messages"
