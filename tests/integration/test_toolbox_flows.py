"""The toolbox through real encrypted rooms: a participant's commands in their toolbox room,
pictures and files as encrypted attachments, a provider's !view, export and erasure."""

from __future__ import annotations

import io
import json
import uuid
from datetime import datetime, timedelta, timezone

from PIL import Image
from sqlalchemy import select

from bot.db import Base
from bot.models import RoomKind
from bot.roomdir import find_room, toolbox_room_of
from toolbox.models import Activity


def _room(bot, kind: RoomKind, **kw) -> str | None:
    with bot.app.db.session() as s:
        room = find_room(s, kind, **kw)
        return room.room_id if room else None


async def ask(user, room: str, body: str, bot, expect: str, timeout: float = 60):
    """Send ``body`` and wait for the bot's answer containing ``expect`` (other notices, such as
    the pseudonym hint, may arrive in between)."""
    mark = len(user.received)
    await user.send(room, body)
    return await user.wait_for(lambda r: r.room_id == room and r.sender == bot.user_id and expect in r.body,
                               timeout=timeout, after=mark, what=f"{expect!r} in answer to {body.split()[0]}")


async def _consultant_dm(bot, consultant) -> str:
    return await consultant.dm(bot.user_id)


async def enrolled(bot, consultant, make_user, name: str = "tia"):
    """A participant enrolled by the consultant, joined to their toolbox room."""
    person = await make_user(name)
    pseudonym = f"{name}{uuid.uuid4().hex[:4]}"
    staff_room = await _consultant_dm(bot, consultant)
    await ask(consultant, staff_room, f"!enroll {person.user_id} {pseudonym} North", bot, pseudonym)
    with bot.app.db.session() as s:
        toolbox = toolbox_room_of(s, person.user_id)
    assert toolbox is not None
    await person.until(lambda: toolbox in person.client.rooms, 30, "joining the toolbox room")
    await person.wait_joined(toolbox, bot.user_id)
    # The welcome comes first; commands are answered after it.
    await person.wait_for(lambda r: r.room_id == toolbox and r.sender == bot.user_id, what="the welcome")
    await person.wait_for(lambda r: r.room_id == toolbox and "House rules" in r.body, what="the house rules")
    return person, toolbox, pseudonym, staff_room


async def test_goals_activities_and_refusal_in_forum(bot, consultant, make_user):
    tia, toolbox, _, _ = await enrolled(bot, consultant, make_user)
    reply = await ask(tia, toolbox, "!goal add work: find a course", bot, "Goal 1 saved")
    assert reply.decrypted and "find a course" in reply.body
    reply = await ask(tia, toolbox, "!goals", bot, "Your goals")
    assert "1. *Work and education:* find a course" in reply.body
    reply = await ask(tia, toolbox, "!activity add tomorrow 10:00 walk in the park", bot, "Planned")
    assert "walk in the park" in reply.body and "10:00" in reply.body
    reply = await ask(tia, toolbox, "!activities", bot, "activity plan")
    assert "1. " in reply.body and "walk in the park" in reply.body
    forum = _room(bot, RoomKind.FORUM)
    await tia.until(lambda: forum in tia.client.rooms, 30, "joining the forum")
    mark = len(tia.received)
    await tia.send(forum, "!goal add my secret hope")
    reply = await tia.wait_for(lambda r: r.room_id == toolbox and "only works in" in r.body, after=mark,
                               what="the private refusal")
    assert "secret hope" not in reply.body
    assert [r for r in tia.undecryptable if r.room_id == toolbox] == []


async def test_mood_chart_and_network_map_arrive_as_encrypted_pngs(bot, consultant, make_user):
    uma, toolbox, _, _ = await enrolled(bot, consultant, make_user, "uma")
    for score in (4, 7):
        await ask(uma, toolbox, f"!mood {score} some words", bot, f"({score}/10)")
    await ask(uma, toolbox, "!network add Anna Berg friends", bot, "Anna Berg added")
    await ask(uma, toolbox, "!network add Mum family", bot, "Mum added")
    for command, filename, words in (("!moods", "mood.png", "Check-ins: 2;"), ("!network map", "network.png", "Family: Mum")):
        image = await ask(uma, toolbox, command, bot, words)
        assert image.content["msgtype"] == "m.image" and image.content["filename"] == filename
        assert "url" not in image.content and image.content["file"]["url"].startswith("mxc://")  # encrypted
        picture = Image.open(io.BytesIO(await uma.download(image.content)))
        assert picture.format == "PNG" and picture.width == image.content["info"]["w"]


