"""!export holds everything about the person and nothing that is not theirs; !forget-me leaves no
row that names them or their private rooms; both (and the toolbox) keep working after !leave, and
for someone still waiting for approval (issue 11, findings 3, 9, 10, 11; issue 12, item 4)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot import personal_data
from bot.db import Base
from bot.models import (
    HandledEvent,
    ManagedRoom,
    OutboxMessage,
    Participant,
    RoomKind,
    SentEvent,
    UndecryptableNotice,
    UploadedMedia,
    UserPref,
)
from bot.outbox import LEAVE_ROOM, enqueue, notice_content
from bot.recurrence import OneOff
from bot.roomdir import register_room
from rooms import moderation
from rooms.models import Circle, CircleMember, Flag, Report, Reveal
from schedules import cafes, matching
from tests.support.core import queued
from tests.support.rooms import CONSULTANTS, build_community, outbox, send, toolbox_of
from tests.support.rooms import enrol as enrol_in_community
from tests.unit.test_toolbox_commands import reply, say
from toolbox import goals
from toolbox.reminders import medication_reminders

ANN, BOB, DOC = "@ann:localhost", "@bob:localhost", "@doc:localhost"
UTC = timezone.utc
TOOLBOX = toolbox_of(ANN)


def _reveal(s, sender: str, receiver: str, message: str, status: str) -> None:
    s.add(Reveal(sender=sender, receiver=receiver, message=message, status=status))
    s.flush()


# --- !export -------------------------------------------------------------------------------------

def test_export_holds_reveals_sent_and_accepted_never_pending_or_declined(db, features):
    with db.session() as s:
        build_community(s)
        enrol_in_community(s, ANN, "Ann")
        enrol_in_community(s, BOB, "Bob")
        _reveal(s, BOB, ANN, "pending words for Ann", "pending")
        _reveal(s, BOB, ANN, "declined words for Ann", "declined")
        _reveal(s, BOB, ANN, "accepted words for Ann", "accepted")
        _reveal(s, ANN, BOB, "Ann's own words", "pending")
        text = json.dumps(personal_data.export_document(features, s, ANN), default=str)
        assert "pending words" not in text and "declined words" not in text
        assert "accepted words for Ann" in text and "Ann's own words" in text
        # Bob's pending reveal is Bob's: his export holds it.
        assert "pending words for Ann" in json.dumps(personal_data.export_document(features, s, BOB), default=str)


def test_export_holds_every_row_about_the_person(db, features):
    now = datetime.now(UTC)
    with db.session() as s:
        build_community(s)
        ann = enrol_in_community(s, ANN, "Ann")
        enrol_in_community(s, BOB, "Bob")
        s.add(UserPref(user_id=ANN, language="nb", timezone="Europe/Oslo"))
        moderation.log(s, "@consultant:localhost", "warn", ann, "please be kind")
        moderation.mute(s, ANN, now + timedelta(days=14), "@consultant:localhost")
        s.add(Flag(kind="privacy", room_id="!forum:localhost", event_id="$annpost", author=ANN, details="phone"))
        s.add(Flag(kind="privacy", room_id="!forum:localhost", event_id="$bobpost", author=BOB, details="email"))
        s.add(Report(room_id="!forum:localhost", event_id="$reportedpost", reporter=ANN, reason="rude words"))
        cafe = cafes.schedule(s, community="North", rule=OneOff(now + timedelta(days=3)), tz=ZoneInfo("Europe/Oslo"),
                              place="Library", topic=None, by="@consultant:localhost", now=now)
        matching.record_match(s, cafe.id, "buddy", ANN, BOB, "!buddy:localhost", now)
        s.flush()
        data = personal_data.export_document(features, s, ANN, now)
        assert data["enrolment"]["pseudonym"] == "Ann" and data["enrolment"]["community"] == "North"
        assert data["enrolment"]["consent_at"] and data["enrolment"]["approved_at"]
        assert data["preferences"] == {"language": "nb", "timezone": "Europe/Oslo", "on_break": False,
                                       "break_until": None}
        assert [m["action"] for m in data["rooms"]["moderation"]] == ["warn"]
        assert data["rooms"]["moderation"][0]["reason"] == "please be kind"
        assert data["rooms"]["mute"]["until"]
        assert [f["event_id"] for f in data["rooms"]["flags_on_own_messages"]] == ["$annpost"]
        assert data["rooms"]["reports_made"] == [{"reason": "rude words", "at": data["rooms"]["reports_made"][0]["at"]}]
        assert data["schedules"]["cafe_companion_matches"][0]["kind"] == "buddy"
        text = json.dumps(data, default=str)
        # Nothing about anyone else: not who or what they reported, not their buddy, not Bob's flags.
        for other in ("$reportedpost", "$bobpost", BOB, "Bob", "@consultant:localhost"):
            assert other not in text


# --- !forget-me: nothing left behind ---------------------------------------------------------------

def rows_naming(s, *needles: str) -> list[str]:
    """Every row of every table (sealed columns read back in clear) that holds one of ``needles``."""
    found = []
    for table in Base.metadata.sorted_tables:
        for row in s.execute(select(table)):
            text = json.dumps([str(v) for v in row], ensure_ascii=False)
            found += [f"{table.name}: {needle}" for needle in needles if needle in text]
    return found


async def test_forget_me_leaves_no_row_with_the_person_or_their_rooms(db, services, port):
    with db.session() as s:
        build_community(s, port)
        ann = enrol_in_community(s, ANN, "Ann", port=port)
        bob = enrol_in_community(s, BOB, "Bob", port=port)
        register_room(s, "!provider:localhost", RoomKind.PROVIDER, owner=ANN, partner=DOC)
        register_room(s, "!buddy:localhost", RoomKind.BUDDY, community="North", owner=BOB, partner=ANN)
        port.room_members["!direct:localhost"] = [port.bot_user_id, ANN]  # the chat where Ann said !start
        circle = Circle(name="Walkers", created_by=ANN, room_id="!circle:localhost")
        s.add(circle)
        s.flush()
        s.add_all([CircleMember(circle_id=circle.id, user_id=ANN, status="accepted"),
                   CircleMember(circle_id=circle.id, user_id=BOB, status="accepted")])
        register_room(s, "!circle:localhost", RoomKind.CIRCLE, owner=ANN)
        s.add(UndecryptableNotice(sender=ANN, session_id="megolm1"))
        for room in (TOOLBOX, "!provider:localhost", "!buddy:localhost"):
            s.add(HandledEvent(event_id=f"$h{room}", room_id=room))
            s.add(SentEvent(txn_id=f"t{room}", event_id=f"$s{room}", room_id=room))
        enqueue(s, TOOLBOX, notice_content("Reminder: take your medicine"))
        enqueue(s, "!cafe-north:localhost", notice_content("The café is tonight", mentions=[ANN, BOB]))
        goals.add(s, ANN, "walk every day")
        _reveal(s, BOB, ANN, "hello Ann", "pending")
        s.commit()
        confirm = await reply(s, services, "!forget-me", room=TOOLBOX)
        code = confirm.split("`!forget-me ")[1].split("`")[0]
        sent = await say(s, services, f"!forget-me {code}", room=TOOLBOX)
        assert any("has been erased" in c["body"] for c in sent)
        rooms = (ANN, TOOLBOX, "!provider:localhost", "!buddy:localhost", "!direct:localhost")
        # Only the queued goodbyes and the bot's leaving remain, to be sent and then dropped by the
        # sender (see test_sender); nothing else names Ann or her private rooms.
        leftover = [r for r in rows_naming(s, *rooms) if not r.startswith("outbox_message")]
        assert leftover == []
        left_behind = [(room, c) for room, c in queued(s) if room in rooms]
        assert [room for room, c in left_behind if "body" in c] == ["!provider:localhost", TOOLBOX]
        leaves = [row.room_id for row in s.scalars(select(OutboxMessage).where(OutboxMessage.event_type == LEAVE_ROOM)
                                                   .order_by(OutboxMessage.id))]
        assert sorted(leaves) == sorted(["!provider:localhost", TOOLBOX, "!buddy:localhost", "!direct:localhost"])
        cafe_note = [c for room, c in queued(s) if room == "!cafe-north:localhost"]
        assert cafe_note and cafe_note[0]["m.mentions"] == {"user_ids": [BOB]}
        # The circle stays a circle for Bob; Bob's own rows stay.
        assert s.get(ManagedRoom, "!circle:localhost").kind == RoomKind.CIRCLE.value
        assert s.get(Participant, BOB) is bob and ann is not None


async def test_the_provider_is_told_before_the_bot_leaves(db, services):
    with db.session() as s:
        build_community(s)
        enrol_in_community(s, ANN, "Ann")
        register_room(s, "!provider:localhost", RoomKind.PROVIDER, owner=ANN, partner=DOC)
        s.add(UserPref(user_id=DOC, language="nb"))
        s.commit()
        code = personal_data.request_code(s, ANN)
        s.commit()
        await say(s, services, f"!forget-me {code}", room=TOOLBOX)
        in_provider_room = [row for row in s.scalars(select(OutboxMessage).where(
            OutboxMessage.room_id == "!provider:localhost").order_by(OutboxMessage.id))]
        assert [r.event_type for r in in_provider_room] == ["m.room.message", LEAVE_ROOM]
        assert "har bedt ReConnect om å slette" in json.loads(in_provider_room[0].content)["body"]


# --- after !leave, and before approval ---------------------------------------------------------------

async def test_after_leaving_the_toolbox_export_and_forget_me_still_work(db, services, port):
    with db.session() as s:
        build_community(s, port)
        enrol_in_community(s, ANN, "Ann", port=port)
        s.commit()
        assert "walk" in await reply(s, services, "!goal add walk every day", room=TOOLBOX)
        assert "Sertraline added" in await reply(s, services, "!med add Sertraline 50mg 08:00", room=TOOLBOX)
        assert "left the community rooms" in await reply(s, services, "!leave", room=TOOLBOX)
        assert "walk every day" in await reply(s, services, "!goals", room=TOOLBOX)
        assert "No more reminders for Sertraline" in await reply(s, services, "!med remind 1 off", room=TOOLBOX)
        assert "Sertraline" in await reply(s, services, "!meds", room=TOOLBOX)
        sent = await say(s, services, "!export", room=TOOLBOX)
        assert sent[0]["msgtype"] == "m.file"
        assert json.loads(port.uploads[-1])["enrolment"]["status"] == "left"
        # A left person reaches no one.
        assert "not available to you" in await reply(s, services, "!reveal Bob hello", room=TOOLBOX)
        confirm = await reply(s, services, "!forget-me", room=TOOLBOX)
        code = confirm.split("`!forget-me ")[1].split("`")[0]
        assert "has been erased" in await reply(s, services, f"!forget-me {code}", room=TOOLBOX)
        assert s.get(Participant, ANN) is None and goals.listed(s, ANN) == []


async def test_a_returning_person_is_pending_again_and_the_consultants_are_told(db, services, port):
    with db.session() as s:
        build_community(s, port)
        enrol_in_community(s, ANN, "Ann", port=port)
        s.commit()
        await reply(s, services, "!leave", room=TOOLBOX)
        assert "told the peer consultant" in await reply(s, services, "!start", room=TOOLBOX)
        assert s.get(Participant, ANN).status == "pending"
        told = [c["body"] for room, c in queued(s) if room == CONSULTANTS]
        assert any("would like to come back" in body and "Ann" in body for body in told)
        listing = await reply(s, services, "!pending", sender="@consultant:localhost", room=CONSULTANTS)
        assert "Ann" in listing
        # Waiting again, the toolbox is still theirs.
        assert "Goal 1 saved" in await reply(s, services, "!goal add call Kari", room=TOOLBOX)


async def test_a_pending_guest_can_withdraw_with_forget_me(db, services):
    direct = "!direct:localhost"
    with db.session() as s:
        build_community(s)
        await reply(s, services, "!start", room=direct)
        await reply(s, services, "!consent", room=direct)
        await reply(s, services, "!pseudonym Quiet Fox", room=direct)
        await reply(s, services, "!community North", room=direct)
        assert s.get(Participant, ANN).status == "pending"
        confirm = await reply(s, services, "!forget-me", room=direct)
        code = confirm.split("`!forget-me ")[1].split("`")[0]
        assert "has been erased" in await reply(s, services, f"!forget-me {code}", room=direct)
        assert s.get(Participant, ANN) is None
        assert s.scalar(select(OutboxMessage.room_id).where(OutboxMessage.event_type == LEAVE_ROOM)) == direct


async def test_forget_me_asks_the_homeserver_to_delete_every_file_uploaded_for_the_person(db, services, port):
    with db.session() as s:
        build_community(s)
        enrol_in_community(s, ANN, "Ann")
        enrol_in_community(s, BOB, "Bob")
        s.commit()
        await say(s, services, "!export", room=TOOLBOX)
        await say(s, services, "!export", sender=BOB, room=toolbox_of(BOB))
        ann_file, bob_file = "mxc://localhost/upload1", "mxc://localhost/upload2"
        assert s.scalars(select(UploadedMedia.owner).order_by(UploadedMedia.id)).all() == [ANN, BOB]
        code = personal_data.request_code(s, ANN)
        s.commit()
        assert "has been erased" in await reply(s, services, f"!forget-me {code}", room=TOOLBOX)
        assert port.called("delete_media") == [(ann_file,)]
        assert s.scalars(select(UploadedMedia.url)).all() == [bob_file]


async def test_leaving_stops_no_reminder_and_the_person_can_stop_one_themselves(db, services, port):
    now = datetime.now(UTC)
    with db.session() as s:
        build_community(s, port)
        enrol_in_community(s, ANN, "Ann", port=port)
        s.commit()
        await reply(s, services, "!med add Sertraline 50mg 08:00", room=TOOLBOX)
        await reply(s, services, "!leave", room=TOOLBOX)

        def med_reminders() -> list[str]:
            return [r.user_id for r in medication_reminders(s, now, now + timedelta(days=2))]

        assert med_reminders() == [ANN, ANN]  # still reminded after leaving: they did not ask to stop
        assert "No more reminders" in await reply(s, services, "!med remind 1 off", room=TOOLBOX)
        assert med_reminders() == []


async def test_someone_who_left_still_gets_the_crisis_reply_in_their_toolbox(db, services, port):
    with db.session() as s:
        build_community(s, port)
        enrol_in_community(s, ANN, "Ann", port=port)
        s.add(Participant(user_id=BOB, status="left", pseudonym="Bob", pseudonym_key="bob", community="North",
                          approved_at=datetime.now(UTC)))
        register_room(s, toolbox_of(BOB), RoomKind.TOOLBOX, owner=BOB)
    await send(db, services, BOB, toolbox_of(BOB), "I want to die")
    assert any("113" in text for text in outbox(db, toolbox_of(BOB)))
