"""!contact and !answer: a line from a participant to the peer consultants, one thread per person,
answered privately; texts that send people to the consultant name !contact."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.models import EnrolmentStatus, Participant, SentEvent
from rooms.models import ContactThread
from tests.support.core import queued
from tests.support.rooms import CONSULTANTS, FORUM, build_community, enrol, send, toolbox_of

CONSULTANT = "@consultant:localhost"
KARI, OLA = "@kari:localhost", "@ola:localhost"
DM = "!dm-kari:localhost"


@pytest.fixture
def community(db, port):
    with db.session() as s:
        build_community(s, port)
        enrol(s, KARI, "Kari")
        enrol(s, OLA, "Ola")
    return db


def consultant_room(db) -> list[dict]:
    with db.session() as s:
        return [c for r, c in queued(s) if r == CONSULTANTS]


async def test_contact_goes_to_the_consultant_room_as_text_under_the_pseudonym(community, services) -> None:
    (ack,) = await send(community, services, KARI, toolbox_of(KARI), "!contact Can I move to the South café?")
    assert "Sent to the peer consultants" in ack and "113" in ack
    (msg,) = consultant_room(community)
    assert msg["msgtype"] == "m.text"  # a notice would never notify the consultant
    assert "**Kari**" in msg["body"] and "Can I move to the South café?" in msg["body"]
    assert "!answer Kari TEXT" in msg["body"]
    assert KARI not in msg["body"]  # the pseudonym, never the Matrix id


async def test_later_messages_go_into_the_person_s_thread(community, services) -> None:
    await send(community, services, KARI, toolbox_of(KARI), "!contact first")
    with community.session() as s:
        thread = s.get(ContactThread, KARI)
        assert thread is not None
        s.add(SentEvent(txn_id=thread.root_txn, event_id="$root", room_id=CONSULTANTS))
    await send(community, services, KARI, toolbox_of(KARI), "!contact second")
    await send(community, services, OLA, toolbox_of(OLA), "!contact from Ola")
    first, second, ola = consultant_room(community)
    assert "m.relates_to" not in first
    assert second["m.relates_to"]["rel_type"] == "m.thread" and second["m.relates_to"]["event_id"] == "$root"
    assert "second" in second["body"] and second["msgtype"] == "m.text"
    assert "m.relates_to" not in ola  # Ola gets a thread of their own
    with community.session() as s:
        assert len(s.scalars(select(ContactThread)).all()) == 2


async def test_answer_arrives_privately_as_text(community, services) -> None:
    await send(community, services, KARI, toolbox_of(KARI), "!contact hello")
    (ack,) = await send(community, services, CONSULTANT, CONSULTANTS, "!answer Kari Yes, of course. See you Friday.")
    assert "Sent privately to **Kari**" in ack
    with community.session() as s:
        (answer,) = [c for r, c in queued(s) if r == toolbox_of(KARI) and "consultant answers" in c["body"]]
    assert answer["msgtype"] == "m.text" and "See you Friday." in answer["body"] and "!contact" in answer["body"]


async def test_answer_reaches_someone_without_a_toolbox_in_their_direct_chat(community, services) -> None:
    with community.session() as s:
        s.add(Participant(user_id="@new:localhost", status=EnrolmentStatus.PENDING.value, pseudonym="Newbie",
                          pseudonym_key="newbie", community="North"))
    await send(community, services, "@new:localhost", DM, "!contact when will I be approved?")
    await send(community, services, CONSULTANT, CONSULTANTS, "!answer Newbie Today!")
    with community.session() as s:
        assert any(r == DM and "Today!" in c["body"] for r, c in queued(s))


async def test_contact_is_refused_where_it_does_not_belong(community, services) -> None:
    assert await send(community, services, KARI, FORUM, "!contact hi") == []
    from tests.support.rooms import outbox
    reply = outbox(community, toolbox_of(KARI))[-1]
    assert "!contact" in reply or "toolbox" in reply.lower() or "direct chat" in reply.lower()
    assert consultant_room(community) == []
    replies = await send(community, services, KARI, toolbox_of(KARI), "!contact")
    assert any("!contact TEXT" in r for r in replies)
    (reply,) = await send(community, services, "@stranger:localhost", DM, "!contact hi")
    assert "chosen a pseudonym" in reply
    (reply,) = await send(community, services, CONSULTANT, CONSULTANTS, "!answer Kari")
    assert "What would you like to answer" in reply
    (reply,) = await send(community, services, KARI, toolbox_of(KARI), "!answer Ola hi")
    assert "not available to you" in reply
    assert [m for m in consultant_room(community) if m["msgtype"] == "m.text"] == []


async def test_contact_thread_is_erased_with_the_person(community, services) -> None:
    from rooms.personal_data import erase, export
    await send(community, services, KARI, toolbox_of(KARI), "!contact hello")
    with community.session() as s:
        assert export(s, KARI)["contact_thread_opened"] is not None
        erase(s, KARI)
    with community.session() as s:
        assert s.get(ContactThread, KARI) is None


def test_every_send_to_the_consultant_notice_names_contact(services) -> None:
    for lang in ("en", "nb"):
        for key in ("rooms.enrol.community_fixed", "rooms.enrol.left", "rooms.mod.muted_you",
                    "rooms.mod.muted_you_open", "rooms.mod.kicked_you", "rooms.mod.banned_you",
                    "rooms.enrol.moved_note"):
            text = services.speaker.t(lang, key, until="tomorrow", reason="x")
            assert "!contact" in text, (lang, key)
