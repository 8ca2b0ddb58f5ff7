"""Who may reach peers (issue 11, findings 6 and 7, and buddy rooms as shared rooms): bans and mutes
stop reveals and circles, blocks, daily limits, mutes in rooms made later, staff dropped from config,
providers removed or unlinked."""

from __future__ import annotations

import pytest

from bot.context import Services
from bot.models import ManagedRoom, Provider, RoomKind
from bot.roomdir import find_room, register_room
from rooms.building import ensure_rooms
from rooms.models import Ban, Block, Flag
from tests.support.core import test_settings
from tests.support.rooms import CONSULTANTS, FORUM, build_community, enrol, outbox, send, toolbox_of

CONSULTANT = "@consultant:localhost"
KARI, OLA, PER, LIV = "@kari:localhost", "@ola:localhost", "@per:localhost", "@liv:localhost"
GP = "@gp:localhost"
BUDDY_ROOM = "!buddy:localhost"


@pytest.fixture
def community(db, port):
    with db.session() as s:
        build_community(s, port)
        for user_id, name in ((KARI, "Kari"), (OLA, "Ola"), (PER, "Per"), (LIV, "Liv")):
            enrol(s, user_id, name, port=port)
    return db


def services_with(services: Services, **overrides) -> Services:
    return Services(settings=test_settings(**overrides), catalogue=services.catalogue, port=services.port,
                    router=services.router, features=services.features)


# --- bans and mutes -----------------------------------------------------------------------------

async def test_a_banned_participant_can_neither_reveal_nor_invite(community, services, port) -> None:
    db = community
    await send(db, services, CONSULTANT, CONSULTANTS, "!ban Ola harassment")
    with db.session() as s:
        assert s.get(Ban, OLA) is not None
    (reply,) = await send(db, services, OLA, toolbox_of(OLA), "!reveal Kari I am Ola from the café")
    assert "banned" in reply and "personal messages" in reply
    (reply,) = await send(db, services, OLA, toolbox_of(OLA), "!circle create Walk with Kari, Per")
    assert "banned" in reply
    assert not any("Ola" in b for b in outbox(db, toolbox_of(KARI)) + outbox(db, toolbox_of(PER)))
    # After !unban the state is gone and they may reach people again.
    await send(db, services, CONSULTANT, CONSULTANTS, "!unban Ola")
    (reply,) = await send(db, services, OLA, toolbox_of(OLA), "!reveal Kari I am Ola from the café")
    assert "I've asked **Kari**" in reply
    assert "would like to send you a personal message" in outbox(db, toolbox_of(KARI))[-1]


async def test_a_muted_participant_cannot_reveal_and_a_pending_request_is_hidden(community, services) -> None:
    db = community
    (sent,) = await send(db, services, OLA, toolbox_of(OLA), "!reveal Kari hello, I'm Ola")
    assert "I've asked" in sent
    await send(db, services, CONSULTANT, CONSULTANTS, "!mute Ola 2d")
    (reply,) = await send(db, services, OLA, toolbox_of(OLA), "!reveal Per hello, I'm Ola")
    assert "muted" in reply
    # The request Ola sent before the mute does not reach Kari while the mute lasts.
    (reply,) = await send(db, services, KARI, toolbox_of(KARI), "!accept")
    assert "nothing waiting" in reply
    await send(db, services, CONSULTANT, CONSULTANTS, "!unmute Ola")
    (reply,) = await send(db, services, KARI, toolbox_of(KARI), "!accept")
    assert "A personal message from **Ola**" in reply


async def test_a_fresh_circle_gets_an_existing_mute(community, services, port) -> None:
    db = community
    await send(db, services, KARI, toolbox_of(KARI), "!circle create Walk with Per, Liv")
    await send(db, services, CONSULTANT, CONSULTANTS, "!mute Per")
    await send(db, services, PER, toolbox_of(PER), "!accept")
    ((room_id, spec),) = port.called("create_room")
    assert spec.power_users.get(PER) == -1 and KARI not in spec.power_users
    # Liv joins the existing room unmuted; a muted latecomer would be muted there too.
    await send(db, services, LIV, toolbox_of(LIV), "!accept")
    assert (room_id, LIV, -1) not in port.called("set_power_level")
    # A later mute reaches the circle as well.
    await send(db, services, CONSULTANT, CONSULTANTS, "!mute Liv 1h")
    assert (room_id, LIV, -1) in port.called("set_power_level")


async def test_a_mute_holds_in_rooms_someone_comes_back_into(community, services, port) -> None:
    db = community
    await send(db, services, CONSULTANT, CONSULTANTS, "!mute Ola")
    await send(db, services, CONSULTANT, CONSULTANTS, "!ban Ola")
    port.calls.clear()
    await send(db, services, CONSULTANT, CONSULTANTS, "!unban Ola")
    invited = {room for room, user in port.called("invite") if user == OLA}
    assert FORUM in invited
    assert (FORUM, OLA, -1) in port.called("set_power_level")


# --- daily limits -------------------------------------------------------------------------------

