"""After the café (issue 14, item 5) on a real homeserver: people who said yes or maybe get "How was
it?" as a decrypted m.text in their toolbox room the morning after (the scheduler's sweep run at
that morning), with the bot's 👍 😐 👎 under it; a tap counts; the consultant's digest shows counts
only, under 3 as "fewer than 3"; ``!cafe followup av`` (Norwegian) stops the next one."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import select

from schedules.followup import ask_time
from schedules.jobs import SCHEDULER
from schedules.models import Cafe
from tests.integration.test_schedules_cafes import OSLO, consultant_room, enrol


async def joined(handle, consultant, person, pseudonym: str) -> str:
    """Enrolled, with the welcome and the house rules already in (commands are answered after them)."""
    _, toolbox = await enrol(handle, consultant, person, pseudonym)
    await person.wait_for(lambda r: r.room_id == toolbox and "House rules" in r.body, what="the house rules")
    return toolbox


async def ask(person, room_id: str, body: str, handle, wanted: str):
    """Send a command and wait for the bot's answer containing ``wanted`` (other notes may come between)."""
    mark = len(person.received)
    await person.send(room_id, body)
    return await person.wait_for(lambda r: r.room_id == room_id and r.sender == handle.user_id and wanted in r.body,
                                 30, mark, what=f"an answer with {wanted!r}")


async def sweep_at(handle, at: datetime) -> None:
    """The scheduler's own sweep, as if it ran at ``at`` (the morning after), then the outbox."""
    runtime = handle.app.runtime
    scheduler = runtime.slots.get(SCHEDULER)
    await asyncio.to_thread(scheduler._serially, lambda _now: scheduler._sweep(at))
    runtime.wake_outbox()


def ask_time_of(handle, place: str) -> datetime:
    with handle.app.db.session() as s:
        cafe = s.scalar(select(Cafe).where(Cafe.place == place))
        return ask_time(cafe, OSLO)


async def digest_until(handle, consultant, wanted: str, tries: int = 30) -> str:
    body = ""
    for _ in range(tries):
        body = (await consultant.ask(consultant_room(handle), "!digest", handle.user_id)).body
        if wanted in body:
            return body
        await asyncio.sleep(0.5)
    raise AssertionError(f"the digest never showed {wanted!r}: {body}")


def is_question(r, room_id: str, words: str) -> bool:
    return r.room_id == room_id and r.type == "m.room.message" and words in r.body


