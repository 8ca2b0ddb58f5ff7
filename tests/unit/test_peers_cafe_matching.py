"""Café buddies and rides respect who may reach whom (issue 11, finding 6): a banned or muted
participant is refused, and nobody is matched with someone who blocked them or whom they blocked.
Schedules asks through the PeerCheck contract; rooms answers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.db import utcnow
from tests.support.schedules import CONSULTANT, CONSULTANT_ROOM, bodies, build_community, run, toolbox_of, user

WHEN = f"{(utcnow() + timedelta(days=10)).date().isoformat()} 18:00"


@pytest.fixture
async def community(db, services):
    with db.session() as s:
        build_community(s)
    await run(db, services, CONSULTANT, CONSULTANT_ROOM, f"!cafe schedule North {WHEN} Library")
    return db


async def test_a_banned_or_muted_person_is_not_matched(community, services, port):
    await run(community, services, CONSULTANT, CONSULTANT_ROOM, "!ban Bob")
    (reply,) = bodies(await run(community, services, user("bob"), toolbox_of("bob"), "!cafe buddy"))
    assert "banned" in reply and "match you" in reply
    await run(community, services, user("ann"), toolbox_of("ann"), "!cafe ride need")
    (reply,) = bodies(await run(community, services, user("bob"), toolbox_of("bob"), "!cafe ride offer 2"))
    assert "banned" in reply
    await run(community, services, CONSULTANT, CONSULTANT_ROOM, "!mute Cat")
    (reply,) = bodies(await run(community, services, user("cat"), toolbox_of("cat"), "!cafe ride offer 2"))
    assert "muted" in reply
    assert port.called("create_room") == []


async def test_someone_banned_after_asking_is_skipped(community, services, port):
    await run(community, services, user("bob"), toolbox_of("bob"), "!cafe buddy")
    await run(community, services, CONSULTANT, CONSULTANT_ROOM, "!ban Bob")
    (reply,) = bodies(await run(community, services, user("ann"), toolbox_of("ann"), "!cafe buddy"))
    assert "I'll put you in touch" in reply and port.called("create_room") == []


async def test_blocked_people_are_never_paired(community, services, port):
    await run(community, services, user("ann"), toolbox_of("ann"), "!block Bob")
    await run(community, services, user("ann"), toolbox_of("ann"), "!cafe buddy")
    # Bob waits instead of being paired with Ann, and learns nothing of the block.
    (reply,) = bodies(await run(community, services, user("bob"), toolbox_of("bob"), "!cafe buddy"))
    assert "I'll put you in touch" in reply and port.called("create_room") == []
    # Cat is paired with Ann, the longest waiting.
    await run(community, services, user("cat"), toolbox_of("cat"), "!cafe buddy")
    ((_, spec),) = port.called("create_room")
    assert set(spec.invite) == {user("ann"), user("cat")}
    # Rides: Bob, blocked by Ann, is not given a seat in her car; the blocker is not offered his.
    port.calls.clear()
    await run(community, services, user("bob"), toolbox_of("bob"), "!cafe ride need")
    (reply,) = bodies(await run(community, services, user("ann"), toolbox_of("ann"), "!cafe ride offer 3"))
    assert "seat" in reply and port.called("create_room") == []


async def test_a_match_never_names_anyone_by_their_matrix_id(community, services, port):
    """The newcomer trial: a peer without a pseudonym was named by their Matrix id in the buddy
    room and in the other's reply (the community is pseudonymous)."""
    from bot.models import Participant
    with community.session() as s:
        s.get(Participant, user("ann")).pseudonym = None
    await run(community, services, user("ann"), toolbox_of("ann"), "!cafe buddy")
    sent = await run(community, services, user("bob"), toolbox_of("bob"), "!cafe buddy")
    ((_, spec),) = port.called("create_room")
    assert set(spec.invite) == {user("ann"), user("bob")}
    texts = bodies(sent)
    assert texts and not [t for t in texts if "@ann" in t or "localhost" in t]
    (intro,) = [t for t in texts if t.startswith("Hello")]
    assert "a fellow participant and Bob" in intro
    # Rides too, and in the reader's language.
    await run(community, services, user("cat"), toolbox_of("cat"), "!lang nb")
    await run(community, services, user("ann"), toolbox_of("ann"), "!cafe ride offer 1")
    texts = bodies(await run(community, services, user("cat"), toolbox_of("cat"), "!cafe ride need"))
    assert texts and not [t for t in texts if "@ann" in t or "localhost" in t]
    assert any("en annen deltaker" in t for t in texts)