async def test_reveals_and_circles_are_limited_per_day(community, services) -> None:
    db = community
    limited = services_with(services, moderation={"reveals_per_day": 2, "circles_per_day": 1})
    for name in ("Kari", "Per"):
        (reply,) = await send(db, limited, OLA, toolbox_of(OLA), f"!reveal {name} it's me")
        assert "I've asked" in reply
    (reply,) = await send(db, limited, OLA, toolbox_of(OLA), "!reveal Liv it's me")
    assert "as many as one day allows" in reply
    assert outbox(db, toolbox_of(LIV)) == []
    (reply,) = await send(db, limited, OLA, toolbox_of(OLA), "!circle create One with Kari")
    assert "I've asked" in reply
    (reply,) = await send(db, limited, OLA, toolbox_of(OLA), "!circle create Two with Per")
    assert "1 circles in the last day" in reply


def test_the_daily_limits_are_validated() -> None:
    from pydantic import ValidationError

    assert test_settings().moderation.reveals_per_day == 5
    assert test_settings().moderation.circles_per_day == 2
    with pytest.raises(ValidationError, match="reveals_per_day"):
        test_settings(moderation={"reveals_per_day": 0})


# --- blocking -----------------------------------------------------------------------------------

async def test_block_stops_reveals_and_invitations_without_telling(community, services, port) -> None:
    db = community
    (reply,) = await send(db, services, KARI, toolbox_of(KARI), "!block Ola")
    assert "will no longer reach you" in reply and "!unblock Ola" in reply
    (reply,) = await send(db, services, KARI, toolbox_of(KARI), "!block")
    assert "You have blocked: Ola" in reply
    before = outbox(db, toolbox_of(KARI))
    # Ola is told what anyone is told; Kari hears nothing and has nothing to answer.
    (reply,) = await send(db, services, OLA, toolbox_of(OLA), "!reveal Kari I'm Ola")
    assert "I've asked **Kari**" in reply
    await send(db, services, OLA, toolbox_of(OLA), "!circle create Walk with Kari, Per")
    assert outbox(db, toolbox_of(KARI)) == before
    assert "invites you to a small private circle" in outbox(db, toolbox_of(PER))[-1]
    (reply,) = await send(db, services, KARI, toolbox_of(KARI), "!accept")
    assert "nothing waiting" in reply
    # Kari cannot reach Ola either while blocking them, and is told how to undo it.
    (reply,) = await send(db, services, KARI, toolbox_of(KARI), "!reveal Ola hi")
    assert "You have blocked **Ola**" in reply and "!unblock Ola" in reply
    (reply,) = await send(db, services, KARI, toolbox_of(KARI), "!unblock Ola")
    assert "can reach you again" in reply
    (reply,) = await send(db, services, KARI, toolbox_of(KARI), "!unblock Ola")
    assert "haven't blocked" in reply


async def test_block_usage_and_refusals(community, services) -> None:
    db = community
    (reply,) = await send(db, services, KARI, toolbox_of(KARI), "!block")
    assert "haven't blocked anyone" in reply and "!block PSEUDONYM" in reply
    (reply,) = await send(db, services, KARI, toolbox_of(KARI), "!block Kari")
    assert "can't block yourself" in reply
    (reply,) = await send(db, services, KARI, toolbox_of(KARI), "!block Nobody")
    assert "can't find anyone" in reply
    (reply,) = await send(db, services, KARI, toolbox_of(KARI), "!unblock")  # one message: problem and usage
    assert "missing" in reply and "`!unblock PSEUDONYM`" in reply
    replies = await send(db, services, KARI, FORUM, "!block Ola")
    assert replies == [] and outbox(db, FORUM) == []  # a toolbox command typed in the forum: removed, not echoed
    assert "only works in" in outbox(db, toolbox_of(KARI))[-1]  # the refusal comes privately


async def test_blocks_are_exported_and_erased(community, services) -> None:
    from rooms import personal_data

    db = community
    await send(db, services, KARI, toolbox_of(KARI), "!block Ola")
    with db.session() as s:
        assert personal_data.export(s, KARI)["blocked"] == ["Ola"]
        personal_data.erase(s, OLA)
    with db.session() as s:
        assert s.query(Block).count() == 0


# --- buddy and ride rooms are shared rooms ------------------------------------------------------

async def test_buddy_rooms_get_the_privacy_guard_and_report(community, services, port) -> None:
    db = community
    with db.session() as s:
        register_room(s, BUDDY_ROOM, RoomKind.BUDDY, community="North", owner=KARI, partner=OLA)
    await send(db, services, OLA, BUDDY_ROOM, "mail me at ola.nordmann@example.com")
    assert "seems to include an e-mail address" in outbox(db, toolbox_of(OLA))[-1]
    with db.session() as s:
        assert s.query(Flag).filter_by(kind="privacy", room_id=BUDDY_ROOM).count() == 1
    await send(db, services, KARI, BUDDY_ROOM, "!report rude", reply_to="$rude")
    assert "Thank you for your report" in outbox(db, toolbox_of(KARI))[-1]
    assert any(BUDDY_ROOM in b and "$rude" in b for b in outbox(db, CONSULTANTS))
    # Muting and banning reach the person's buddy and ride rooms.
    await send(db, services, CONSULTANT, CONSULTANTS, "!mute Ola")
    assert (BUDDY_ROOM, OLA, -1) in port.called("set_power_level")
    await send(db, services, CONSULTANT, CONSULTANTS, "!ban Ola")
    assert any(room == BUDDY_ROOM and user == OLA for room, user, _ in port.called("ban"))


