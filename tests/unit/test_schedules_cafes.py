"""Cafés through the real router: scheduling, listing, RSVP by command and by reaction,
cancelling, buddies and rides, breaks."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.db import utcnow
from bot.models import ManagedRoom, RoomKind, SentEvent, UserPref
from schedules.commands import rsvp as rsvp_commands
from schedules.models import Cafe, Rsvp
from tests.support.core import make_context
from tests.support.schedules import (
    CAFE_NORTH,
    CAFE_SOUTH,
    CONSULTANT,
    CONSULTANT_ROOM,
    FORUM,
    bodies,
    build_community,
    run,
    toolbox_of,
    user,
)

DAY = (utcnow() + timedelta(days=10)).date()
WHEN = f"{DAY.isoformat()} 18:00"


@pytest.fixture
def community(db):
    with db.session() as s:
        build_community(s)
    return db


async def schedule_one(db, services, text=f"North {WHEN} Library, 2nd floor — small steps"):
    return await run(db, services, CONSULTANT, CONSULTANT_ROOM, f"!cafe schedule {text}")


def the_cafe(db) -> Cafe:
    with db.session() as s:
        return s.scalars(select(Cafe).order_by(Cafe.id)).first()


async def test_consultant_schedules_and_the_cafe_room_gets_the_announcement(community, services):
    sent = await schedule_one(community, services)
    announcement, poll = bodies(sent, CAFE_NORTH)
    assert poll.startswith("Are you coming to the café for North") and "1. Yes, I'm coming" in poll
    assert "Café for North" in announcement and "Library, 2nd floor — small steps" in announcement
    assert "18:00" in announcement and "👍 yes" in announcement
    (reply,) = bodies(sent, CONSULTANT_ROOM)
    assert "Planned: café for North" in reply and "at 18:00" in reply
    cafe = the_cafe(community)
    assert cafe.starts_at.utcoffset() == timedelta(0) and cafe.place == "Library, 2nd floor"
    assert cafe.topic == "small steps" and cafe.announce_txn.startswith("cafe-announce-")


async def test_a_participant_may_not_schedule(community, services):
    sent = await run(community, services, user("ann"), toolbox_of("ann"), f"!cafe schedule North {WHEN} Library")
    assert "not available to you" in bodies(sent)[0]
    assert the_cafe(community) is None


@pytest.mark.parametrize("text, expected", [
    (f"Atlantis {WHEN} Library", "The communities are: North, South"),
    ("North someday Library", "I couldn't read when that is"),
    ("North 2020-01-01 18:00 Library", "already passed"),
    (f"North {WHEN}", "Please add where the café takes place"),
])
async def test_bad_schedules_get_a_clear_answer_and_save_nothing(community, services, text, expected):
    sent = await schedule_one(community, services, text)
    assert expected in bodies(sent)[0]
    assert the_cafe(community) is None


async def test_an_overlapping_cafe_is_warned_about_and_planned_only_when_insisted(community, services):
    await schedule_one(community, services)
    later = f"{DAY.isoformat()} 19:00"
    sent = await schedule_one(community, services, f"North {later} Town hall")
    (warning,) = bodies(sent, CONSULTANT_ROOM)
    assert "North already has a café then" in warning and "Library, 2nd floor" in warning
    assert f"!cafe schedule North {later} Town hall anyway" in warning
    assert bodies(sent, CAFE_NORTH) == []
    with community.session() as s:
        assert len(s.scalars(select(Cafe)).all()) == 1
    # Another community, or three hours apart, is no overlap.
    assert "Planned" in bodies(await schedule_one(community, services, f"South {later} Town hall"), CONSULTANT_ROOM)[0]
    assert "Planned" in bodies(await schedule_one(community, services, f"North {DAY.isoformat()} 21:00 Pub"),
                               CONSULTANT_ROOM)[0]
    sent = await schedule_one(community, services, f"North {later} Town hall anyway")
    assert "Planned: café for North" in bodies(sent, CONSULTANT_ROOM)[0]
    with community.session() as s:
        assert s.scalars(select(Cafe).where(Cafe.place == "Town hall", Cafe.community == "North")).one()


async def test_recurring_cafe_announces_its_first_meeting(community, services):
    sent = await schedule_one(community, services, "North every first thursday 18:00 Library")
    assert "recurring café for North" in bodies(sent, CONSULTANT_ROOM)[0]
    cafe = the_cafe(community)
    local = cafe.starts_at.astimezone(ZoneInfo("Europe/Oslo"))
    assert cafe.series_id is not None and local.strftime("%a %H:%M") == "Thu 18:00" and local.day <= 7


async def test_listing_is_numbered_and_shows_your_answer_or_counts(community, services):
    await schedule_one(community, services)
    later = (DAY + timedelta(days=7)).isoformat()
    await schedule_one(community, services, f"North {later} 17:30 Town hall")
    await schedule_one(community, services, f"South {later} 17:30 Somewhere south")
    await run(community, services, user("ann"), toolbox_of("ann"), "!rsvp maybe 2")
    (listing,) = bodies(await run(community, services, user("ann"), toolbox_of("ann"), "!cafe"))
    lines = [ln for ln in listing.splitlines() if ln[:2] in ("1.", "2.", "3.")]
    assert len(lines) == 2 and "South" not in listing  # only her own community
    assert lines[0].startswith("1. **North**") and "Library" in lines[0]
    assert "Town hall" in lines[1] and "you said: maybe" in lines[1]
    (staff,) = bodies(await run(community, services, CONSULTANT, CONSULTANT_ROOM, "!cafe"))
    assert "South" in staff and "(👍 0 · 🤔 1 · 👎 0)" in staff


async def test_rsvp_by_command_changes_the_answer(community, services):
    await schedule_one(community, services)
    (yes,) = bodies(await run(community, services, user("ann"), CAFE_NORTH, "!rsvp yes"))
    assert "you're coming" in yes
    await run(community, services, user("ann"), CAFE_NORTH, "!rsvp no")
    with community.session() as s:
        assert [r.answer for r in s.scalars(select(Rsvp))] == ["no"]
    (bad,) = bodies(await run(community, services, user("ann"), CAFE_NORTH, "!rsvp yes 5"))
    assert "no café number 5" in bad


async def react(db, services, sender, event_id, key, target="$announce"):
    with db.session() as s:
        ctx = make_context(s, services, sender=sender, room_id=CAFE_NORTH, event_id=event_id,
                           event_type="m.reaction",
                           content={"m.relates_to": {"rel_type": "m.annotation", "event_id": target, "key": key}})
        await rsvp_commands.rsvp_by_reaction(ctx)


async def redact(db, services, sender, reaction_id):
    with db.session() as s:
        ctx = make_context(s, services, sender=sender, room_id=CAFE_NORTH, event_id=f"$redact{reaction_id}",
                           event_type="m.room.redaction", content={})
        ctx.event.redacts = reaction_id
        await rsvp_commands.rsvp_reaction_removed(ctx)


def answers(db) -> dict[str, str]:
    with db.session() as s:
        return {r.user_id: r.answer for r in s.scalars(select(Rsvp))}


async def poll_answer(db, services, sender, event_id, answer, *, stable=False, room=CAFE_NORTH, target="$poll"):
    from schedules import polls
    relates = {"rel_type": "m.reference", "event_id": target}
    if stable:
        event_type, content = "m.poll.response", {"m.relates_to": relates, "m.selections": [answer]}
    else:
        event_type = "org.matrix.msc3381.poll.response"
        content = {"m.relates_to": relates, "org.matrix.msc3381.poll.response": {"answers": [answer]}}
    with db.session() as s:
        ctx = make_context(s, services, sender=sender, room_id=room, event_id=event_id, event_type=event_type,
                           content=content)
        observers = [o for f in services.features for o in f.event_observers.get(event_type, [])]
        assert observers == [rsvp_commands.rsvp_by_poll]  # registered for both forms
        for observer in observers:
            await observer(ctx)
    assert event_type in polls.RESPONSE_TYPES


async def test_the_announcement_poll_counts_like_reactions_and_rsvp_and_the_latest_answer_wins(community, services):
    from schedules import polls
    sent = await schedule_one(community, services)
    (poll,) = [c for r, c in sent if r == CAFE_NORTH and polls.START_TYPE in c]
    unstable = poll[polls.START_TYPE]
    assert [a["id"] for a in unstable["answers"]] == ["yes", "maybe", "no"] and unstable["max_selections"] == 1
    assert [a["m.id"] for a in poll["m.poll"]["answers"]] == ["yes", "maybe", "no"]
    assert poll["body"].startswith("Are you coming") and poll["org.matrix.msc1767.text"] == poll["body"]
    cafe = the_cafe(community)
    with community.session() as s:
        s.add(SentEvent(txn_id=cafe.announce_txn, event_id="$announce", room_id=CAFE_NORTH))
        s.add(SentEvent(txn_id=polls.poll_txn(cafe), event_id="$poll", room_id=CAFE_NORTH))
    await poll_answer(community, services, user("ann"), "$p1", "yes")
    await poll_answer(community, services, user("bob"), "$p2", "maybe", stable=True)
    await poll_answer(community, services, user("cat"), "$p3", "yes", room=CAFE_SOUTH)  # not the poll's room
    await poll_answer(community, services, user("cat"), "$p4", "perhaps")  # not an answer
    assert answers(community) == {user("ann"): "yes", user("bob"): "maybe"}
    await run(community, services, user("ann"), CAFE_NORTH, "!rsvp no")
    assert answers(community)[user("ann")] == "no"
    await react(community, services, user("ann"), "$r1", "🤔")
    assert answers(community)[user("ann")] == "maybe"
    await poll_answer(community, services, user("ann"), "$p5", "yes", stable=True)
    assert answers(community)[user("ann")] == "yes"  # the latest answer wins, whichever way it came


async def test_reactions_on_the_announcement_are_answers(community, services):
    await schedule_one(community, services)
    with community.session() as s:
        s.add(SentEvent(txn_id=the_cafe(community).announce_txn, event_id="$announce", room_id=CAFE_NORTH))
    await react(community, services, user("ann"), "$r1", "👍")
    await react(community, services, user("bob"), "$r2", "🤔")
    await react(community, services, user("cat"), "$r3", "👍🏽")  # a skin tone is still a yes
    await react(community, services, user("cat"), "$r4", "❤️")  # not an answer
    await react(community, services, user("cat"), "$r5", "👎", target="$something-else")
    assert answers(community) == {user("ann"): "yes", user("bob"): "maybe", user("cat"): "yes"}
    # Changing: a new reaction, then the old one removed.
    await react(community, services, user("ann"), "$r6", "👎")
    await redact(community, services, user("ann"), "$r1")
    assert answers(community)[user("ann")] == "no"
    # Removing the current reaction falls back to one still standing, then to no answer.
    await react(community, services, user("bob"), "$r7", "👍")
    await redact(community, services, user("bob"), "$r7")
    assert answers(community)[user("bob")] == "maybe"
    await redact(community, services, user("bob"), "$r2")
    assert user("bob") not in answers(community)
    (staff,) = bodies(await run(community, services, CONSULTANT, CONSULTANT_ROOM, "!cafe"))
    assert "(👍 1 · 🤔 0 · 👎 1)" in staff


async def test_only_the_reacter_in_the_cafe_room_removes_an_rsvp_reaction(community, services):
    await schedule_one(community, services)
    with community.session() as s:
        s.add(SentEvent(txn_id=the_cafe(community).announce_txn, event_id="$announce", room_id=CAFE_NORTH))
    await react(community, services, user("ann"), "$r1", "👍")
    await redact(community, services, user("bob"), "$r1")  # someone else's redaction: not applied
    with community.session() as s:
        ctx = make_context(s, services, sender=user("ann"), room_id=FORUM, event_id="$elsewhere",
                           event_type="m.room.redaction", content={}, redacts="$r1")
        await rsvp_commands.rsvp_reaction_removed(ctx)  # a redaction in another room
        encrypted = make_context(s, services, sender=user("ann"), room_id=CAFE_NORTH, event_id="$enc",
                                 event_type="m.room.redaction", content={}, redacts="$r1")
        encrypted.event.encrypted = True  # a megolm plaintext claiming to be a redaction
        await rsvp_commands.rsvp_reaction_removed(encrypted)
    assert answers(community) == {user("ann"): "yes"}
    await redact(community, services, user("ann"), "$r1")
    assert answers(community) == {}


async def test_cancel_tells_the_room_and_privately_those_coming(community, services):
    await schedule_one(community, services)
    await run(community, services, user("ann"), CAFE_NORTH, "!rsvp yes")
    await run(community, services, user("bob"), CAFE_NORTH, "!rsvp no")
    (ask,) = bodies(await run(community, services, CONSULTANT, CONSULTANT_ROOM, "!cafe cancel 1"))
    assert "This would cancel the café for North" in ask and "Library, 2nd floor" in ask and "the 1 who said" in ask
    assert "`!cafe cancel 1 yes`" in ask and the_cafe(community).cancelled_at is None  # nothing happened yet
    sent = await run(community, services, CONSULTANT, CONSULTANT_ROOM, "!cafe cancel 1 yes")
    assert "is cancelled" in bodies(sent, CAFE_NORTH)[0]
    assert "that you planned to come to is cancelled" in bodies(sent, toolbox_of("ann"))[0]
    assert bodies(sent, toolbox_of("bob")) == []
    assert "told the café room and, privately, the 1" in bodies(sent, CONSULTANT_ROOM)[0]
    (listing,) = bodies(await run(community, services, user("ann"), toolbox_of("ann"), "!cafe"))
    assert "No cafés are planned yet" in listing


async def test_cancel_series_only_for_recurring(community, services):
    await schedule_one(community, services)
    (reply,) = bodies(await run(community, services, CONSULTANT, CONSULTANT_ROOM, "!cafe cancel 1 series"))
    assert "not part of a recurring series" in reply
    assert the_cafe(community).cancelled_at is None


async def test_buddies_are_introduced_only_when_a_match_exists(community, services, port):
    await schedule_one(community, services)
    (waiting,) = bodies(await run(community, services, user("ann"), toolbox_of("ann"), "!cafe buddy"))
    assert "I'll put you in touch" in waiting and port.called("create_room") == []
    sent = await run(community, services, user("bob"), toolbox_of("bob"), "!cafe buddy 1")
    ((room_id, spec),) = port.called("create_room")
    assert spec.name == "Café buddies" and set(spec.invite) == {user("ann"), user("bob")} and spec.encrypted
    assert "Hello Ann and Bob" in bodies(sent, room_id)[0]
    assert "Bob would also like company" in bodies(sent, toolbox_of("ann"))[0]
    assert "matched with Ann" in bodies(sent, toolbox_of("bob"))[0]
    with community.session() as s:
        room = s.get(ManagedRoom, room_id)
        assert room.kind == RoomKind.BUDDY.value and {room.owner, room.partner} == {user("ann"), user("bob")}
    # A third person waits rather than joining the pair.
    (third,) = bodies(await run(community, services, user("cat"), toolbox_of("cat"), "!cafe buddy"))
    assert "I'll put you in touch" in third and len(port.called("create_room")) == 1
    # Bob withdraws: the pair's room hears it, and Ann's wish stands, so Cat is matched with her.
    sent = await run(community, services, user("bob"), toolbox_of("bob"), "!cafe buddy cancel")
    assert "Bob can't come along together after all" in bodies(sent, room_id)[0]
    assert "Withdrawn" in bodies(sent, toolbox_of("bob"))[0]
    (_, (new_room, new_spec)) = port.called("create_room")
    assert set(new_spec.invite) == {user("ann"), user("cat")}
    assert "Cat would also like company" in bodies(sent, toolbox_of("ann"))[0]
    assert "Ann would also like company" in bodies(sent, toolbox_of("cat"))[0]
    (reply,) = bodies(await run(community, services, user("bob"), toolbox_of("bob"), "!cafe buddy cancel"))
    assert "nothing to withdraw" in reply


async def test_buddy_is_for_the_toolbox_room_and_own_community(community, services):
    await schedule_one(community, services)
    (reply,) = bodies(await run(community, services, user("ann"), CAFE_NORTH, "!cafe buddy"))
    assert "only works in" in reply
    (south,) = bodies(await run(community, services, user("sid"), toolbox_of("sid"), "!cafe buddy"))
    assert "No cafés are planned yet" in south


async def test_rides_fill_seats_first_come_first_served(community, services, port):
    await schedule_one(community, services)
    await run(community, services, user("bob"), toolbox_of("bob"), "!cafe ride need")
    await run(community, services, user("cat"), toolbox_of("cat"), "!cafe ride need")
    sent = await run(community, services, user("ann"), toolbox_of("ann"), "!cafe ride offer 1")
    ((room_id, spec),) = port.called("create_room")
    assert set(spec.invite) == {user("ann"), user("bob")}
    assert "Ann is driving" in bodies(sent, room_id)[0]
    assert "1 person(s) were waiting" in bodies(sent, toolbox_of("ann"))[0]
    assert "lift is arranged with Ann" in bodies(sent, toolbox_of("bob"))[0]
    (both,) = bodies(await run(community, services, user("ann"), toolbox_of("ann"), "!cafe ride need"))
    assert "not both" in both
    seats = bodies(await run(community, services, user("bob"), toolbox_of("bob"), "!cafe ride offer 0"))
    (seats,) = seats  # one message: what was wrong and the right usage
    assert "should be a number from 1 to 8" in seats and "!cafe ride offer SEATS [N]" in seats
    # Bob withdraws: Ann's free seat goes to Cat, who was waiting.
    sent = await run(community, services, user("bob"), toolbox_of("bob"), "!cafe ride cancel")
    assert "Bob has withdrawn" in bodies(sent, room_id)[0]
    (_, (_, second_spec)) = port.called("create_room")
    assert set(second_spec.invite) == {user("ann"), user("cat")}
    assert "lift is arranged with Ann" in bodies(sent, toolbox_of("cat"))[0]


async def test_break_and_back(community, services):
    (start,) = bodies(await run(community, services, user("ann"), toolbox_of("ann"), "!break 2w"))
    assert "won't send you reminders or nudges until" in start
    with community.session() as s:
        pref = s.get(UserPref, user("ann"))
        assert pref.on_break and timedelta(days=13) < pref.break_until - utcnow() <= timedelta(days=14)
    (bad,) = bodies(await run(community, services, user("ann"), toolbox_of("ann"), "!break forever"))
    assert "couldn't read that length of time" in bad
    (back,) = bodies(await run(community, services, user("ann"), toolbox_of("ann"), "!back"))
    assert "Welcome back" in back
    (again,) = bodies(await run(community, services, user("ann"), toolbox_of("ann"), "!back"))
    assert "not on a break" in again


async def test_prompt_is_set_for_the_next_cafe(community, services):
    (none,) = bodies(await run(community, services, CONSULTANT, CONSULTANT_ROOM, "!cafe prompt What helps?"))
    assert "No cafés are planned yet" in none
    await schedule_one(community, services)
    (reply,) = bodies(await run(community, services, CONSULTANT, CONSULTANT_ROOM, "!cafe prompt What helps?"))
    assert "posted in the forum and the café room on" in reply and "for North" in reply
    await schedule_one(community, services, f"South {WHEN} Town hall")
    (chosen,) = bodies(await run(community, services, CONSULTANT, CONSULTANT_ROOM, "!cafe prompt 2 Who helps?"))
    assert "for South" in chosen
    (missing,) = bodies(await run(community, services, CONSULTANT, CONSULTANT_ROOM, "!cafe prompt 3 Who?"))
    assert "3" in missing and "Who?" not in missing


async def test_a_pair_room_speaks_its_members_languages(community, services, port):
    await schedule_one(community, services)
    with community.session() as s:
        s.merge(UserPref(user_id=user("ann"), language="nb"))
        s.merge(UserPref(user_id=user("bob"), language="nb"))
    await run(community, services, user("ann"), toolbox_of("ann"), "!cafe buddy")
    sent = await run(community, services, user("bob"), toolbox_of("bob"), "!cafe buddy 1")
    ((room_id, _),) = port.called("create_room")
    (intro,) = bodies(sent, room_id)
    assert intro.startswith("Hei, Ann og Bob!") and "Hello" not in intro  # both Norwegian: Norwegian only
    await run(community, services, user("cat"), toolbox_of("cat"), "!cafe buddy")
    sent = await run(community, services, user("bob"), toolbox_of("bob"), "!cafe buddy cancel")
    (_, (mixed_room, _)) = port.called("create_room")
    (mixed,) = bodies(sent, mixed_room)
    assert "Hello Cat and Ann!" in mixed and "Hei, Cat og Ann!" in mixed  # one each: both languages
    assert mixed.index("Hello") < mixed.index("Hei")  # the community's language first


def test_a_cafe_keeps_its_number_while_listed(community):
    from datetime import datetime, timezone

    import pytest as _pytest

    from bot.errors import NotFound
    from bot.recurrence import OneOff
    from schedules import cafes
    t0 = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    oslo = ZoneInfo("Europe/Oslo")
    with community.session() as s:
        first = cafes.schedule(s, community="North", rule=OneOff(t0 + timedelta(days=1)), tz=oslo, place="A",
                               topic=None, by=CONSULTANT, now=t0)
        second = cafes.schedule(s, community="South", rule=OneOff(t0 + timedelta(days=2)), tz=oslo, place="B",
                                topic=None, by=CONSULTANT, now=t0)
        assert [c.number for c in cafes.upcoming(s, t0)] == [1, 2]
        later = t0 + timedelta(days=1, hours=6)  # the first has passed: the second is still number 2
        assert [(c.place, c.number) for c in cafes.upcoming(s, later)] == [("B", 2)]
        assert cafes.pick(cafes.upcoming(s, later), 2) is second
        with _pytest.raises(NotFound):
            cafes.pick(cafes.upcoming(s, later), 1)
        third = cafes.schedule(s, community="North", rule=OneOff(t0 + timedelta(days=3)), tz=oslo, place="C",
                               topic=None, by=CONSULTANT, now=later)
        assert third.number == 1 and first.number == 1  # a free number is used again
        assert [(c.place, c.number) for c in cafes.upcoming(s, later)] == [("B", 2), ("C", 1)]


async def test_cancelling_a_cafe_nobody_answered_does_not_speak_of_the_0(community, services):
    await schedule_one(community, services)
    (ask,) = bodies(await run(community, services, CONSULTANT, CONSULTANT_ROOM, "!cafe cancel 1"))
    assert "nobody has said yes or maybe yet" in ask and " 0 " not in ask
    (done,) = bodies(await run(community, services, CONSULTANT, CONSULTANT_ROOM, "!cafe cancel 1 yes"),
                     CONSULTANT_ROOM)
    assert "nobody had said yes or maybe" in done and " 0 " not in done


async def test_a_private_answer_to_a_command_sent_in_the_cafe_room_says_why_it_came_there(community, services, port):
    """The newcomer trial: `!cafe` and `!help` sent in the café room vanished there (removed) and
    were answered in the toolbox room with nothing saying so. The café room still sees nothing; the
    answer in the toolbox says where it was asked and why it is answered there, once."""
    await run(community, services, CONSULTANT, CONSULTANT_ROOM, f"!cafe schedule North {WHEN} Library")
    sent = await run(community, services, user("ann"), CAFE_NORTH, "!cafe", event_id="$asked")
    assert (CAFE_NORTH, "$asked") in [args[:2] for args in port.called("redact")]
    assert bodies(sent, CAFE_NORTH) == []
    (answer,) = bodies(sent, toolbox_of("ann"))
    assert answer.startswith("You sent `!cafe` in a café room. I took it out of that room and answer you here")
    assert "Next cafés" in answer and answer.count("You sent") == 1
    await run(community, services, user("bob"), toolbox_of("bob"), "!lang nb")
    sent = await run(community, services, user("bob"), FORUM, "!help", event_id="$help")
    (answer,) = bodies(sent, toolbox_of("bob"))
    assert answer.startswith("Du sendte `!help` i forumet.") and bodies(sent, FORUM) == []
    # In the toolbox itself, the answer is just the answer.
    (answer,) = bodies(await run(community, services, user("ann"), toolbox_of("ann"), "!cafe"))
    assert answer.startswith("**Next cafés**")
