"""Reminders and the ledger: on time, exactly once, late after downtime, skipped beyond the
grace period, paused on a break; and the scheduler's one job per reminder."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.contracts import DueReminder
from bot.feature import Feature
from bot.models import ManagedRoom, OutboxMessage, SentEvent, UserPref
from bot.recurrence import OneOff
from schedules import cafes, rsvp
from schedules.delivery import Status, sweep, txn_for
from schedules.jobs import HORIZON, Scheduler
from schedules.models import Cafe, ReminderLedger
from tests.support.core import FakePort, FakeRuntime, queued, test_settings
from tests.support.schedules import CAFE_NORTH, CONSULTANT_ROOM, FORUM, build_community, toolbox_of, user

UTC = timezone.utc
OSLO = ZoneInfo("Europe/Oslo")
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
STARTS = datetime(2026, 12, 10, 17, 0, tzinfo=UTC)  # Thursday 18:00 in Oslo


@pytest.fixture
def community(db):
    with db.session() as s:
        build_community(s)
        cafe = cafes.schedule(s, community="North", rule=OneOff(STARTS), tz=OSLO, place="Library", topic=None,
                              by="@consultant:localhost", now=T0)
        rsvp.set_answer(s, cafe, user("ann"), "yes", T0)
        rsvp.set_answer(s, cafe, user("bob"), "maybe", T0)
        rsvp.set_answer(s, cafe, user("cat"), "no", T0)
    return db


def run_sweep(db, services, now, *, online_since=None, sources=()):
    """One sweep in its own transaction; returns (room, body) of what it queued."""
    with db.session() as s:
        before = len(queued(s))
        sweep(s, services.settings, list(sources), now, online_since=online_since or T0, speaker=services.speaker,
              digest_sources=[src for f in services.features for src in f.digest_sources])
        return [(room, content["body"]) for room, content in queued(s)[before:]]


def only(messages, room):
    return [body for r, body in messages if r == room]


async def test_cafe_reminders_arrive_on_time_exactly_once(community, services):
    three_days = STARTS - timedelta(days=3)
    sent = run_sweep(community, services, three_days + timedelta(seconds=1))
    (room_reminder,) = only(sent, CAFE_NORTH)
    assert room_reminder.startswith("☕ Reminder: café for North on Thursday 10 December at 18:00, Library")
    assert run_sweep(community, services, three_days + timedelta(seconds=5)) == []
    morning = datetime(2026, 12, 10, 8, 0, tzinfo=UTC)  # 09:00 in Oslo
    sent = run_sweep(community, services, morning)
    assert len(only(sent, CAFE_NORTH)) == 1 and not only(sent, toolbox_of("ann"))
    sent = run_sweep(community, services, STARTS - timedelta(hours=2))
    assert "gentle reminder: the café is on Thursday 10 December at 18:00" in only(sent, toolbox_of("ann"))[0]
    assert len(only(sent, toolbox_of("bob"))) == 1  # maybe
    assert only(sent, toolbox_of("cat")) == []  # no
    assert "(late)" not in "".join(body for _, body in sent)


async def test_the_first_sweep_ever_owes_nothing_from_before(community, services):
    assert run_sweep(community, services, STARTS - timedelta(hours=1)) == []


async def test_due_while_down_is_sent_once_marked_late_within_grace(community, services):
    run_sweep(community, services, T0)  # the bot ran before
    due = STARTS - timedelta(hours=2)
    back = due + timedelta(hours=1)
    sent = run_sweep(community, services, back, online_since=back)
    (late,) = only(sent, toolbox_of("ann"))
    assert late.startswith("(late) ☕ A gentle reminder")
    assert run_sweep(community, services, back + timedelta(minutes=1), online_since=back) == []
    with community.session() as s:
        statuses = {r.key.split(":")[0]: r.status for r in s.scalars(select(ReminderLedger))}
    assert statuses["cafe-private"] == Status.LATE.value


async def test_beyond_grace_is_skipped_and_never_sent(community, services):
    due = STARTS - timedelta(hours=2)
    with community.session() as s:  # the bot last looked well before the reminder was due
        sweep(s, services.settings, [], due - timedelta(hours=1), online_since=T0, speaker=services.speaker,
              digest_sources=[])
    back = due + timedelta(hours=7)  # grace is 6 hours
    sent = run_sweep(community, services, back, online_since=back)
    assert only(sent, toolbox_of("ann")) == []
    with community.session() as s:
        skipped = s.scalars(select(ReminderLedger).where(ReminderLedger.key.like("cafe-private:%"))).all()
    assert {r.status for r in skipped} == {"skipped"} and len(skipped) == 2


async def test_a_crash_before_commit_leaves_it_due_and_a_sent_one_reuses_its_transaction_id(community, services):
    due = STARTS - timedelta(days=3)
    with pytest.raises(RuntimeError):
        with community.session() as s:
            sweep(s, services.settings, [], due, online_since=T0, speaker=services.speaker, digest_sources=[])
            raise RuntimeError("crash before the commit")
    with community.session() as s:
        assert s.scalars(select(ReminderLedger)).all() == []
        assert s.scalars(select(OutboxMessage)).all() == []
    sent = run_sweep(community, services, due + timedelta(seconds=2))
    assert len(only(sent, CAFE_NORTH)) == 1
    with community.session() as s:
        (ledger,) = s.scalars(select(ReminderLedger)).all()
        (outbox,) = s.scalars(select(OutboxMessage)).all()
        # The outbox resends with this id after a crash; the homeserver de-duplicates it.
        assert outbox.txn_id == txn_for(ledger.key)


async def test_a_break_pauses_personal_reminders_but_not_the_room(community, services):
    with community.session() as s:
        s.add(UserPref(user_id=user("ann"), on_break=True, break_until=STARTS))
    sent = run_sweep(community, services, STARTS - timedelta(hours=2))
    assert only(sent, toolbox_of("ann")) == [] and len(only(sent, toolbox_of("bob"))) == 1
    with community.session() as s:
        s.get(UserPref, user("ann")).on_break = False
    assert only(run_sweep(community, services, STARTS - timedelta(hours=1)), toolbox_of("ann")) == []


async def test_an_rsvp_after_the_reminder_time_gets_no_late_reminder(community, services):
    with community.session() as s:
        cafe = s.scalars(select(Cafe)).one()
        rsvp.set_answer(s, cafe, user("cat"), "yes", STARTS - timedelta(hours=1))
    run_sweep(community, services, STARTS - timedelta(hours=3))
    sent = run_sweep(community, services, STARTS - timedelta(minutes=30), online_since=STARTS - timedelta(hours=3))
    assert only(sent, toolbox_of("cat")) == [] and len(only(sent, toolbox_of("ann"))) == 1


async def test_feature_reminders_go_to_the_toolbox_room_in_the_persons_language(community, services):
    due = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)

    def source(session, start, end):
        r = DueReminder(key="test.activity:1", user_id=user("ann"), due_at=due, message_key="schedules.late",
                        params={"text": "walk"})
        return [r] if start <= r.due_at < end else []

    with community.session() as s:
        s.add(UserPref(user_id=user("ann"), language="nb"))
    sent = run_sweep(community, services, due + timedelta(seconds=1), sources=[source])
    (body,) = only(sent, toolbox_of("ann"))
    assert body.startswith("(forsinket) walk")
    assert only(run_sweep(community, services, due + timedelta(seconds=9), sources=[source]),
                toolbox_of("ann")) == []


async def test_digest_and_confidentiality_reminders(community, services):
    services.settings = test_settings(schedules={"confidentiality_interval_days": 1, "digest_time": "07:00"})
    with community.session() as s:
        forum_created = s.get(ManagedRoom, FORUM).created_at
    at = forum_created + timedelta(days=2)
    sent = run_sweep(community, services, at + timedelta(seconds=1), online_since=at - timedelta(hours=1))
    (note,) = only(sent, FORUM)
    assert "what people share here stays here" in note
    day = (at + timedelta(days=1)).astimezone(OSLO).date()
    digest_at = datetime(day.year, day.month, day.day, 7, 0, tzinfo=OSLO).astimezone(UTC)
    sent = run_sweep(community, services, digest_at + timedelta(seconds=1), online_since=at)
    (digest,) = only(sent, CONSULTANT_ROOM)
    assert digest.startswith("📋 **Daily digest**") and "Nobody is awaiting approval" in digest


async def test_scheduler_has_one_job_per_moment_however_many_fall_due(community, services):
    feature = Feature(name="fake")
    soon = datetime.now(UTC) + timedelta(minutes=5)
    feature.reminder_sources.append(lambda s, start, end: [
        DueReminder(key=f"fake:{n}", user_id=user("ann"), due_at=soon, message_key="schedules.late",
                    params={"text": "x"}) for n in range(3)] if start <= soon < end else [])
    scheduler = Scheduler(fake_app(community, services, [feature]))
    scheduler.start()
    try:
        await scheduler.plan()
        await scheduler.plan()
        ids = [job.id for job in scheduler.aps.get_jobs()]
        assert ids.count(f"due:{soon.isoformat()}") == 1 and "schedules:plan" in ids
        assert len([i for i in ids if i.startswith("due:")]) == 1
    finally:
        scheduler.stop()


async def test_a_planner_run_asks_the_sources_once_for_the_sweep_and_the_horizon_together(community, services):
    """Issue 13: the sweep's look at the sources also gives what falls due within the horizon (the
    pictures are looked for before, in a transaction of their own: that look stays)."""
    now = T0 + timedelta(hours=1)
    windows: list[tuple[datetime, datetime]] = []

    def source(s, start, end):
        windows.append((start, end))
        return [DueReminder(key=f"fake:{n}", user_id=user("ann"), due_at=at, message_key="schedules.late",
                            params={"text": f"x{n}"})
                for n, at in enumerate((now, now + timedelta(minutes=5), now + HORIZON)) if start <= at < end]

    feature = Feature(name="fake")
    feature.reminder_sources.append(source)
    scheduler = Scheduler(fake_app(community, services, [feature]))
    scheduler._pictures_wanted(now)
    woke, upcoming = scheduler._plan(now)
    assert len(windows) == 2, windows
    with community.session() as s:
        sent = [c["body"] for room, c in queued(s) if room == toolbox_of("ann")]
    assert woke and len(sent) == 1 and "x0" in sent[0]
    assert [due.key for due in upcoming if due.key.startswith("fake:")] == ["fake:1"]


async def test_a_series_gets_its_next_meeting_announced_once_the_last_has_begun(db, services):
    from bot.recurrence import Recurrence

    first_start = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)  # first Thursday of December, 18:00
    with db.session() as s:
        build_community(s)
        cafes.schedule(s, community="North", rule=Recurrence(3, 18, 0, 1), tz=OSLO, place="Library", topic=None,
                       by="@consultant:localhost", now=T0)
    with db.session() as s:
        assert cafes.materialise_series(s, services.settings, first_start - timedelta(minutes=1)) == []
    with db.session() as s:
        (nxt,) = cafes.materialise_series(s, services.settings, first_start + timedelta(minutes=1))
        assert nxt.starts_at == datetime(2027, 1, 7, 17, 0, tzinfo=UTC)
    with db.session() as s:
        assert cafes.materialise_series(s, services.settings, first_start + timedelta(minutes=2)) == []
        # Cancelling the coming meeting brings the one after it.
        upcoming = cafes.upcoming(s, first_start + timedelta(minutes=2))
        cafes.cancel(s, upcoming[0], first_start + timedelta(minutes=2))
        (after,) = cafes.materialise_series(s, services.settings, first_start + timedelta(minutes=3))
        assert after.starts_at == datetime(2027, 2, 4, 17, 0, tzinfo=UTC)
        cafes.cancel(s, after, first_start + timedelta(minutes=3), whole_series=True)
        assert cafes.materialise_series(s, services.settings, first_start + timedelta(minutes=4)) == []


def fake_app(db, services, features=()):
    return FakeRuntime(db=db, port=FakePort(), settings=services.settings,
                       services=dataclasses.replace(services, features=list(features)))


async def test_the_planner_announces_a_series_next_meeting_in_the_cafe_room(db, services):
    from bot.recurrence import Recurrence

    with db.session() as s:
        build_community(s)
        cafes.schedule(s, community="North", rule=Recurrence(3, 18, 0, 1), tz=OSLO, place="Library", topic=None,
                       by="@consultant:localhost", now=T0)
    scheduler = Scheduler(fake_app(db, services))
    woke, _ = scheduler._plan(datetime(2026, 12, 3, 17, 1, tzinfo=UTC))
    with db.session() as s:
        announcement, poll = [c["body"] for room, c in queued(s) if room == CAFE_NORTH]
        assert "Are you coming to the café for North" in poll
        txns = [t for t in s.scalars(select(OutboxMessage.txn_id))]
    assert woke and "Café for North" in announcement and "Thursday 7 January at 18:00" in announcement
    assert any(t.startswith("cafe-announce-") for t in txns)


async def test_the_planner_puts_the_answer_reactions_under_a_sent_announcement_once(community, services):
    scheduler = Scheduler(fake_app(community, services))
    with community.session() as s:
        cafe = s.scalars(select(Cafe)).one()
        s.add(SentEvent(txn_id=cafe.announce_txn, event_id="$announce", room_id=CAFE_NORTH))

    def reactions():
        with community.session() as s:
            return [(room, c["m.relates_to"]["event_id"], c["m.relates_to"]["key"]) for room, c in queued(s)
                    if "m.relates_to" in c and c["m.relates_to"].get("rel_type") == "m.annotation"]

    woke, _ = scheduler._plan(T0 + timedelta(minutes=1))
    assert woke and reactions() == [(CAFE_NORTH, "$announce", k) for k in ("👍", "🤔", "👎")]
    scheduler._plan(T0 + timedelta(minutes=2))
    assert len(reactions()) == 3


async def test_a_reflection_prompt_is_posted_in_the_forum_days_before(community, services):
    with community.session() as s:
        cafe = s.scalars(select(Cafe)).one()
        cafes.set_prompt(s, cafe, "What helped you this month?", "@consultant:localhost", T0)
    run_sweep(community, services, T0)
    assert only(run_sweep(community, services, STARTS - timedelta(days=3, minutes=1)), FORUM) == []
    sent = run_sweep(community, services, STARTS - timedelta(days=3))
    (prompt,) = only(sent, FORUM)
    assert "before the café for North on Thursday 10 December at 18:00" in prompt
    assert "What helped you this month?" in prompt
    in_cafe_room = [b for b in only(sent, CAFE_NORTH) if "What helped you this month?" in b]
    assert len(in_cafe_room) == 1  # the café's own room gets it too, once
    later = run_sweep(community, services, STARTS - timedelta(days=2))
    assert not [b for r, b in later if "What helped you this month?" in b]


async def test_each_runtime_has_its_own_scheduler_that_a_command_can_ask_to_look_again(db, services):
    from schedules.jobs import SCHEDULER, plan_soon, start_for

    first, second = fake_app(db, services), fake_app(db, services)
    stop_first = await start_for(first)
    stop_second = await start_for(second)
    try:
        mine = first.slots.get(SCHEDULER)
        assert mine is not None and mine is not second.slots.get(SCHEDULER)
        plan_soon(first)
        assert mine.aps.get_job("schedules:plan-soon") is not None
        assert second.slots.get(SCHEDULER).aps.get_job("schedules:plan-soon") is None
    finally:
        await stop_first()
        await stop_second()
    await asyncio.sleep(0.01)  # APScheduler shuts down on the event loop's next turn
    assert first.slots.get(SCHEDULER) is None and not mine.aps.running
    plan_soon(first)  # a command after stop: nothing to ask, no error
    plan_soon(None)


async def test_the_poll_is_ended_when_the_cafe_starts(community, services):
    from schedules import polls
    with community.session() as s:
        cafe = s.scalars(select(Cafe)).one()
        s.add(SentEvent(txn_id=polls.poll_txn(cafe), event_id="$poll", room_id=CAFE_NORTH))
    run_sweep(community, services, STARTS - timedelta(minutes=5))
    with community.session() as s:
        before = len(queued(s))
    run_sweep(community, services, STARTS + timedelta(seconds=1))
    with community.session() as s:
        ends = [(r, c) for r, c in queued(s)[before:] if "org.matrix.msc3381.poll.end" in c]
        types = [m.event_type for m in s.scalars(select(OutboxMessage)) if m.event_type == polls.END_TYPE]
    assert len(ends) == 1 and ends[0][0] == CAFE_NORTH and types == [polls.END_TYPE]
    assert ends[0][1]["m.relates_to"] == {"rel_type": "m.reference", "event_id": "$poll"}
    assert "poll is closed" in ends[0][1]["body"]
    run_sweep(community, services, STARTS + timedelta(minutes=1))
    with community.session() as s:
        assert len([m for m in s.scalars(select(OutboxMessage)) if m.event_type == polls.END_TYPE]) == 1
