"""Buddy by what you share (issue 14, item 6): ``!cafe buddy walking, music`` prefers someone
waiting who named a shared interest, else matches as before (still respecting blocks); interests
are normalised, limited, sealed at rest, exported and erased; the introduction names only the
shared ones."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from bot.db import utcnow
from bot.errors import Invalid
from bot.models import UserPref
from schedules import matching
from schedules.models import CompanionRequest
from schedules.personal_data import erase_person, export_person
from tests.support.schedules import CONSULTANT, CONSULTANT_ROOM, bodies, build_community, run, toolbox_of, user

WHEN = f"{(utcnow() + timedelta(days=10)).date().isoformat()} 18:00"
PEOPLE = ("ann", "bob", "cat", "dan")


@pytest.fixture
async def community(db, services):
    with db.session() as s:
        build_community(s, north=PEOPLE)
    await run(db, services, CONSULTANT, CONSULTANT_ROOM, f"!cafe schedule North {WHEN} Library")
    return db


def intro_of(port, queued_messages, first: str, second: str) -> str:
    ((room_id, spec),) = port.called("create_room")
    assert set(spec.invite) == {user(first), user(second)}
    return "\n".join(c["body"] for room, c in queued_messages if room == room_id)


def test_interests_are_normalised_and_limited():
    assert matching.parse_interests("Walking,  MUSIC ; gå  Tur, music!") == ["walking", "music", "gå tur"]
    assert matching.parse_interests(None) == [] and matching.parse_interests(" , ,") == []
    assert matching.parse_interests("ＭＵＳＩＫＫ") == ["musikk"]  # full-width letters, as some keyboards type
    with pytest.raises(Invalid) as too_many:
        matching.parse_interests("a, b, c, d, e, f")
    assert too_many.value.key == "schedules.buddy.too_many_interests"
    with pytest.raises(Invalid) as too_long:
        matching.parse_interests("x" * 41)
    assert too_long.value.key == "schedules.buddy.interest_too_long"


async def test_a_shared_interest_is_preferred_over_the_longest_waiting(community, services, port):
    # Ann and Bob wait together (Ann blocked Bob, so they are never paired with each other).
    await run(community, services, user("ann"), toolbox_of("ann"), "!block Bob")
    await run(community, services, user("ann"), toolbox_of("ann"), "!cafe buddy Walking, knitting")
    await run(community, services, user("bob"), toolbox_of("bob"), "!cafe buddy music, chess")
    assert port.called("create_room") == []
    # Cat shares music with Bob, who waited less long than Ann: Bob it is.
    sent = await run(community, services, user("cat"), toolbox_of("cat"), "!cafe buddy MUSIC, cooking")
    intro = intro_of(port, sent, "bob", "cat")
    assert "You both mentioned: music." in intro
    # Only what both named: nothing of Bob's chess or Cat's cooking.
    assert "chess" not in intro and "cooking" not in intro
    assert any("matched with Bob" in b for b in bodies(sent, toolbox_of("cat")))


async def test_without_a_shared_interest_the_match_is_made_as_before(community, services, port):
    await run(community, services, user("ann"), toolbox_of("ann"), "!cafe buddy walking")
    sent = await run(community, services, user("bob"), toolbox_of("bob"), "!cafe buddy chess")
    intro = intro_of(port, sent, "ann", "bob")
    assert "mentioned" not in intro and "walking" not in intro and "chess" not in intro


async def test_blocks_still_hold_over_a_shared_interest(community, services, port):
    await run(community, services, user("ann"), toolbox_of("ann"), "!block Bob")
    await run(community, services, user("ann"), toolbox_of("ann"), "!cafe buddy music")
    (reply,) = bodies(await run(community, services, user("bob"), toolbox_of("bob"), "!cafe buddy music"))
    assert "I'll put you in touch" in reply and port.called("create_room") == []


async def test_norwegian_words_match_and_the_intro_is_in_norwegian(community, services, port):
    with community.session() as s:
        for name in ("ann", "bob"):
            s.add(UserPref(user_id=user(name), language="nb"))
    await run(community, services, user("ann"), toolbox_of("ann"), "!cafe buddy Gå tur, strikking")
    sent = await run(community, services, user("bob"), toolbox_of("bob"), "!cafe buddy gå  TUR")
    assert "Dere nevnte begge: gå tur." in intro_of(port, sent, "ann", "bob")


async def test_too_many_interests_get_a_polite_usage_reply(community, services, port):
    (reply,) = bodies(await run(community, services, user("ann"), toolbox_of("ann"),
                                "!cafe buddy a, b, c, d, e, f"))
    assert "at most 5 interests" in reply and "!cafe buddy walking, music" in reply
    with community.session() as s:
        assert s.scalars(select(CompanionRequest)).all() == []  # nothing was recorded
    said = "\n".join(bodies(await run(community, services, user("ann"), toolbox_of("ann"), "!cafe buddy " + "x" * 300)))
    assert "!cafe buddy [N] [INTERESTS]" in said  # the router's usage line, after saying it is too long


async def test_interests_are_sealed_exported_and_erased(community, services):
    await run(community, services, user("ann"), toolbox_of("ann"), "!cafe buddy 1 walking, music")
    with community.session() as s:
        (stored,) = [r[0] for r in s.execute(text("SELECT interests FROM cafe_companion_request"))]
        assert stored.startswith("v2:") and "walking" not in stored
        (request,) = export_person(s, user("ann"))["cafe_companion_requests"]
        assert request["interests"] == ["walking", "music"]
        erase_person(s, user("ann"))
    with community.session() as s:
        assert s.scalars(select(CompanionRequest)).all() == []
