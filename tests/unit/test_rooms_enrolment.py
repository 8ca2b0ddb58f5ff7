"""Enrolment from !start to an active participant, providers and provider rooms, !leave."""

from __future__ import annotations

from bot.models import EnrolmentStatus, Participant, Provider, RoomKind
from bot.roomdir import find_room, toolbox_room_of
from tests.support.rooms import CAFE_NORTH, CONSULTANTS, FORUM, SPACE, build_community, enrol, outbox, send, toolbox_of

DM = "!dm-newcomer:localhost"
NEW = "@newcomer:localhost"
CONSULTANT = "@consultant:localhost"
KARI = "@kari:localhost"


def queued_contents(db):
    from tests.support.core import queued
    with db.session() as s:
        return queued(s)


def setup(db, port, *people: tuple[str, str]) -> None:
    with db.session() as s:
        build_community(s, port)
        for user_id, pseudonym in people:
            enrol(s, user_id, pseudonym, port=port)


async def test_full_enrolment_by_chat(db, services, port) -> None:
    setup(db, port)
    (intro,) = await send(db, services, NEW, DM, "!start")
    assert "not for emergencies" in intro and "113" in intro and "22 40 00 40" in intro
    assert "pseudonym" in intro and "!consent" in intro

    (refused,) = await send(db, services, NEW, DM, "!pseudonym Blue Bird")
    assert "!consent" in refused

    replies = await send(db, services, NEW, DM, "!consent")
    assert "!pseudonym" in replies[-1]
    replies = await send(db, services, NEW, DM, "!pseudonym   Blue   Bird")
    assert "**Blue Bird**" in replies[0] and "!community" in replies[-1] and "North, South" in replies[-1]
    replies = await send(db, services, NEW, DM, "!community north")
    assert "**North**" in replies[0] and "approve" in replies[1]
    # The consultant room learns pseudonym and community, nothing else.
    (note,) = outbox(db, CONSULTANTS)
    assert "Blue Bird" in note and "North" in note and NEW not in note
    with db.session() as s:
        assert s.get(Participant, NEW).status == EnrolmentStatus.PENDING.value

    (listing,) = await send(db, services, CONSULTANT, CONSULTANTS, "!pending")
    assert "1. **Blue Bird** (North)" in listing

    replies = await send(db, services, CONSULTANT, CONSULTANTS, "!approve blue bird")
    assert "**Blue Bird** (North) is in" in replies[-1]
    with db.session() as s:
        assert s.get(Participant, NEW).status == EnrolmentStatus.ACTIVE.value
        toolbox = toolbox_room_of(s, NEW)
    invited = {room for room, user in port.called("invite") if user == NEW}
    assert invited == {SPACE, FORUM, CAFE_NORTH}
    spec = port.rooms[toolbox]
    assert spec.is_direct and spec.encrypted and spec.invite == (NEW,) and spec.name == "Toolbox"
    welcome, rules = outbox(db, toolbox)
    assert "Welcome, Blue Bird" in welcome and "toolbox" in welcome
    assert "forum" not in welcome.lower() and "café" not in welcome.lower()  # the toolbox welcome is about the toolbox
    assert rules.startswith("📌 **House rules of the shared rooms**") and "café room for North" in rules
    assert "!contact" in rules and "113" in rules
    # The direct chat the person enrolled in hears that they are in, and what to do next.
    (news,) = [c for r, c in queued_contents(db) if r == DM and "You're in" in c["body"]]
    assert news["msgtype"] == "m.text" and "**Blue Bird**" in news["body"] and "!help" in news["body"]
    (again,) = await send(db, services, CONSULTANT, CONSULTANTS, "!approve Blue Bird")
    assert "already an active participant" in again


async def test_start_again_when_enrolled(db, services, port) -> None:
    setup(db, port, (KARI, "Kari"))
    (reply,) = await send(db, services, KARI, toolbox_of(KARI), "!start")
    assert "already part of the community as **Kari**" in reply
    (reply,) = await send(db, services, KARI, toolbox_of(KARI), "!community South")
    assert "write to the peer consultant with `!contact TEXT`" in reply
    with db.session() as s:
        assert s.get(Participant, KARI).community == "North"


async def test_pseudonym_must_be_unique_ignoring_case(db, services, port) -> None:
    setup(db, port, (KARI, "Blue Bird"))
    await send(db, services, NEW, DM, "!consent")
    replies = await send(db, services, NEW, DM, "!pseudonym BLUE bird")
    assert replies == ["Someone already uses that pseudonym. Please choose another one."]
    replies = await send(db, services, NEW, DM, "!pseudonym Moderator")
    assert "mistaken for staff" in replies[0]
    replies = await send(db, services, NEW, DM, "!pseudonym a")
    assert "2 to 32 characters" in replies[0]
    with db.session() as s:
        assert s.get(Participant, NEW).pseudonym is None