async def test_crisis_plan_meds_exercise_info_links(bot, consultant, make_user):
    vic, toolbox, _, _ = await enrolled(bot, consultant, make_user, "vic")
    await ask(vic, toolbox, "!crisis add coping listen to music", bot, "Added to")
    plan = await ask(vic, toolbox, "!crisis", bot, "Your crisis plan")
    assert "1. listen to music" in plan.body and "116 123" in plan.body
    await ask(vic, toolbox, "!med add Sertraline 50 mg 08:00", bot, "every day at 08:00")
    await ask(vic, toolbox, "!meds", bot, "1. **Sertraline** — 50 mg")
    start = await ask(vic, toolbox, "!exercise 5-4-3-2-1", bot, "Step 1 of 6")
    assert "Five things you can see" in start.body
    await ask(vic, toolbox, "!next", bot, "Step 2 of 6")
    await ask(vic, toolbox, "!stop", bot, "Stopped")
    page = await ask(vic, toolbox, "!info recovery", bot, "Personal recovery")
    assert all(word in page.body for word in ("Connectedness", "Hope", "Identity", "Meaning", "Empowerment"))
    await ask(vic, toolbox, "!links", bot, "https://mentalhelse.no")


async def test_provider_view_refused_then_shared_and_logged(bot, consultant, make_user):
    wes, toolbox, pseudonym, staff_room = await enrolled(bot, consultant, make_user, "wes")
    doc = await make_user("doc")
    await ask(consultant, staff_room, f"!providers add {doc.user_id}", bot, doc.user_id)
    await ask(consultant, staff_room, f"!provider link {pseudonym} {doc.user_id}", bot, doc.user_id)
    provider_room = _room(bot, RoomKind.PROVIDER, owner=wes.user_id, partner=doc.user_id)
    assert provider_room is not None
    await doc.until(lambda: provider_room in doc.client.rooms, 30, "joining the provider room")
    await doc.wait_joined(provider_room, bot.user_id)
    await ask(wes, toolbox, "!goal add sleep before midnight", bot, "Goal 1 saved")

    refused = await ask(doc, provider_room, "!view goals", bot, "not shared with you")
    assert "midnight" not in refused.body
    await ask(wes, toolbox, f"!share goals with {doc.user_id}", bot, "can now see your goals")
    shown = await ask(doc, provider_room, "!view goals", bot, "Shared goals")
    assert shown.decrypted and "sleep before midnight" in shown.body
    log = await ask(wes, toolbox, "!shared", bot, "What you share")
    assert doc.user_id in log.body and "looked at your goals" in log.body
    assert "asked for your goals; it was not shared" in log.body


async def test_export_then_forget_me_leaves_no_row(bot, consultant, make_user):
    xan, toolbox, _, _ = await enrolled(bot, consultant, make_user, "xan")
    await ask(xan, toolbox, "!goal add learn to bake bread", bot, "Goal 1 saved")
    mark = len(xan.received)
    await xan.send(toolbox, "!export")
    file = await xan.wait_for(lambda r: r.room_id == toolbox and r.content.get("msgtype") == "m.file", after=mark)
    assert file.content["info"]["mimetype"] == "application/json" and "url" not in file.content
    data = json.loads(await xan.download(file.content))
    assert data["toolbox"]["goals"][0]["text"] == "learn to bake bread"

    confirm = await ask(xan, toolbox, "!forget-me", bot, "To go ahead")
    code = confirm.body.split("`!forget-me ")[1].split("`")[0]
    await ask(xan, toolbox, f"!forget-me {code}", bot, "has been erased")
    left_behind = []
    with bot.app.db.session() as s:
        for table in Base.metadata.sorted_tables:
            if table.name in ("outbox_message", "handled_event"):
                continue  # messages in flight and event ids, no person in them
            for row in s.execute(select(table)):
                if any(xan.user_id in str(value) for value in row):
                    left_behind.append(table.name)
    assert left_behind == [], left_behind


async def test_diary_and_activity_reminder_arrive_in_the_toolbox_room(bot, consultant, make_user):
    yan, toolbox, _, _ = await enrolled(bot, consultant, make_user, "yan")
    await ask(yan, toolbox, "!diary a calm evening with tea", bot, "Only you can read it")
    entries = await ask(yan, toolbox, "!diary", bot, "latest diary entries")
    assert "a calm evening with tea" in entries.body
    await ask(yan, toolbox, "!activity add in 1 hour water the plants", bot, "Planned: water the plants")
    # Bring the time forward rather than wait an hour; the scheduler reads the plan from the table.
    with bot.app.db.session() as s:
        activity = s.scalars(select(Activity).where(Activity.user_id == yan.user_id)).one()
        activity.due_at = datetime.now(timezone.utc) + timedelta(seconds=2)
    reminder = await yan.wait_for(lambda r: r.room_id == toolbox and "Reminder: water the plants" in r.body,
                                  timeout=60, what="the activity reminder")
    assert reminder.decrypted and reminder.sender == bot.user_id
