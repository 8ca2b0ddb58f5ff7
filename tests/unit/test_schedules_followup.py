"""After the café (issue 14, item 5): the morning after, "How was it?" once to each who said yes or
maybe (not on a break, not opted out, still a participant); its 👍 😐 👎 put under it once sent; only
the recipient's own reaction or reply under their own question counts; the consultant sees counts
only, under 3 suppressed; an answer counts as attendance where none was recorded."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from bot.models import EnrolmentStatus, Participant, SentEvent, UserPref
from bot.recurrence import OneOff
from schedules import cafes, followup, rsvp
from schedules.delivery import sweep, txn_for
from schedules.digest import digest_text
from schedules.models import Cafe, FollowupAnswer, ReminderLedger
from schedules.personal_data import erase_person, export_person
from schedules.reminders import user_tag
from schedules.stats import cafe_figures
from tests.support.core import make_context, queued
from tests.support.schedules import CONSULTANT, build_community, run, toolbox_of, user

UTC = timezone.utc
OSLO = ZoneInfo("Europe/Oslo")
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
STARTS = datetime(2026, 12, 10, 17, 0, tzinfo=UTC)  # Thursday 18:00 in Oslo
MORNING_AFTER = datetime(2026, 12, 11, 9, 0, tzinfo=UTC)  # Friday 10:00 in Oslo
PEOPLE = ("ann", "bob", "cat", "dan", "eve", "fay")


@pytest.fixture
def community(db):
    with db.session() as s:
        build_community(s, north=PEOPLE)
        cafe = cafes.schedule(s, community="North", rule=OneOff(STARTS), tz=OSLO, place="Library", topic=None,
                              by=CONSULTANT, now=T0)
        for name, answer in (("ann", "yes"), ("bob", "maybe"), ("cat", "no"), ("dan", "yes"), ("eve", "yes"),
                             ("fay", "yes")):
            rsvp.set_answer(s, cafe, user(name), answer, T0)
        followup.set_followup(s, user("dan"), False, T0)  # dan opted out
        s.add(UserPref(user_id=user("eve"), on_break=True))  # eve is on a break
        s.get(Participant, user("fay")).status = EnrolmentStatus.LEFT.value  # fay left
    return db


def run_sweep(db, services, now) -> list[tuple[str, dict[str, Any]]]:
    with db.session() as s:
        before = len(queued(s))
        sweep(s, services.settings, [], now, online_since=T0, speaker=services.speaker,
              digest_sources=[src for f in services.features for src in f.digest_sources])
        return queued(s)[before:]


def asked(messages) -> dict[str, dict[str, Any]]:
    return {room: c for room, c in messages if "How was the café" in c.get("body", "")
            or "Hvordan var kafeen" in c.get("body", "")}


def sent_as_event(db, name: str, cafe_id: int = 1) -> str:
    """What the sender records once the question to ``name`` went out: its event id."""
    event_id = f"$followup-{name}-{cafe_id}"
    with db.session() as s:
        s.add(SentEvent(txn_id=txn_for(f"{followup.KEY_PREFIX}{cafe_id}:{user_tag(user(name))}"),
                        event_id=event_id, room_id=toolbox_of(name)))
    return event_id


async def observe(db, services, sender: str, room_id: str, event_type: str, content: dict[str, Any],
                  event_id: str = "$answer") -> list[tuple[str, dict[str, Any]]]:
    """One event through every feature's observers of its type, as the dispatcher runs them."""
    with db.session() as s:
        before = len(queued(s))
        ctx = make_context(s, services, sender=sender, room_id=room_id, content=content, event_type=event_type,
                           event_id=event_id)
        for f in services.features:
            for observer in (f.message_observers if event_type == "m.room.message"
                             else f.event_observers.get(event_type, [])):
                await observer(ctx)
        return queued(s)[before:]


def reaction(target: str, key: str) -> dict[str, Any]:
    return {"m.relates_to": {"rel_type": "m.annotation", "event_id": target, "key": key}}


def reply(target: str, body: str) -> dict[str, Any]:
    return {"msgtype": "m.text", "body": body, "m.relates_to": {"m.in_reply_to": {"event_id": target}}}


async def test_the_morning_after_once_to_yes_and_maybe_only(community, services):
    run_sweep(community, services, T0)  # the bot ran before
    assert asked(run_sweep(community, services, STARTS + timedelta(hours=3))) == {}
    assert asked(run_sweep(community, services, MORNING_AFTER - timedelta(seconds=1))) == {}
    sent = asked(run_sweep(community, services, MORNING_AFTER))
    # cat said no, dan turned it off, eve is on a break, fay left.
    assert set(sent) == {toolbox_of("ann"), toolbox_of("bob")}
    question = sent[toolbox_of("ann")]
    assert question["msgtype"] == "m.text" and question["m.mentions"] == {"user_ids": [user("ann")]}
    assert "How was the café yesterday (Thursday 10 December at 18:00, Library)?" in question["body"]
    assert "👍" in question["body"] and "!cafe followup off" in question["body"]
    # Exactly once: the next sweep, and a restarted bot within the grace period, send nothing.
    assert asked(run_sweep(community, services, MORNING_AFTER + timedelta(seconds=5))) == {}
    assert asked(run_sweep(community, services, MORNING_AFTER + timedelta(hours=2))) == {}
    with community.session() as s:
        statuses = {row.user_id: row.status for row in s.scalars(
            select(ReminderLedger).where(ReminderLedger.key.like("cafe-followup:%")))}
    assert statuses == {user("ann"): "sent", user("bob"): "sent", user("eve"): "paused"}