async def test_lookalike_own_name_and_rename_after_approval(db, services, port) -> None:
    setup(db, port, (KARI, "Blue Bird"))
    await send(db, services, NEW, DM, "!consent")
    for lookalike in ("B1ue Bird", "Blue Вird", "ＢＬＵＥ bird", "BIue Bird"):
        replies = await send(db, services, NEW, DM, f"!pseudonym {lookalike}")
        assert replies[0] in ("Someone already uses that pseudonym. Please choose another one.",
                              "A pseudonym must use one alphabet (for example Latin or Cyrillic), not a mix: "
                              "mixed names can imitate someone else's."), lookalike
    port.names[(DM, NEW)] = "Sunny Day"
    for own in ("Sunny Day", NEW[1:].split(":")[0]):
        replies = await send(db, services, NEW, DM, f"!pseudonym {own}")
        assert "login or display name" in replies[0], own
    with db.session() as s:
        assert s.get(Participant, NEW).pseudonym is None
    # An approved participant who renames: the consultants learn both names.
    assert outbox(db, CONSULTANTS) == []
    replies = await send(db, services, KARI, toolbox_of(KARI), "!pseudonym Green Leaf")
    assert "**Green Leaf**" in replies[0]
    (note,) = outbox(db, CONSULTANTS)
    assert "**Blue Bird**" in note and "**Green Leaf**" in note


async def test_unknown_community_lists_the_real_ones(db, services, port) -> None:
    setup(db, port)
    await send(db, services, NEW, DM, "!consent")
    (reply, *_) = await send(db, services, NEW, DM, "!community Atlantis")
    assert "North, South" in reply
    with db.session() as s:
        assert s.get(Participant, NEW).community is None


async def test_enroll_directly_and_refusals(db, services, port) -> None:
    setup(db, port, (KARI, "Kari"))
    (refused,) = await send(db, services, KARI, toolbox_of(KARI), "!enroll @x:localhost Someone North")
    assert "not available to you" in refused
    replies = await send(db, services, CONSULTANT, CONSULTANTS, "!enroll @ola:localhost Sea Otter south")
    assert "**Sea Otter** (South) is in" in replies[-1]
    replies = await send(db, services, CONSULTANT, CONSULTANTS, "!enroll @per:localhost Per Nowhere")
    assert "North, South" in replies[0]
    with db.session() as s:
        p = s.get(Participant, "@ola:localhost")
        assert p.status == "active" and p.community == "South" and p.approved_by == CONSULTANT
        assert s.get(Participant, "@per:localhost") is None


async def test_provider_room_has_exactly_participant_provider_and_bot(db, services, port) -> None:
    setup(db, port, (KARI, "Kari"))
    (reply,) = await send(db, services, CONSULTANT, CONSULTANTS, "!provider link Kari @gp:localhost")
    assert "not a registered provider" in reply
    (reply,) = await send(db, services, CONSULTANT, CONSULTANTS, "!providers add @gp:localhost")
    assert "registered as a health provider" in reply
    replies = await send(db, services, CONSULTANT, CONSULTANTS, "!provider link Kari @gp:localhost")
    assert "secure messages room for **Kari**" in replies[-1]
    with db.session() as s:
        assert s.get(Provider, "@gp:localhost").added_by == CONSULTANT
        room = find_room(s, RoomKind.PROVIDER, owner=KARI, partner="@gp:localhost")
    assert room is not None
    assert sorted(port.room_members[room.room_id]) == sorted([port.bot_user_id, KARI, "@gp:localhost"])
    spec = port.rooms[room.room_id]
    assert spec.encrypted and not spec.is_direct and spec.name == "Secure messages"
    assert "not for emergencies" in outbox(db, room.room_id)[0]
    (again,) = await send(db, services, CONSULTANT, CONSULTANTS, "!provider link Kari @gp:localhost")
    assert "already have" in again


async def test_leave_removes_from_shared_rooms(db, services, port) -> None:
    setup(db, port, (KARI, "Kari"))
    replies = await send(db, services, KARI, toolbox_of(KARI), "!leave")
    assert "left the community rooms" in replies[0]
    kicked = {room for room, user, _ in port.called("kick") if user == KARI}
    assert kicked == {SPACE, FORUM, CAFE_NORTH}
    with db.session() as s:
        assert s.get(Participant, KARI).status == "left"
    assert any("Kari" in b for b in outbox(db, CONSULTANTS))
