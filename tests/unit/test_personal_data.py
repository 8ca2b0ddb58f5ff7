"""The personal-data service in the core: !export gathers every feature's section, !forget-me
(after its confirmation code) runs every feature's eraser, then the Matrix side, then the core's
own rows."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot import personal_data
from bot.errors import Invalid
from bot.feature import Feature
from bot.models import ForgetRequest, ManagedRoom, OutboxMessage, Participant, RoomKind, UserPref
from bot.outbox import LEAVE_ROOM
from bot.recurrence import OneOff
from bot.roomdir import register_room
from schedules import cafes, rsvp
from tests.support.core import FakePort, queued
from tests.support.rooms import CAFE_NORTH, FORUM, build_community
from tests.support.rooms import enrol as enrol_in_community
from tests.unit.test_toolbox_commands import PROVIDER_ROOM, TOOLBOX, enrol, link_provider, reply, say
from toolbox import crisis_plan, diary, goals, meds
from toolbox.personal_data import toolbox_export

ANN = "@ann:localhost"
BOB = "@bob:localhost"
UTC = timezone.utc


# --- the commands, as a participant uses them ------------------------------------------------------

async def test_export_is_json_file(db, services, port):
    with db.session() as s:
        enrol(s)
        await reply(s, services, "!goal add walk every day")
        sent = await say(s, services, "!export")
        assert sent[0]["msgtype"] == "m.file" and sent[0]["info"]["mimetype"] == "application/json"
        data = json.loads(port.uploads[-1])
        assert data["user_id"] == ANN and data["toolbox"]["goals"][0]["text"] == "walk every day"
        assert (TOOLBOX, sent[0]) in queued(s)
        assert "everything I hold about you" in sent[1]["body"]


async def test_forget_me(db, services, port):
    with db.session() as s:
        enrol(s)
        link_provider(s)
        s.add(UserPref(user_id=ANN, language="en"))
        await reply(s, services, "!goal add walk every day")
        confirm = await reply(s, services, "!forget-me")
        code = confirm.split("`!forget-me ")[1].split("`")[0]
        assert "within 10 minutes" in confirm
        assert "does not match" in await reply(s, services, "!forget-me NOPE12")
        assert "walk every day" in await reply(s, services, "!goals")
        assert "has been erased" in await reply(s, services, f"!forget-me {code}")
        assert s.get(Participant, ANN) is None and s.get(UserPref, ANN) is None
        assert s.get(ForgetRequest, ANN) is None
        # The bot leaves the toolbox and provider rooms through the outbox, after its last message there.
        leaves = s.scalars(select(OutboxMessage.room_id).where(OutboxMessage.event_type == LEAVE_ROOM))
        assert sorted(leaves) == sorted([PROVIDER_ROOM, TOOLBOX])
        assert s.get(ManagedRoom, TOOLBOX) is None and s.get(ManagedRoom, PROVIDER_ROOM) is None
        assert toolbox_export(s, ANN)["goals"] == []


async def test_export_and_forget_me_stay_in_the_toolbox_room(db, services):
    with db.session() as s:
        enrol(s)
        register_room(s, FORUM, RoomKind.FORUM)
        s.commit()
        assert "only works in a direct chat with me or your private toolbox room" in await reply(
            s, services, "!export", room=FORUM)
        assert "only works in a direct chat with me or your private toolbox room" in await reply(
            s, services, "!forget-me", room=FORUM)


# --- the service --------------------------------------------------------------------------------

def test_export_gathers_every_features_section(db, features):
    now = datetime.now(UTC)
    with db.session() as s:
        build_community(s)
        enrol_in_community(s, ANN, "Ann")
        goals.add(s, ANN, "walk every day")
        diary.add_entry(s, ANN, "a quiet day")
        crisis_plan.add(s, ANN, "coping", "music")
        meds.add(s, ANN, "Sertraline", "50 mg", [time(8)], "Europe/Oslo")
        goals.add(s, BOB, "bob's goal")
        cafe = cafes.schedule(s, community="North", rule=OneOff(now + timedelta(days=3)), tz=ZoneInfo("Europe/Oslo"),
                              place="Library", topic=None, by="@consultant:localhost", now=now)
        rsvp.set_answer(s, cafe, ANN, "yes", now)
        data = personal_data.export_document(features, s, ANN, now)
        assert data["user_id"] == ANN and data["exported_at"] == now.isoformat()
        assert {"rooms", "toolbox", "schedules"} <= set(data)
        assert data["toolbox"]["goals"][0]["text"] == "walk every day"
        assert data["toolbox"]["diary"][0]["text"] == "a quiet day"
        assert data["toolbox"]["crisis_plan"]["sections"]["coping"] == ["music"]
        assert data["schedules"]["cafe_rsvps"][0]["answer"] == "yes"
        assert data["rooms"]["reports_made"] == []
        assert "bob's goal" not in json.dumps(data, default=str)


def test_erase_runs_every_eraser_and_keeps_others_data(db, features):
    with db.session() as s:
        goals.add(s, ANN, "walk every day")
        goals.add(s, BOB, "bob's goal")
        personal_data.erase_everything(features, s, ANN)
        assert toolbox_export(s, ANN)["goals"] == []
        assert [g.text for g in goals.listed(s, BOB)] == ["bob's goal"]


async def test_forget_runs_every_eraser_then_the_room_erasers_then_the_core(db):
    """Every feature's eraser first (in feature order), then every room eraser, then the core's
    rows go; the provider rooms are returned, for the bot to tell and leave."""
    calls: list[str] = []
    first, second = Feature(name="first"), Feature(name="second")

    def eraser(name: str):
        return lambda session, user_id: calls.append(f"erase {name} {user_id}")

    def room_eraser(name: str):
        async def erase_rooms(session, port, user_id):
            # The person's own rows are still there: the core goes last.
            assert session.get(Participant, user_id) is not None
            calls.append(f"rooms {name} {user_id}")
        return erase_rooms

    first.erasers.append(eraser("first"))
    first.room_erasers.append(room_eraser("first"))
    second.erasers.append(eraser("second"))
    second.room_erasers.append(room_eraser("second"))
    port = FakePort()
    with db.session() as s:
        s.add(Participant(user_id=ANN, status="active"))
        register_room(s, "!doc:localhost", RoomKind.PROVIDER, owner=ANN, partner="@doc:localhost")
        s.flush()
        rooms = await personal_data.forget([first, second], s, port, ANN)
        assert calls == [f"erase first {ANN}", f"erase second {ANN}", f"rooms first {ANN}", f"rooms second {ANN}"]
        assert rooms.providers == {"!doc:localhost": "@doc:localhost"}
        assert s.get(Participant, ANN) is None


async def test_forget_takes_the_person_out_of_the_shared_rooms(db, features):
    port = FakePort()
    with db.session() as s:
        build_community(s, port)
        enrol_in_community(s, ANN, "Ann", port=port)
        await personal_data.forget(features, s, port, ANN)
        kicked = {room for room, user, _ in port.called("kick") if user == ANN}
        assert {FORUM, CAFE_NORTH} <= kicked


def test_forget_code(db):
    now = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)
    with db.session() as s:
        with pytest.raises(Invalid):
            personal_data.check_code(s, ANN, "ABCDEF", now)
        code = personal_data.request_code(s, ANN, now)
        assert len(code) == 6
        with pytest.raises(Invalid) as err:
            personal_data.check_code(s, ANN, "WRONG1", now)
        assert err.value.key == "core.forget.wrong_code"
        personal_data.check_code(s, ANN, code.lower(), now + timedelta(minutes=9))
        with pytest.raises(Invalid) as err:
            personal_data.check_code(s, ANN, code, now + timedelta(minutes=11))
        assert err.value.key == "core.forget.no_request"
        s.add(Participant(user_id=ANN, status="active"))
        s.add(UserPref(user_id=ANN, language="nb"))
        register_room(s, "!toolbox:localhost", RoomKind.TOOLBOX, owner=ANN)
        register_room(s, "!forum:localhost", RoomKind.FORUM)
        s.flush()
        personal_data.delete_person(s, ANN)
        assert s.scalar(select(Participant).where(Participant.user_id == ANN)) is None
        assert s.scalar(select(UserPref).where(UserPref.user_id == ANN)) is None
        assert s.get(ForgetRequest, ANN) is None
        assert list(s.scalars(select(ManagedRoom.room_id))) == ["!forum:localhost"]