async def test_in_norwegian_for_a_norwegian_reader(community, services):
    with community.session() as s:
        s.add(UserPref(user_id=user("ann"), language="nb"))
    run_sweep(community, services, T0)
    sent = asked(run_sweep(community, services, MORNING_AFTER))
    assert "Hvordan var kafeen i går (torsdag 10. desember kl. 18:00, Library)?" in sent[toolbox_of("ann")]["body"]
    assert "!cafe followup av" in sent[toolbox_of("ann")]["body"]


async def test_a_cancelled_cafe_is_not_followed_up(community, services):
    with community.session() as s:
        s.get(Cafe, 1).cancelled_at = T0 + timedelta(days=1)
    run_sweep(community, services, T0)
    assert asked(run_sweep(community, services, MORNING_AFTER)) == {}


async def test_the_reactions_are_put_under_the_question_once_it_is_sent(community, services):
    run_sweep(community, services, T0)
    first = run_sweep(community, services, MORNING_AFTER)
    assert not [c for _, c in first if "m.relates_to" in c]  # not sent yet: no event to react to
    question = sent_as_event(community, "ann")
    seeded = [(room, c) for room, c in run_sweep(community, services, MORNING_AFTER + timedelta(seconds=20))
              if "m.relates_to" in c]
    again = [c for _, c in run_sweep(community, services, MORNING_AFTER + timedelta(seconds=40)) if "m.relates_to" in c]
    assert again == []
    assert [(room, c["m.relates_to"]["key"]) for room, c in seeded] == [
        (toolbox_of("ann"), "👍"), (toolbox_of("ann"), "😐"), (toolbox_of("ann"), "👎")]
    assert {c["m.relates_to"]["event_id"] for _, c in seeded} == {question}


async def test_only_the_recipients_own_answer_under_their_own_question_counts(community, services):
    run_sweep(community, services, T0)
    run_sweep(community, services, MORNING_AFTER)
    ann_q, bob_q = sent_as_event(community, "ann"), sent_as_event(community, "bob")
    # Someone else's reaction on Ann's question, and Ann's on another event, count for nothing.
    assert await observe(community, services, user("bob"), toolbox_of("ann"), "m.reaction", reaction(ann_q, "👍")) == []
    assert await observe(community, services, user("ann"), toolbox_of("ann"), "m.reaction",
                         reaction("$other", "👍")) == []
    assert await observe(community, services, user("ann"), toolbox_of("ann"), "m.reaction", reaction(ann_q, "🤔")) == []
    # Bob's question seen from Ann's room is not hers either.
    assert await observe(community, services, user("ann"), toolbox_of("ann"), "m.reaction", reaction(bob_q, "👍")) == []
    with community.session() as s:
        assert s.scalars(select(FollowupAnswer)).all() == []
    (thanks,) = await observe(community, services, user("ann"), toolbox_of("ann"), "m.reaction",
                              reaction(ann_q, "👎\ufe0f"))
    assert thanks[1]["msgtype"] == "m.notice" and "Thank you" in thanks[1]["body"]
    await observe(community, services, user("ann"), toolbox_of("ann"), "m.reaction", reaction(ann_q, "👍"),
                  event_id="$later")
    (words,) = await observe(community, services, user("bob"), toolbox_of("bob"), "m.room.message",
                             reply(bob_q, "It was nice, a bit loud"))
    assert "Thank you for your words" in words[1]["body"]
    # A command sent as a reply is just a command, not an answer.
    await observe(community, services, user("bob"), toolbox_of("bob"), "m.room.message", reply(bob_q, "!goals"),
                  event_id="$cmd")
    with community.session() as s:
        answers = {a.user_id: (a.reaction, a.note) for a in s.scalars(select(FollowupAnswer))}
        assert answers == {user("ann"): ("good", None), user("bob"): (None, "It was nice, a bit loud")}
        stored = [tuple(r) for r in s.execute(text("SELECT reaction, note FROM cafe_followup_answer"))]
    # Sealed at rest: neither the reaction nor the words are readable in the database.
    assert all(v is None or v.startswith("v2:") for row in stored for v in row)
    assert not any("loud" in str(v) or v == "good" for row in stored for v in row)