async def test_how_was_it_the_morning_after_counts_only_and_followup_off(start_bot, consultant, make_user):
    handle = await start_bot(schedules={"cafe_room_reminders": [], "cafe_private_reminder": "5s"})
    ann, bob, cleo = await make_user("ann"), await make_user("bob"), await make_user("cleo")
    ann_tb = await joined(handle, consultant, ann, "Ann")
    bob_tb = await joined(handle, consultant, bob, "Bob")
    cleo_tb = await joined(handle, consultant, cleo, "Cleo")
    await ask(cleo, cleo_tb, "!lang nb", handle, "bokmål")
    first = datetime.now(OSLO) + timedelta(seconds=50)
    second = datetime.now(OSLO) + timedelta(days=3)
    for at, place in ((first, "Library"), (second, "Town hall")):
        reply = await consultant.ask(consultant_room(handle), f"!cafe schedule North {at:%Y-%m-%d %H:%M:%S} {place}",
                                     handle.user_id)
        assert "Planned: café for North" in reply.body
    await ask(ann, ann_tb, "!rsvp yes 1", handle, "Library")
    await ask(bob, bob_tb, "!rsvp maybe 1", handle, "Library")
    await ask(cleo, cleo_tb, "!rsvp ja 1", handle, "Library")
    await ask(ann, ann_tb, "!rsvp yes 2", handle, "Town hall")
    await ask(cleo, cleo_tb, "!rsvp ja 2", handle, "Town hall")

    # The morning after the first café: one question each, decrypted, meant to reach them (m.text).
    await sweep_at(handle, ask_time_of(handle, "Library"))
    question = await ann.wait_for(lambda r: is_question(r, ann_tb, "How was the café yesterday"), timeout=60)
    assert question.decrypted and question.content["msgtype"] == "m.text" and "Library" in question.body
    bob_q = await bob.wait_for(lambda r: is_question(r, bob_tb, "How was the café yesterday"), timeout=60)
    cleo_q = await cleo.wait_for(lambda r: is_question(r, cleo_tb, "Hvordan var kafeen i går"), timeout=60)
    assert cleo_q.decrypted and cleo_q.content["msgtype"] == "m.text" and "!cafe followup av" in cleo_q.body
    # The bot puts 👍 😐 👎 under each question, so answering is a tap: the next sweep (a few
    # seconds later, here also in the morning after) sees it sent and reacts under it.
    def bot_reaction(r) -> bool:
        return (r.type == "m.reaction" and r.sender == handle.user_id
                and r.content.get("m.relates_to", {}).get("event_id") == question.event_id)

    for later in range(20, 80, 5):  # the question's event id is recorded once its sending returned
        await sweep_at(handle, ask_time_of(handle, "Library") + timedelta(seconds=later))
        await asyncio.sleep(5)
        if any(map(bot_reaction, ann.received)):
            break
    seeded = await ann.wait_for(bot_reaction, timeout=30, what="the bot's reactions under the question")
    await ann.until(lambda: len([r for r in ann.received if r.type == "m.reaction" and r.sender == handle.user_id
                                 and r.content["m.relates_to"]["event_id"] == question.event_id]) == 3, 30,
                    "all three reactions")
    assert seeded.room_id == ann_tb

    # Ann taps 👍: one answer is suppressed ("fewer than 3"), never shown as 1.
    await ann.react(ann_tb, question.event_id, "👍")
    await ann.wait_for(lambda r: r.room_id == ann_tb and "Thank you for telling me" in r.body, timeout=30)
    # The digest counts cafés that have taken place: wait (if need be) for the first to start.
    await asyncio.sleep(max(0.0, (first - datetime.now(OSLO)).total_seconds()) + 1)
    body = await digest_until(handle, consultant, "After recent cafés")
    assert "👍 fewer than 3" in body and "answered fewer than 3" in body and "👍 1" not in body
    # Bob taps 👍 and also replies in his own words; Cleo taps 👍: three answered, counts only.
    await bob.react(bob_tb, bob_q.event_id, "👍")
    await bob.send(bob_tb, "It was good to be there", {"m.relates_to": {"m.in_reply_to": {"event_id": bob_q.event_id}}})
    await bob.wait_for(lambda r: r.room_id == bob_tb and "Thank you for your words" in r.body, timeout=30)
    await cleo.react(cleo_tb, cleo_q.event_id, "👍")
    await cleo.wait_for(lambda r: r.room_id == cleo_tb and "Takk for at du sa fra" in r.body, timeout=30)
    body = await digest_until(handle, consultant, "👍 3")
    assert "👍 3 · 😐 fewer than 3 · 👎 fewer than 3 · answered 3" in body
    section = body.split("After recent cafés")[1].split("\n\n")[0]
    assert "good to be there" not in body and not any(name in section for name in ("Ann", "Bob", "Cleo"))

    # Cleo turns it off (in Norwegian): after the second café only Ann is asked.
    await ask(cleo, cleo_tb, "!cafe followup av", handle, "spør ikke lenger")
    await sweep_at(handle, ask_time_of(handle, "Town hall"))
    again = await ann.wait_for(lambda r: is_question(r, ann_tb, "Town hall"), timeout=60)
    assert again.decrypted
    await asyncio.sleep(3)
    assert [r.event_id for r in cleo.received if is_question(r, cleo_tb, "Hvordan var kafeen")] == [cleo_q.event_id]
    assert len([r for r in ann.received if is_question(r, ann_tb, "How was the café")]) == 2
