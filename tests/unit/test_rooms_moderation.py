"""Moderation by a consultant with the FakePort; reports and auto-hide; timed mutes ending."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.context import Services
from bot.db import utcnow
from rooms.lifecycle import housekeeping_once
from rooms.models import HiddenMessage, Mute
from tests.support.core import FakeRuntime, test_settings
from tests.support.rooms import (
    CAFE_NORTH,
    CAFE_SOUTH,
    CONSULTANTS,
    FORUM,
    SPACE,
    build_community,
    enrol,
    outbox,
    send,
    toolbox_of,
)

CONSULTANT = "@consultant:localhost"
ADMIN = "@admin:localhost"
KARI, OLA, PER, LIV = "@kari:localhost", "@ola:localhost", "@per:localhost", "@liv:localhost"
POST = "$post:localhost"


@pytest.fixture
def community(db, port):
    with db.session() as s:
        build_community(s, port)
        for user_id, name in ((KARI, "Kari"), (OLA, "Ola Nordmann"), (PER, "Per"), (LIV, "Liv")):
            enrol(s, user_id, name, port=port)
    port.events[(FORUM, POST)] = {"sender": OLA, "type": "m.room.message",
                                  "content": {"msgtype": "m.text", "body": "something hurtful"}}
    return db


def services_with(services: Services, **overrides) -> Services:
    return Services(settings=test_settings(**overrides), catalogue=services.catalogue, port=services.port,
                    router=services.router, features=services.features)


async def test_redact_by_reply_is_logged_and_echoed(community, services, port) -> None:
    db = community
    await send(db, services, CONSULTANT, FORUM, "!redact off-topic", reply_to=POST)
    assert (FORUM, POST, "off-topic") in port.called("redact")
    assert outbox(db, FORUM) == []  # the command itself is removed too; nothing new in the forum
    assert any(args[1] != POST for args in port.called("redact"))
    (echo,) = outbox(db, CONSULTANTS)
    assert "removed a message" in echo and "Ola Nordmann" in echo and "off-topic" in echo
    (log,) = await send(db, services, ADMIN, CONSULTANTS, "!modlog")
    assert "1. " in log and "removed a message" in log and "Ola Nordmann" in log


async def test_participants_cannot_moderate(community, services, port) -> None:
    db = community
    for body in ("!redact", "!pin", "!warn Ola hi", "!mute Ola 2h", "!kick Ola", "!ban Ola", "!announce hi"):
        assert await send(db, services, KARI, FORUM, body, reply_to=POST, event_id="$cmd") == []
        assert "not available to you" in outbox(db, toolbox_of(KARI))[-1], body
    # Only the commands themselves are removed from the forum (a staff command is, whoever types it).
    assert {args[:2] for args in port.called("redact")} == {(FORUM, "$cmd")}
    assert port.called("ban") == [] and port.called("set_power_level") == []


async def test_redact_without_reply_explains(community, services, port) -> None:
    assert await send(community, services, CONSULTANT, FORUM, "!redact", event_id="$cmd") == []
    assert "reply to the message" in outbox(community, CONSULTANTS)[-1]  # the consultant has no toolbox
    assert port.called("redact") == [(FORUM, "$cmd", None)]  # the command only


async def test_pin_adds_to_pinned_events(community, services, port) -> None:
    port.state[(FORUM, "m.room.pinned_events", "")] = {"pinned": ["$old"]}
    await send(community, services, CONSULTANT, FORUM, "!pin", reply_to=POST)
    assert port.state[(FORUM, "m.room.pinned_events", "")] == {"pinned": ["$old", POST]}


async def test_report_is_anonymous_and_links_the_message(community, services, port) -> None:
    db = community
    replies = await send(db, services, KARI, FORUM, "!report rude", reply_to=POST, event_id="$report1")
    assert replies == []  # nothing in the room
    assert (FORUM, "$report1", None) in port.called("redact")  # the report leaves no trace in the room
    assert outbox(db, FORUM) == []
    (alert,) = outbox(db, CONSULTANTS)
    assert f"https://matrix.to/#/{FORUM}/{POST}" in alert and "Kari" not in alert and KARI not in alert
    assert "Thank you for your report" in outbox(db, toolbox_of(KARI))[0]
    await send(db, services, KARI, FORUM, "!report again", reply_to=POST)
    assert "already reported" in outbox(db, toolbox_of(KARI))[-1]


async def test_three_reports_outside_staffed_hours_hide_the_message(community, services, port) -> None:
    db = community
    closed = services_with(services, moderation={"staffed_hours": "sun 03:00-03:01"})
    for reporter in (KARI, PER):
        await send(db, closed, reporter, FORUM, "!report", reply_to=POST)
    assert (FORUM, POST, "reported") not in port.called("redact")
    await send(db, closed, LIV, FORUM, "!report", reply_to=POST)
    assert (FORUM, POST, "reported") in port.called("redact")
    with db.session() as s:
        hidden = s.get(HiddenMessage, POST)
        assert hidden.text == "something hurtful" and hidden.author == OLA
    notice = outbox(db, CONSULTANTS)[-1]
    assert "Ola Nordmann" in notice and "something hurtful" not in notice
    assert "!warn Ola Nordmann" in notice  # the first step of the ladder, offered
    (listing,) = await send(db, closed, CONSULTANT, CONSULTANTS, "!hidden")
    assert "1. Ola Nordmann" in listing
    (shown,) = await send(db, closed, CONSULTANT, CONSULTANTS, "!hidden 1")
    assert "> something hurtful" in shown and "!hidden 1 restore" in shown and "!hidden 1 remove" in shown
    (still,) = await send(db, closed, CONSULTANT, CONSULTANTS, "!hidden")  # reading it decides nothing
    assert "1. Ola Nordmann" in still
    replies = await send(db, closed, CONSULTANT, CONSULTANTS, "!hidden 1 restore")
    assert any("Restored" in r for r in replies)
    (repost,) = outbox(db, FORUM)
    assert "**Ola Nordmann** wrote" in repost and "> something hurtful" in repost
    assert "put it back" in outbox(db, toolbox_of(OLA))[-1]
    (empty,) = await send(db, closed, CONSULTANT, CONSULTANTS, "!hidden")
    assert "No hidden messages" in empty
    (log,) = await send(db, closed, CONSULTANT, CONSULTANTS, "!modlog 1")
    assert "restored a hidden message" in log and "Ola Nordmann" in log


async def test_a_hidden_message_removal_is_confirmed_and_the_author_told(community, services, port) -> None:
    db = community
    closed = services_with(services, moderation={"staffed_hours": "sun 03:00-03:01"})
    for reporter in (KARI, PER, LIV):
        await send(db, closed, reporter, FORUM, "!report", reply_to=POST)
    replies = await send(db, closed, CONSULTANT, CONSULTANTS, "!hidden 1 fjern")
    assert any("removal of the message by **Ola Nordmann** is confirmed" in r for r in replies)
    assert outbox(db, FORUM) == []
    assert "stays removed" in outbox(db, toolbox_of(OLA))[-1] and "!contact" in outbox(db, toolbox_of(OLA))[-1]
    (missing,) = [r for r in await send(db, closed, CONSULTANT, CONSULTANTS, "!hidden 1 restore") if "no hidden" in r]
    assert "0 are waiting" in missing


async def test_a_message_by_staff_is_never_hidden_automatically(community, services, port) -> None:
    db = community
    closed = services_with(services, moderation={"staffed_hours": "sun 03:00-03:01"})
    for n, author in enumerate((CONSULTANT, ADMIN)):
        post = f"$staff{n}:localhost"
        port.events[(FORUM, post)] = {"sender": author, "type": "m.room.message",
                                      "content": {"msgtype": "m.text", "body": "Please keep it kind"}}
        for reporter in (KARI, PER, LIV):
            await send(db, closed, reporter, FORUM, "!report", reply_to=post)
        assert (FORUM, post, "reported") not in port.called("redact")
        with db.session() as s:
            assert s.get(HiddenMessage, post) is None
    assert len(outbox(db, CONSULTANTS)) == 6  # each report still reaches the consultants


async def test_reports_inside_staffed_hours_only_alert(community, services, port) -> None:
    db = community
    open_all_week = services_with(services, moderation={"staffed_hours": "mon-sun 00:00-23:59"})
    for reporter in (KARI, PER, LIV):
        await send(db, open_all_week, reporter, FORUM, "!report", reply_to=POST)
    assert (FORUM, POST, "reported") not in port.called("redact")
    assert len(outbox(db, CONSULTANTS)) == 3


async def test_warn_goes_privately_to_the_person(community, services, port) -> None:
    db = community
    await send(db, services, CONSULTANT, CONSULTANTS, "!warn Ola Nordmann Please keep it kind")
    (warning,) = outbox(db, toolbox_of(OLA))
    assert "Please keep it kind" in warning
    assert outbox(db, FORUM) == []
    (reply,) = await send(db, services, CONSULTANT, CONSULTANTS, "!warn Nobody hello")
    assert "can't find anyone called “Nobody”" in reply


async def test_timed_mute_ends_by_itself(community, services, port) -> None:
    db = community
    await send(db, services, CONSULTANT, CONSULTANTS, "!mute Per 2h")
    muted = {(room, level) for room, user, level in port.called("set_power_level") if user == PER}
    assert muted == {(FORUM, -1), (CAFE_NORTH, -1), (CAFE_SOUTH, -1)}
    assert "can't post in the community rooms until" in outbox(db, toolbox_of(PER))[0]
    assert any("**mute**" in m and "2h (until " in m for m in outbox(db, CONSULTANTS))
    app = FakeRuntime(db=db, port=port, settings=services.settings, services=services)
    await housekeeping_once(app)  # not due yet
    assert all(level == -1 for _, user, level in port.called("set_power_level") if user == PER)
    with db.session() as s:
        s.get(Mute, PER).until = utcnow() - timedelta(minutes=1)  # as after a restart past the end
    await housekeeping_once(app)
    lifted = {room for room, user, level in port.called("set_power_level") if user == PER and level is None}
    assert lifted == {FORUM, CAFE_NORTH, CAFE_SOUTH}
    with db.session() as s:
        assert s.get(Mute, PER) is None
    assert "post in the community rooms again" in outbox(db, toolbox_of(PER))[-1]
    assert "ended" in outbox(db, CONSULTANTS)[-1]


async def test_mute_unmute_and_bad_duration(community, services, port) -> None:
    db = community
    (reply,) = await send(db, services, CONSULTANT, CONSULTANTS, "!mute Per soonish")
    assert "couldn't read that length of time" in reply
    await send(db, services, CONSULTANT, CONSULTANTS, "!mute Per")
    with db.session() as s:
        assert s.get(Mute, PER).until is None
    await send(db, services, CONSULTANT, CONSULTANTS, "!unmute Per")
    assert any(user == PER and level is None for _, user, level in port.called("set_power_level"))
    (reply,) = await send(db, services, CONSULTANT, CONSULTANTS, "!unmute Per")
    assert "not muted" in reply


async def test_kick_ban_unban(community, services, port) -> None:
    db = community
    await send(db, services, CONSULTANT, CONSULTANTS, "!kick Liv spamming links")
    assert {room for room, user, _ in port.called("kick") if user == LIV} == {SPACE, FORUM, CAFE_NORTH}
    await send(db, services, CONSULTANT, CONSULTANTS, "!ban Ola Nordmann repeated abuse")
    banned = {room for room, user, _ in port.called("ban") if user == OLA}
    assert banned == {SPACE, FORUM, CAFE_NORTH, CAFE_SOUTH}
    assert "repeated abuse" in outbox(db, toolbox_of(OLA))[-1]
    await send(db, services, CONSULTANT, CONSULTANTS, "!unban Ola Nordmann")
    assert {room for room, user in port.called("unban") if user == OLA} == banned
    assert {room for room, user in port.called("invite") if user == OLA} >= {SPACE, FORUM, CAFE_NORTH}
    (log,) = await send(db, services, CONSULTANT, CONSULTANTS, "!modlog 2")
    assert "1. " in log and "2. " in log and "3. " not in log and "ban lifted" in log
    assert "times in Europe/Oslo" in log and "— —" not in log and "— \n" not in log + "\n"
    unban_line = next(line for line in log.splitlines() if "ban lifted" in line)
    assert unban_line.endswith("**ban lifted** — Ola Nordmann")  # no reason given: no empty field


async def test_announce_and_topic(community, services, port) -> None:
    db = community
    reply, echo = await send(db, services, CONSULTANT, CONSULTANTS, "!announce Café is moved to Friday")
    assert "3 rooms" in reply and "announcement" in echo
    for room in (FORUM, CAFE_NORTH, CAFE_SOUTH):
        assert "Café is moved to Friday" in outbox(db, room)[-1]
    await send(db, services, CONSULTANT, CONSULTANTS, "!topic What helped you this week?")
    assert "What helped you this week?" in outbox(db, FORUM)[-1] and "thread" in outbox(db, FORUM)[-1]


async def test_housekeeping_runs_per_app_and_stops_with_it(community, services, port) -> None:
    from rooms.lifecycle import Housekeeper

    keeper = Housekeeper(interval=0.01)
    first = FakeRuntime(db=community, port=port, settings=services.settings, services=services)
    second = FakeRuntime(db=community, port=port, settings=services.settings, services=services)
    stop_first = await keeper.start(first)
    stop_second = await keeper.start(second)
    await stop_first()
    wakes = second.wakes
    await asyncio.sleep(0.1)
    assert second.wakes > wakes  # the second bot's task still runs
    stopped_at = first.wakes
    await asyncio.sleep(0.05)
    assert first.wakes == stopped_at
    await stop_second()
