"""Personal data through real encrypted rooms: after !forget-me no table holds the person or their
private rooms, the provider is told, and the bot has left every private room; after !leave the
toolbox, !export and !forget-me still work (issue 11 findings 9, 10; issue 12 items 4 and 11)."""

from __future__ import annotations

import json
import secrets

from nio import DownloadError
from sqlalchemy import select

from bot.db import Base
from bot.models import OutboxMessage, RoomKind
from tests.integration.conftest import unique
from tests.integration.test_rooms_flows import joined, room_of
from tests.integration.test_toolbox_flows import _room, ask, enrolled


def rows_naming(bot, needles: list[str]) -> list[str]:
    """Every row of every table, sealed columns read back in clear, that holds one of ``needles``."""
    found = []
    with bot.app.db.session() as s:
        for table in Base.metadata.sorted_tables:
            for row in s.execute(select(table)):
                text = json.dumps([str(v) for v in row], ensure_ascii=False)
                found += [f"{table.name}: {needle}" for needle in needles if needle in text]
    return found


def megolm_rooms(bot) -> set[str]:
    """Rooms the bot holds inbound megolm sessions for: in memory, and in its crypto store."""
    client = bot.app.client
    stored = client.store.load_inbound_group_sessions()
    return {s.room_id for s in stored} | {s.room_id for s in client.olm.inbound_group_store}


def outbox_empty(bot) -> bool:
    with bot.app.db.session() as s:
        return s.scalar(select(OutboxMessage.id).limit(1)) is None


async def test_forget_me_leaves_no_row_and_the_bot_leaves_every_private_room(bot, consultant, make_user):
    zed, toolbox, pseudonym, staff_room = await enrolled(bot, consultant, make_user, "zed")
    doc = await make_user("doc")
    await ask(consultant, staff_room, f"!providers add {doc.user_id}", bot, doc.user_id)
    await ask(consultant, staff_room, f"!provider link {pseudonym} {doc.user_id}", bot, doc.user_id)
    provider_room = _room(bot, RoomKind.PROVIDER, owner=zed.user_id, partner=doc.user_id)
    assert provider_room is not None
    await doc.until(lambda: provider_room in doc.client.rooms, 30, "joining the provider room")
    await doc.wait_joined(provider_room, bot.user_id)
    direct = await zed.dm(bot.user_id)  # the direct chat where a newcomer says !start
    await ask(zed, direct, "!whoami", bot, "Pseudonym")
    await ask(zed, toolbox, "!goal add plant tomatoes", bot, "Goal 1 saved")
    await ask(zed, toolbox, f"!share goals with {doc.user_id}", bot, "can now see your goals")
    await ask(doc, provider_room, "!view goals", bot, "plant tomatoes")

    assert megolm_rooms(bot) >= {toolbox, direct, provider_room}  # the bot can read those rooms' history
    confirm = await ask(zed, toolbox, "!forget-me", bot, "To go ahead")
    code = confirm.body.split("`!forget-me ")[1].split("`")[0]
    await ask(zed, toolbox, f"!forget-me {code}", bot, "has been erased")
    note = await doc.wait_for(lambda r: r.room_id == provider_room and "erase their data" in r.body,
                              what="the provider's note")
    assert note.sender == bot.user_id and note.decrypted and "tomatoes" not in note.body
    for room_id, person in ((toolbox, zed), (direct, zed), (provider_room, doc)):
        await person.until(lambda r=room_id, p=person: bot.user_id not in p.client.rooms[r].users, 60,
                           f"the bot to leave {room_id}")
    await zed.until(lambda: outbox_empty(bot), 30, "the outbox to empty")
    assert rows_naming(bot, [zed.user_id, toolbox, provider_room, direct]) == []
    # The homeserver shows the bot none of those rooms any more (left and forgotten), and the bot
    # keeps no key to their history, in memory or in its crypto store.
    assert not {toolbox, provider_room, direct} & set(bot.app.client.rooms)
    assert not {toolbox, provider_room, direct} & megolm_rooms(bot)


async def test_after_leave_the_toolbox_export_and_forget_me_still_work(bot, consultant, make_user):
    una, toolbox, pseudonym, staff_room = await enrolled(bot, consultant, make_user, "una")
    await ask(una, toolbox, "!med add Lithium 400mg 08:00", bot, "Lithium added")
    await ask(una, toolbox, "!leave", bot, "left the community rooms")
    await ask(una, toolbox, "!med remind 1 off", bot, "No more reminders for Lithium")
    await ask(una, toolbox, "!goal add walk the dog", bot, "Goal 1 saved")
    mark = len(una.received)
    await una.send(toolbox, "!export")
    file = await una.wait_for(lambda r: r.room_id == toolbox and r.content.get("msgtype") == "m.file", after=mark)
    data = json.loads(await una.download(file.content))
    assert data["enrolment"]["status"] == "left" and data["toolbox"]["goals"][0]["text"] == "walk the dog"
    # Coming back: pending again, and the consultants hear of it.
    consultant_room = await joined(bot, consultant, room_of(bot, RoomKind.CONSULTANT))
    mark = len(consultant.received)
    await ask(una, toolbox, "!start", bot, "told the peer consultant")
    await consultant.wait_for(lambda r: r.room_id == consultant_room and "would like to come back" in r.body
                              and pseudonym in r.body, after=mark, what="the consultant room told of the return")
    await ask(consultant, staff_room, "!pending", bot, pseudonym)
    confirm = await ask(una, toolbox, "!forget-me", bot, "To go ahead")
    code = confirm.body.split("`!forget-me ")[1].split("`")[0]
    await ask(una, toolbox, f"!forget-me {code}", bot, "has been erased")


async def test_forget_me_deletes_the_files_uploaded_for_the_person_where_the_homeserver_allows(
        synapse, start_bot, consultant, make_user):
    # Deleting media needs a homeserver admin on Synapse: a bot whose account is one.
    password = secrets.token_urlsafe(12)
    admin_bot = await start_bot(bot={"user_id": synapse.register(unique("adminbot"), password, admin=True),
                                     "password": password})
    ivy, toolbox, _, _ = await enrolled(admin_bot, consultant, make_user, "ivy")
    mark = len(ivy.received)
    await ivy.send(toolbox, "!export")
    file = await ivy.wait_for(lambda r: r.room_id == toolbox and r.content.get("msgtype") == "m.file", after=mark)
    assert json.loads(await ivy.download(file.content))["enrolment"]["status"] == "active"
    confirm = await ask(ivy, toolbox, "!forget-me", admin_bot, "To go ahead")
    code = confirm.body.split("`!forget-me ")[1].split("`")[0]
    await ask(ivy, toolbox, f"!forget-me {code}", admin_bot, "has been erased")
    server, media_id = file.content["file"]["url"].removeprefix("mxc://").split("/", 1)
    gone = await ivy.client.download(server_name=server, media_id=media_id)
    assert isinstance(gone, DownloadError), gone