async def test_the_consultant_sees_counts_only_and_small_ones_suppressed(community, services):
    run_sweep(community, services, T0)
    run_sweep(community, services, MORNING_AFTER)
    ann_q = sent_as_event(community, "ann")
    await observe(community, services, user("ann"), toolbox_of("ann"), "m.reaction", reaction(ann_q, "👍"))
    sources = [src for f in services.features for src in f.digest_sources]
    with community.session() as s:
        digest = digest_text(s, services.settings, MORNING_AFTER + timedelta(hours=1), services.speaker.say("en"),
                             sources)
        norsk = digest_text(s, services.settings, MORNING_AFTER + timedelta(hours=1), services.speaker.say("nb"),
                            sources)
    assert ("North, Thursday 10 December at 18:00, Library: asked fewer than 3 · 👍 fewer than 3 · "
            "😐 fewer than 3 · 👎 fewer than 3 · answered fewer than 3") in digest
    assert "svarte færre enn 3" in norsk
    assert "Ann" not in digest.split("After recent cafés")[1] and user("ann") not in digest
    # Three who answered 👍 show as 3; the rest stays suppressed.
    with community.session() as s:
        cafe = s.get(Cafe, 1)
        for name in ("bob", "cat"):
            followup.record_reaction(s, cafe.id, user(name), "good", MORNING_AFTER)
        followup.record_note(s, cafe.id, user("cat"), "private words", MORNING_AFTER)
        digest = digest_text(s, services.settings, MORNING_AFTER + timedelta(hours=1), services.speaker.say("en"),
                             sources)
    assert "👍 3 · 😐 fewer than 3 · 👎 fewer than 3 · answered 3" in digest
    assert "private words" not in digest
    # Two weeks on, the café leaves the digest.
    with community.session() as s:
        later = digest_text(s, services.settings, MORNING_AFTER + timedelta(days=15), services.speaker.say("en"),
                            sources)
    assert "After recent cafés" not in later


async def test_answers_count_as_attendance_only_where_none_was_recorded(community, services):
    with community.session() as s:
        cafe = s.get(Cafe, 1)
        for name in ("ann", "bob"):
            followup.record_reaction(s, cafe.id, user(name), "okay", MORNING_AFTER)
        followup.record_note(s, cafe.id, user("dan"), "good", MORNING_AFTER)
        (figure,) = cafe_figures(s, services.settings, T0, MORNING_AFTER)
        assert figure.attended == 3
        cafes.mark_attended(cafe, 9)
        (figure,) = cafe_figures(s, services.settings, T0, MORNING_AFTER)
        assert figure.attended == 9


async def test_followup_off_stops_the_next_one_and_on_again(community, services):
    (off,) = await run(community, services, user("ann"), toolbox_of("ann"), "!cafe followup off")
    assert "won't ask how the café was" in off[1]["body"]
    run_sweep(community, services, T0)
    assert toolbox_of("ann") not in asked(run_sweep(community, services, MORNING_AFTER))
    with community.session() as s:
        assert export_person(s, user("ann"))["cafe_followup"] == "off"
    (on,) = await run(community, services, user("ann"), toolbox_of("ann"), "!cafe followup på")
    assert "I'll ask how it was" in on[1]["body"]
    with community.session() as s:
        assert export_person(s, user("ann"))["cafe_followup"] == "on"
    (bad,) = (await run(community, services, user("ann"), toolbox_of("ann"), "!cafe followup maybe"))[:1]
    assert "on|off" in bad[1]["body"] or "on, off" in bad[1]["body"]


async def test_norwegian_followup_av(community, services):
    with community.session() as s:
        s.add(UserPref(user_id=user("bob"), language="nb"))
    (off,) = await run(community, services, user("bob"), toolbox_of("bob"), "!cafe followup av")
    assert "spør ikke lenger" in off[1]["body"]
    with community.session() as s:
        assert not followup.wants_followup(s, user("bob"))


async def test_answers_and_the_switch_are_exported_and_erased(community, services):
    run_sweep(community, services, T0)
    run_sweep(community, services, MORNING_AFTER)
    ann_q = sent_as_event(community, "ann")
    await observe(community, services, user("ann"), toolbox_of("ann"), "m.room.message", reply(ann_q, "Lovely tea"))
    await observe(community, services, user("ann"), toolbox_of("ann"), "m.reaction", reaction(ann_q, "😐"),
                  event_id="$r")
    await run(community, services, user("ann"), toolbox_of("ann"), "!cafe followup off")
    with community.session() as s:
        data = export_person(s, user("ann"))
        assert data["cafe_followup"] == "off"
        ((answer),) = data["cafe_followup_answers"]
        assert (answer["reaction"], answer["reply"]) == ("okay", "Lovely tea")
        json.dumps(data)
        erase_person(s, user("ann"))
    with community.session() as s:
        assert s.scalars(select(FollowupAnswer).where(FollowupAnswer.user_id == user("ann"))).all() == []
        data = export_person(s, user("ann"))
        assert data["cafe_followup"] == "on" and data["cafe_followup_answers"] == []
        assert s.scalar(select(ReminderLedger).where(ReminderLedger.user_id == user("ann"))) is None
