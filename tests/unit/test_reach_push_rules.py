"""Issue 12, item 1: what must reach someone makes their client notify; acknowledgements do not.

Clients evaluate push rules on the decrypted event (Element, FluffyChat), so this test runs the
default push rules — Synapse's own evaluator, the one the homeserver runs — on the content the bot
queues, as the intended reader:
- ``.m.rule.suppress_notices`` (an override, ahead of every mention rule) silences every ``m.notice``;
- in a two-member room (toolbox, direct chat) ``.m.rule.room_one_to_one`` notifies for ``m.text``;
- in a group room ``.m.rule.message`` notifies every member for ``m.text``, and ``.m.rule.is_user_mention``
  notifies *with highlight* the people named in ``m.mentions``, even when they set that room to
  "mentions only" (a room rule with no actions). Members not named keep their room setting: notified
  without highlight by default, silent in a mentions-only room. No message names ``@room``.

With ``RECONNECT_JS_SDK`` naming a ``node_modules`` folder that holds matrix-js-sdk (``npm install
matrix-js-sdk`` in a temporary folder), every evaluation is also made by the SDK's PushProcessor under
Node (``js_push_actions.mjs``) and must agree.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Collection, Mapping
from zoneinfo import ZoneInfo

import pytest
from synapse.push.bulk_push_rule_evaluator import _flatten_dict
from synapse.push.clientformat import format_push_rules_for_user
from synapse.synapse_rust.push import FilteredPushRules, PushRule, PushRuleEvaluator, PushRules
from synapse.types import UserID

from bot.context import Services
from bot.contracts import DueReminder
from bot.recurrence import OneOff
from schedules import cafes, rsvp
from schedules.delivery import sweep
from tests.support import rooms as community_support
from tests.support import schedules as cafe_support
from tests.support.core import queued

BOT = "@bot:localhost"
CONSULTANT = "@consultant:localhost"
UTC = timezone.utc


def _rules(room_id: str, mentions_only: bool) -> FilteredPushRules:
    """The default rules (plus, with ``mentions_only``, the room rule Element writes for "mentions
    and keywords": no actions)."""
    user_rules = []
    if mentions_only:
        user_rules.append(PushRule.from_db(f"global/room/{room_id}", 3,
                                           f'[{{"kind":"event_match","key":"room_id","pattern":"{room_id}"}}]', "[]"))
    return FilteredPushRules(PushRules(user_rules), {}, False, False, False, False, False, False, False)


def push_actions(content: Mapping[str, Any], *, reader: str, room_id: str, members: int,
                 mentions_only: bool = False) -> Collection[Any]:
    """The actions of the first matching push rule for ``reader``, by Synapse's evaluator."""
    event = {"type": "m.room.message", "room_id": room_id, "sender": BOT, "content": dict(content)}
    evaluator = PushRuleEvaluator(_flatten_dict(event), "m.mentions" in content, members, 100, {"room": 50}, {},
                                  False, [], False, False, False)
    return evaluator.run(_rules(room_id, mentions_only), reader, reader[1:].split(":")[0].title(), None)


JS_SDK = os.environ.get("RECONNECT_JS_SDK")


def js_verdict(content: Mapping[str, Any], *, reader: str, room_id: str, members: int,
               mentions_only: bool = False) -> dict[str, bool]:
    """What matrix-js-sdk's PushProcessor makes of the same event and rules."""
    rules = format_push_rules_for_user(UserID.from_string(reader), _rules(room_id, mentions_only))
    payload = {"rules": rules, "reader": reader, "room_id": room_id, "members": members,
               "event": {"type": "m.room.message", "sender": BOT, "content": dict(content)}}
    out = subprocess.run(["node", str(Path(__file__).with_name("js_push_actions.mjs"))], input=json.dumps(payload),
                         capture_output=True, text=True, check=True, timeout=60)
    verdict: dict[str, bool] = json.loads(out.stdout)
    return verdict


def _verdict(content: Mapping[str, Any], **kw: Any) -> dict[str, bool]:
    actions = push_actions(content, **kw)
    verdict = {"notify": "notify" in actions,
               "highlight": any(isinstance(a, dict) and a.get("set_tweak") == "highlight" and a.get("value", True)
                                for a in actions)}
    if JS_SDK:
        assert js_verdict(content, **kw) == verdict, (content, kw)
    return verdict


def notifies(content: Mapping[str, Any], **kw: Any) -> bool:
    return _verdict(content, **kw)["notify"]


def highlights(content: Mapping[str, Any], **kw: Any) -> bool:
    return _verdict(content, **kw)["highlight"]


def reaches(content: Mapping[str, Any], reader: str, room_id: str, members: int) -> bool:
    """Notifies the reader: in a two-member room by being m.text, in a group room by naming them
    (so it notifies with highlight even where they chose "mentions only")."""
    if content["msgtype"] != "m.text" or "@room" in content.get("body", ""):
        return False
    if members == 2:
        return notifies(content, reader=reader, room_id=room_id, members=2)
    return (highlights(content, reader=reader, room_id=room_id, members=members)
            and notifies(content, reader=reader, room_id=room_id, members=members, mentions_only=True))


def quiet(content: Mapping[str, Any], reader: str, room_id: str, members: int) -> bool:
    return (content["msgtype"] == "m.notice" and content["m.mentions"] == {}
            and not notifies(content, reader=reader, room_id=room_id, members=members))


def test_the_evaluator_is_the_default_rules() -> None:
    """The premise: a notice never notifies, even naming the reader; m.text does."""
    notice = {"msgtype": "m.notice", "body": "x", "m.mentions": {"user_ids": ["@ann:localhost"]}}
    text = {"msgtype": "m.text", "body": "x", "m.mentions": {}}
    assert not notifies(notice, reader="@ann:localhost", room_id="!r:x", members=2)
    assert notifies(text, reader="@ann:localhost", room_id="!r:x", members=2)
    assert not notifies(text, reader="@ann:localhost", room_id="!r:x", members=5, mentions_only=True)


# --- the community: invitations, warnings, mutes, bans, alerts ----------------------------------

KARI, OLA, PER, LIV = "@kari:localhost", "@ola:localhost", "@per:localhost", "@liv:localhost"
POST = "$post:localhost"
TOOLBOX = community_support.toolbox_of


@pytest.fixture
def community(db, port):
    with db.session() as s:
        community_support.build_community(s, port)
        for user_id, name in ((KARI, "Kari"), (OLA, "Ola"), (PER, "Per"), (LIV, "Liv")):
            community_support.enrol(s, user_id, name, port=port)
    port.events[(community_support.FORUM, POST)] = {
        "sender": OLA, "type": "m.room.message", "content": {"msgtype": "m.text", "body": "something"}}
    return db


def latest(db, room_id: str) -> dict[str, Any]:
    with db.session() as s:
        return [c for r, c in queued(s) if r == room_id][-1]


async def say(db, services: Services, sender: str, room_id: str, body: str, **kw: Any) -> None:
    await community_support.send(db, services, sender, room_id, body, **kw)


async def test_reveal_and_circle_invitations_reach_the_invitee(community, services, port) -> None:
    db = community
    await say(db, services, KARI, TOOLBOX(KARI), "!reveal Ola I'm Anna")
    assert reaches(latest(db, TOOLBOX(OLA)), OLA, TOOLBOX(OLA), members=2)
    assert quiet(latest(db, TOOLBOX(KARI)), KARI, TOOLBOX(KARI), members=2)  # "I've asked Ola"
    await say(db, services, OLA, TOOLBOX(OLA), "!decline")
    await say(db, services, KARI, TOOLBOX(KARI), "!circle create Walkers with Ola, Per")
    for person in (OLA, PER):
        assert reaches(latest(db, TOOLBOX(person)), person, TOOLBOX(person), members=2)
    await say(db, services, OLA, TOOLBOX(OLA), "!accept")
    ((circle, _),) = port.called("create_room")
    welcome = latest(db, circle)
    for person in (KARI, OLA):  # a group room: both are named
        assert reaches(welcome, person, circle, members=3)
    assert welcome["m.mentions"] == {"user_ids": sorted([KARI, OLA])}


async def test_warning_mute_and_ban_reach_the_person_and_the_echo_stays_quiet(community, services) -> None:
    db = community
    consultants = community_support.CONSULTANTS
    for command in ("!warn Per please be kind", "!mute Per 2h", "!unmute Per", "!ban Per spam", "!unban Per"):
        await say(db, services, CONSULTANT, consultants, command)
        assert reaches(latest(db, TOOLBOX(PER)), PER, TOOLBOX(PER), members=2), command
        assert quiet(latest(db, consultants), CONSULTANT, consultants, members=3), command  # the log echo


async def test_crisis_reply_and_alert_reach_the_person_and_the_consultant(community, services) -> None:
    db = community
    await say(db, services, PER, community_support.FORUM, "I just want to die tonight", event_id="$crisis")
    assert reaches(latest(db, TOOLBOX(PER)), PER, TOOLBOX(PER), members=2)
    alert = latest(db, community_support.CONSULTANTS)
    assert reaches(alert, CONSULTANT, community_support.CONSULTANTS, members=3)
    assert alert["m.mentions"] == {"user_ids": [CONSULTANT]}  # the configured consultants, never @room


async def test_report_alert_reaches_the_consultant_and_the_thanks_stays_quiet(community, services) -> None:
    db = community
    await say(db, services, KARI, community_support.FORUM, "!report rude", reply_to=POST)
    assert reaches(latest(db, community_support.CONSULTANTS), CONSULTANT, community_support.CONSULTANTS, members=3)
    assert quiet(latest(db, TOOLBOX(KARI)), KARI, TOOLBOX(KARI), members=2)


@pytest.mark.parametrize("command", ["!help", "!whoami", "!revealed", "!goals", "!goal add walk daily"])
async def test_acknowledgements_help_and_listings_stay_quiet(community, services, command) -> None:
    await say(community, services, KARI, TOOLBOX(KARI), command)
    assert quiet(latest(community, TOOLBOX(KARI)), KARI, TOOLBOX(KARI), members=2)


# --- time: reminders, digest, buddy introductions -----------------------------------------------

OSLO = ZoneInfo("Europe/Oslo")
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
STARTS = datetime(2026, 12, 10, 17, 0, tzinfo=UTC)
ANN, BOB, CAT = cafe_support.user("ann"), cafe_support.user("bob"), cafe_support.user("cat")


@pytest.fixture
def cafe(db):
    with db.session() as s:
        cafe_support.build_community(s)
        planned = cafes.schedule(s, community="North", rule=OneOff(STARTS), tz=OSLO, place="Library", topic=None,
                                 by=CONSULTANT, now=T0)
        rsvp.set_answer(s, planned, ANN, "yes", T0)
        rsvp.set_answer(s, planned, BOB, "maybe", T0)
        rsvp.set_answer(s, planned, CAT, "no", T0)
    return db


def run_sweep(db, services: Services, now: datetime, sources=()) -> list[tuple[str, dict[str, Any]]]:
    with db.session() as s:
        before = len(queued(s))
        sweep(s, services.settings, list(sources), now, online_since=T0, speaker=services.speaker,
              digest_sources=[src for f in services.features for src in f.digest_sources])
        return queued(s)[before:]


def in_room(sent: list[tuple[str, dict[str, Any]]], room_id: str) -> dict[str, Any]:
    (content,) = [c for r, c in sent if r == room_id]
    return content


async def test_cafe_room_reminder_names_those_coming(cafe, services) -> None:
    run_sweep(cafe, services, T0)
    room = cafe_support.CAFE_NORTH
    reminder = in_room(run_sweep(cafe, services, STARTS - timedelta(days=3) + timedelta(seconds=1)), room)
    assert reminder["m.mentions"] == {"user_ids": sorted([ANN, BOB])}
    for person in (ANN, BOB):
        assert reaches(reminder, person, room, members=5)
    # Cat said no: the room's own setting decides (default: an ordinary notification; "mentions only": none).
    assert not highlights(reminder, reader=CAT, room_id=room, members=5)
    assert not notifies(reminder, reader=CAT, room_id=room, members=5, mentions_only=True)


async def test_private_cafe_reminder_reaches_each_yes_and_maybe(cafe, services) -> None:
    run_sweep(cafe, services, T0)
    sent = run_sweep(cafe, services, STARTS - timedelta(hours=2))
    for name, person in (("ann", ANN), ("bob", BOB)):
        assert reaches(in_room(sent, cafe_support.toolbox_of(name)), person, cafe_support.toolbox_of(name), members=2)


async def test_activity_and_medication_reminders_reach_the_person(cafe, services) -> None:
    due = T0 + timedelta(hours=1)

    def source(session, start, end):
        return [r for r in (DueReminder("toolbox.activity:1", ANN, due, "toolbox.reminder.activity", {"text": "walk"}),
                            DueReminder("toolbox.med:1", BOB, due, "toolbox.reminder.med", {"name": "x", "dose": "1"}))
                if start <= r.due_at < end]

    run_sweep(cafe, services, T0, [source])
    sent = run_sweep(cafe, services, due + timedelta(seconds=1), [source])
    for name, person in (("ann", ANN), ("bob", BOB)):
        assert reaches(in_room(sent, cafe_support.toolbox_of(name)), person, cafe_support.toolbox_of(name), members=2)


async def test_scheduled_digest_reaches_the_consultants(cafe, services) -> None:
    run_sweep(cafe, services, T0)
    settings = services.settings
    clock = datetime.combine(T0.astimezone(ZoneInfo(settings.schedules.digest_timezone)).date() + timedelta(days=1),
                             datetime.strptime(settings.schedules.digest_time, "%H:%M").time(),
                             tzinfo=ZoneInfo(settings.schedules.digest_timezone))
    sent = run_sweep(cafe, services, clock.astimezone(UTC) + timedelta(seconds=1))
    room = cafe_support.CONSULTANT_ROOM
    assert reaches(in_room(sent, room), CONSULTANT, room, members=3)


async def test_buddy_introduction_reaches_both(cafe, services, port) -> None:
    await cafe_support.run(cafe, services, ANN, cafe_support.toolbox_of("ann"), "!cafe buddy")
    sent = await cafe_support.run(cafe, services, BOB, cafe_support.toolbox_of("bob"), "!cafe buddy 1")
    ((room_id, _),) = port.called("create_room")
    intro = in_room(sent, room_id)
    for person in (ANN, BOB):
        assert reaches(intro, person, room_id, members=3)
    assert reaches(in_room(sent, cafe_support.toolbox_of("ann")), ANN, cafe_support.toolbox_of("ann"), members=2)
    assert quiet(in_room(sent, cafe_support.toolbox_of("bob")), BOB, cafe_support.toolbox_of("bob"), members=2)


async def test_cafe_listing_and_rsvp_stay_quiet(cafe, services) -> None:
    for body in ("!cafe", "!rsvp yes"):
        sent = await cafe_support.run(cafe, services, CAT, cafe_support.toolbox_of("cat"), body)
        assert quiet(in_room(sent, cafe_support.toolbox_of("cat")), CAT, cafe_support.toolbox_of("cat"), members=2)



async def test_an_alerting_reply_in_a_shared_room_names_its_sender(community, services) -> None:
    from tests.support.core import make_context

    with community.session() as s:
        ctx = make_context(s, services, sender=KARI, room_id=community_support.FORUM, body="!x")
        ctx.reply("rooms.report.thanks", alert=True)
        ctx.reply("rooms.report.thanks")
        alert, ack = (m["content"] for m in ctx.sent)
    assert reaches(alert, KARI, community_support.FORUM, members=20)
    assert quiet(ack, KARI, community_support.FORUM, members=20)