# --- staff and providers removed ----------------------------------------------------------------

async def test_staff_dropped_from_config_are_demoted_and_leave_the_consultant_room(db, port) -> None:
    old, kept = "@old:localhost", "@kept:localhost"
    say = lambda key, **_: key  # noqa: E731
    with db.session() as s:
        await ensure_rooms(s, port, test_settings(people={"consultants": [old, kept]}), say)
        rooms = {r.kind: r.room_id for r in s.query(ManagedRoom)}
    for room_id in rooms.values():
        port.state[(room_id, "m.room.power_levels", "")] = {"users": {port.bot_user_id: 100, old: 50, kept: 50}}
    port.calls.clear()
    with db.session() as s:
        await ensure_rooms(s, port, test_settings(people={"consultants": [kept]}), say)
    demoted = {room for room, user, level in port.called("set_power_level") if user == old and level is None}
    assert demoted == set(rooms.values())
    assert not any(user == kept for _, user, _ in port.called("set_power_level"))
    kicked = {(room, user) for room, user, _ in port.called("kick")}
    assert kicked == {(room_id, old) for room_id in rooms.values()}


async def test_a_former_consultant_who_is_a_participant_keeps_the_community_rooms(db, port) -> None:
    old = "@old:localhost"
    say = lambda key, **_: key  # noqa: E731
    with db.session() as s:
        await ensure_rooms(s, port, test_settings(people={"consultants": [old]}), say)
        rooms = {r.kind: r.room_id for r in s.query(ManagedRoom)}
        enrol(s, old, "Oldie", community="North")
    for room_id in rooms.values():
        port.state[(room_id, "m.room.power_levels", "")] = {"users": {port.bot_user_id: 100, old: 50}}
    port.calls.clear()
    with db.session() as s:
        await ensure_rooms(s, port, test_settings(people={"consultants": []}), say)
    assert {room for room, user, _ in port.called("kick")} == {rooms[RoomKind.CONSULTANT.value]}
    assert len(port.called("set_power_level")) == len(rooms)


async def _link(db, services) -> str:
    await send(db, services, CONSULTANT, CONSULTANTS, "!providers add @gp:localhost")
    await send(db, services, CONSULTANT, CONSULTANTS, "!provider link Kari @gp:localhost")
    with db.session() as s:
        room = find_room(s, RoomKind.PROVIDER, owner=KARI, partner=GP)
        assert room is not None
        return room.room_id


async def test_a_removed_provider_is_kicked_and_loses_view(community, services, port) -> None:
    db = community
    room_id = await _link(db, services)
    (reply,) = await send(db, services, GP, room_id, "!view")
    assert "Nothing from the toolbox is shared" in reply
    (reply,) = await send(db, services, CONSULTANT, CONSULTANTS, "!providers remove @gp:localhost")
    assert "no longer a registered provider" in reply and "1 secure messages rooms" in reply
    assert (room_id, GP, None) in port.called("kick")
    with db.session() as s:
        assert s.get(Provider, GP) is None
        assert s.get(ManagedRoom, room_id).partner is None
    assert "no longer in this room" in outbox(db, room_id)[-1]
    (reply,) = await send(db, services, GP, room_id, "!view goals")
    assert "not available to you" in reply
    (reply,) = await send(db, services, CONSULTANT, CONSULTANTS, "!providers remove @gp:localhost")
    assert "not a registered provider" in reply


async def test_an_unlinked_provider_leaves_that_room_only(community, services, port) -> None:
    db = community
    room_id = await _link(db, services)
    await send(db, services, CONSULTANT, CONSULTANTS, "!provider link Ola @gp:localhost")
    (reply,) = await send(db, services, CONSULTANT, CONSULTANTS, "!provider unlink Kari")
    assert "!provider unlink Blue Bird @doctor:server" in reply
    (reply,) = await send(db, services, CONSULTANT, CONSULTANTS, "!provider unlink Kari @gp:localhost")
    assert "out of the secure messages room with **Kari**" in reply
    assert port.called("kick") == [(room_id, GP, None)]
    (reply,) = await send(db, services, GP, room_id, "!view goals")
    assert "not shared with you" in reply
    with db.session() as s:
        assert find_room(s, RoomKind.PROVIDER, owner=KARI, partner=GP) is None
        assert find_room(s, RoomKind.PROVIDER, owner=OLA, partner=GP) is not None
    (reply,) = await send(db, services, CONSULTANT, CONSULTANTS, "!provider unlink Kari @gp:localhost")
    assert "have no secure messages room" in reply

