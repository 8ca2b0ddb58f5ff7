"""Issue 14, items 1 and 4: the daily check-in (opt-in) and the crisis-plan review reminder —
the command in both languages, the prompt once a day at the person's local time (none when the
mood is logged, none on a break, exactly once through the ledger), answers by reply or reaction
from the owner only, kind streaks, and the review date's one morning reminder."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from bot import personal_data
from bot.models import OutboxMessage, SentEvent, UserPref
from bot.outbox import reminder_txn
from schedules import breaks
from schedules.delivery import sweep
from schedules.models import ReminderLedger
from tests.support.core import make_context, queued
from tests.support.rooms import build_community, enrol, message_content, toolbox_of
from tests.unit.test_toolbox_commands import reply
from toolbox import checkin, crisis_plan, diary
from toolbox.feature import feature
from toolbox.models import CheckinAnswer, CheckinSetting, MoodEntry
from toolbox.reminders import checkin_prompts, crisis_review_reminders, due_reminders

UTC = timezone.utc
OSLO = ZoneInfo("Europe/Oslo")
ANN, BOB = "@ann:localhost", "@bob:localhost"
BOX = toolbox_of(ANN)
# Thursday 3 December 2026; Oslo is UTC+1 in winter.
DAY = date(2026, 12, 3)
EIGHT_PM = datetime(2026, 12, 3, 19, 0, tzinfo=UTC)  # 20:00 in Oslo


@pytest.fixture
def ann(db):
    with db.session() as s:
        build_community(s)
        enrol(s, ANN, "Ann")
        enrol(s, BOB, "Bob")
    return db


def turn_on(s, clock="20:00", since=EIGHT_PM - timedelta(days=2), user=ANN):
    checkin.turn_on(s, user, checkin.parse_clock(clock), "Europe/Oslo", since)
    s.commit()


def run_sweep(db, services, now):
    """A scheduler sweep at ``now`` with the toolbox's reminder source; returns (room, content)
    queued in the people's toolbox rooms (not the consultants' digest)."""
    with db.session() as s:
        before = len(queued(s))
        sweep(s, services.settings, [due_reminders], now, online_since=now - timedelta(days=3),
              speaker=services.speaker, digest_sources=[])
        s.commit()
        return [(room, c) for room, c in queued(s)[before:] if room in (BOX, toolbox_of(BOB))]


def sent_prompt(db, day=DAY, event_id="$prompt", user=ANN):
    """The homeserver gave the sent prompt an event id (as the sender records it)."""
    with db.session() as s:
        s.add(SentEvent(txn_id=reminder_txn(checkin.prompt_key(user, day)), event_id=event_id,
                        room_id=toolbox_of(user)))
        s.commit()


async def observe(db, services, event_type, content, *, sender=ANN, room=BOX, at=EIGHT_PM, monkeypatch=None):
    """One event through the toolbox's observers in its own transaction; the bodies it queued."""
    with db.session() as s:
        ctx = make_context(s, services, sender=sender, room_id=room, event_type=event_type, content=content,
                           event_id=f"$ev{datetime.now().timestamp()}")
        observers = feature.message_observers if event_type == "m.room.message" else \
            feature.event_observers.get(event_type, [])
        for observer in observers:
            await observer(ctx)
        s.commit()
        return [m["content"]["body"] for m in ctx.sent]


def react(key, target="$prompt"):
    return {"m.relates_to": {"rel_type": "m.annotation", "event_id": target, "key": key}}


@pytest.fixture
def clock_at(monkeypatch):
    """Set the bot's "now" for the check-in answers."""
    def set_now(now: datetime) -> None:
        monkeypatch.setattr("toolbox.commands.checkin.utcnow", lambda: now)
    set_now(EIGHT_PM + timedelta(minutes=5))
    return set_now


# --- the command ------------------------------------------------------------------------------------

async def test_checkin_on_off_and_state_in_english(ann, services):
    with ann.session() as s:
        assert "Daily check-in is off" in await reply(s, services, "!checkin", room=BOX)
        on = await reply(s, services, "!checkin on 20:00", room=BOX)
        assert "at 20:00 (Europe/Oslo)" in on and "`!checkin off`" in on
        assert "Daily check-in is on at 20:00" in await reply(s, services, "!checkin", room=BOX)
        assert s.get(CheckinSetting, ANN).clock == "20:00"
        assert "Daily check-in is off" in await reply(s, services, "!checkin off", room=BOX)
        assert s.get(CheckinSetting, ANN) is None
        assert "already off" in await reply(s, services, "!checkin off", room=BOX)


async def test_checkin_in_norwegian_and_polite_usage(ann, services):
    with ann.session() as s:
        s.add(UserPref(user_id=ANN, language="nb", timezone="America/New_York"))
        s.commit()
        on = await reply(s, services, "!checkin på 21.30", room=BOX)
        assert "Daglig innsjekk er på" in on and "kl. 21:30 (America/New_York)" in on
        assert "`!checkin av`" in on
        assert "Skriv når du vil" in await reply(s, services, "!checkin på", room=BOX)
        assert "Skriv når du vil" in await reply(s, services, "!checkin på snart", room=BOX)
        assert "Daglig innsjekk er av" in await reply(s, services, "!checkin av", room=BOX)
        shown = await reply(s, services, "!help checkin", room=BOX)
        assert "`!checkin [på|av] [HH:MM]`" in shown and "`!checkin på 20:00`" in shown


async def test_checkin_is_private_to_the_toolbox(ann, services):
    with ann.session() as s:
        answer = await reply(s, services, "!checkin on 20:00", room="!forum:localhost")
        assert "20:00" not in answer and s.get(CheckinSetting, ANN) is None


# --- the prompt ------------------------------------------------------------------------------------

def test_prompt_at_the_local_time_with_the_reaction_row(ann):
    with ann.session() as s:
        turn_on(s)
        (due,) = checkin_prompts(s, EIGHT_PM - timedelta(hours=1), EIGHT_PM + timedelta(hours=1))
        assert due.due_at == EIGHT_PM and due.user_id == ANN and due.message_key == "toolbox.checkin.prompt"
        assert due.reactions == ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣", "🔟")
        # In the person's own zone (their preference comes first): 20:00 in New York.
        s.add(UserPref(user_id=ANN, timezone="America/New_York"))
        s.commit()
        (due,) = checkin_prompts(s, EIGHT_PM, EIGHT_PM + timedelta(days=1))
        assert due.due_at == datetime(2026, 12, 4, 1, 0, tzinfo=UTC)


def test_no_prompt_on_a_day_the_mood_was_logged(ann):
    window = (EIGHT_PM - timedelta(hours=1), EIGHT_PM + timedelta(hours=1))
    with ann.session() as s:
        turn_on(s)
        # Logged late yesterday (23:30 Oslo) does not count for today...
        diary.add_mood(s, ANN, 5, now=datetime(2026, 12, 2, 22, 30, tzinfo=UTC))
        assert len(checkin_prompts(s, *window)) == 1
        # ...logged just after midnight Oslo time (still the 2nd in UTC) does.
        diary.add_mood(s, ANN, 6, now=datetime(2026, 12, 2, 23, 30, tzinfo=UTC))
        assert checkin_prompts(s, *window) == []


def test_no_prompt_owed_from_before_it_was_turned_on(ann):
    with ann.session() as s:
        turn_on(s, since=EIGHT_PM + timedelta(minutes=1))
        assert checkin_prompts(s, EIGHT_PM - timedelta(hours=1), EIGHT_PM + timedelta(hours=1)) == []
        (tomorrow,) = checkin_prompts(s, EIGHT_PM, EIGHT_PM + timedelta(days=1, hours=1))
        assert tomorrow.due_at == EIGHT_PM + timedelta(days=1)


def test_prompt_delivered_exactly_once_as_text_then_the_reaction_row_once(ann, services):
    with ann.session() as s:
        turn_on(s)
    run_sweep(ann, services, EIGHT_PM - timedelta(minutes=1))  # the sweep before
    sent = run_sweep(ann, services, EIGHT_PM + timedelta(seconds=1))
    ((room, content),) = sent
    assert room == BOX and content["msgtype"] == "m.text" and content["m.mentions"] == {"user_ids": [ANN]}
    assert "How has today been?" in content["body"]
    assert run_sweep(ann, services, EIGHT_PM + timedelta(seconds=30)) == []
    sent_prompt(ann)
    row = run_sweep(ann, services, EIGHT_PM + timedelta(seconds=40))
    assert [c["m.relates_to"]["key"] for _, c in row] == list(checkin.KEYCAPS)
    assert all(c["m.relates_to"]["event_id"] == "$prompt" for _, c in row)
    assert run_sweep(ann, services, EIGHT_PM + timedelta(seconds=60)) == []
    with ann.session() as s:
        kinds = s.scalars(select(OutboxMessage.event_type).where(OutboxMessage.room_id == BOX)).all()
        assert kinds.count("m.room.message") == 1 and kinds.count("m.reaction") == 10


def test_a_break_pauses_the_prompt(ann, services):
    with ann.session() as s:
        turn_on(s)
        breaks.take_break(s, ANN, EIGHT_PM - timedelta(hours=1), timedelta(days=1))
        s.commit()
    run_sweep(ann, services, EIGHT_PM - timedelta(minutes=1))
    assert run_sweep(ann, services, EIGHT_PM + timedelta(seconds=1)) == []


def test_norwegian_prompt(ann, services):
    with ann.session() as s:
        s.add(UserPref(user_id=ANN, language="nb"))
        turn_on(s)
    run_sweep(ann, services, EIGHT_PM - timedelta(minutes=1))
    ((_, content),) = run_sweep(ann, services, EIGHT_PM + timedelta(seconds=1))
    assert content["body"].startswith("🌱 Hvordan har dagen vært?")


# --- answers ---------------------------------------------------------------------------------------

def test_reading_a_reply():
    assert checkin.read_reply("7") == checkin.Reply(7, None)
    assert checkin.read_reply("7/10") == checkin.Reply(7, None)
    assert checkin.read_reply(" 10, a lovely walk ") == checkin.Reply(10, "a lovely walk")
    assert checkin.read_reply("4 slept badly") == checkin.Reply(4, "slept badly")
    assert checkin.read_reply("slept badly") == checkin.Reply(None, "slept badly")
    assert checkin.read_reply("12 hours of sleep") == checkin.Reply(None, "12 hours of sleep")
    with pytest.raises(checkin.Invalid):
        checkin.read_reply("0")


def test_streak_counts_days_in_a_row_in_the_persons_zone(ann):
    with ann.session() as s:
        assert checkin.streak(s, ANN, OSLO, DAY) == 0
        for days_ago in (0, 1, 2, 4):  # a gap three days ago
            diary.add_mood(s, ANN, 6, now=EIGHT_PM - timedelta(days=days_ago))
        assert checkin.streak(s, ANN, OSLO, DAY) == 3
        # 23:30 UTC is already the next day in Oslo.
        diary.add_mood(s, ANN, 6, now=datetime(2026, 12, 3, 23, 30, tzinfo=UTC))
        assert checkin.streak(s, ANN, OSLO, DAY + timedelta(days=1)) == 4


async def test_a_reaction_logs_the_mood_and_shows_the_streak_kindly(ann, services, clock_at):
    with ann.session() as s:
        turn_on(s)
        diary.add_mood(s, ANN, 5, now=EIGHT_PM - timedelta(days=1))
        diary.add_mood(s, ANN, 6, now=EIGHT_PM - timedelta(days=2))
        s.commit()
    sent_prompt(ann)
    (ack,) = await observe(ann, services, "m.reaction", react("7️⃣"))
    assert ack == "Thank you for checking in (7/10). That's 3 days in a row. 🌱"
    # Tapping another number changes today's answer rather than adding one.
    (ack,) = await observe(ann, services, "m.reaction", react("8\u20e3"))  # without the variation selector
    assert "changed today's check-in to 8/10" in ack
    with ann.session() as s:
        today = [m.score for m in s.scalars(select(MoodEntry).where(MoodEntry.created_at > EIGHT_PM))]
        assert today == [8]


async def test_no_streak_talk_and_no_guilt_after_a_gap(ann, services, clock_at):
    with ann.session() as s:
        turn_on(s)
        diary.add_mood(s, ANN, 5, now=EIGHT_PM - timedelta(days=5))
        s.commit()
    sent_prompt(ann)
    (ack,) = await observe(ann, services, "m.reaction", react("🔟"))
    assert ack == "Thank you for checking in (10/10)."


async def test_a_number_reply_with_words_is_mood_and_note_in_norwegian(ann, services, clock_at):
    with ann.session() as s:
        s.add(UserPref(user_id=ANN, language="nb"))
        turn_on(s)
        diary.add_mood(s, ANN, 5, now=EIGHT_PM - timedelta(days=1))
        s.commit()
    sent_prompt(ann)
    (ack,) = await observe(ann, services, "m.room.message",
                           message_content("6 en rolig dag", reply_to="$prompt"))
    assert ack == "Takk for at du sjekket inn (6/10). Det er 2 dager på rad. 🌱"
    with ann.session() as s:
        mood = s.scalars(select(MoodEntry).order_by(MoodEntry.id.desc())).first()
        assert (mood.score, mood.note) == (6, "en rolig dag")


async def test_words_first_then_a_number_then_more_words(ann, services, clock_at):
    with ann.session() as s:
        turn_on(s)
    sent_prompt(ann)
    (ack,) = await observe(ann, services, "m.room.message", message_content("a long day", reply_to="$prompt"))
    assert "I've kept your words" in ack and "Which number from 1 to 10" in ack
    (ack,) = await observe(ann, services, "m.reaction", react("4️⃣"))
    assert ack == "Thank you for checking in (4/10)."
    (ack,) = await observe(ann, services, "m.room.message", message_content("but a good talk", reply_to="$prompt"))
    assert "kept your words with today's check-in" in ack
    with ann.session() as s:
        (mood,) = s.scalars(select(MoodEntry)).all()
        assert (mood.score, mood.note) == (4, "a long day\nbut a good talk")
        assert s.scalars(select(CheckinAnswer)).one().note is None


async def test_only_the_owner_answers_and_only_the_prompt_counts(ann, services, clock_at):
    with ann.session() as s:
        turn_on(s)
    sent_prompt(ann)
    # Someone else in the room, a reaction on another message, a plain message, a command.
    assert await observe(ann, services, "m.reaction", react("7️⃣"), sender=BOB) == []
    assert await observe(ann, services, "m.room.message", message_content("7", reply_to="$prompt"),
                         sender=BOB) == []
    assert await observe(ann, services, "m.reaction", react("7️⃣", target="$other")) == []
    assert await observe(ann, services, "m.reaction", react("👍")) == []
    assert await observe(ann, services, "m.room.message", message_content("7")) == []
    assert await observe(ann, services, "m.room.message", message_content("!mood 7", reply_to="$prompt")) == []
    # Bob's own toolbox: Ann's prompt id is not his prompt.
    assert await observe(ann, services, "m.reaction", react("7️⃣"), sender=BOB, room=toolbox_of(BOB)) == []
    with ann.session() as s:
        assert s.scalars(select(MoodEntry)).all() == []


async def test_a_number_out_of_range_gets_a_polite_word(ann, services, clock_at):
    with ann.session() as s:
        turn_on(s)
    sent_prompt(ann)
    (ack,) = await observe(ann, services, "m.room.message", message_content("11", reply_to="$prompt"))
    assert "a number from 1 (very hard) to 10 (very good)" in ack


# --- the crisis-plan review reminder -----------------------------------------------------------------

MORNING = datetime(2026, 12, 10, 8, 0, tzinfo=UTC)  # 09:00 in Oslo on 10 December


def test_review_reminder_in_the_morning_exactly_once_and_again_for_a_new_date(ann, services):
    with ann.session() as s:
        crisis_plan.set_review(s, ANN, date(2026, 12, 10))
        s.commit()
        (due,) = crisis_review_reminders(s, MORNING - timedelta(hours=1), MORNING + timedelta(hours=1))
        assert due.due_at == MORNING and due.message_key == "toolbox.reminder.crisis_review"
    run_sweep(ann, services, MORNING - timedelta(minutes=1))
    ((room, content),) = run_sweep(ann, services, MORNING + timedelta(seconds=1))
    assert room == BOX and content["msgtype"] == "m.text"
    assert "review date you set for your crisis plan" in content["body"] and "`!crisis review`" in content["body"]
    assert run_sweep(ann, services, MORNING + timedelta(minutes=1)) == []
    # A new date: its own one reminder.
    with ann.session() as s:
        crisis_plan.set_review(s, ANN, date(2026, 12, 11))
        s.commit()
    assert run_sweep(ann, services, MORNING + timedelta(days=1) - timedelta(minutes=1)) == []
    ((_, again),) = run_sweep(ann, services, MORNING + timedelta(days=1, seconds=1))
    assert "crisis review" in again["body"]
    assert run_sweep(ann, services, MORNING + timedelta(days=1, minutes=1)) == []


def test_review_reminder_in_norwegian_in_the_persons_zone_and_paused_by_a_break(ann, services):
    with ann.session() as s:
        s.add(UserPref(user_id=ANN, language="nb", timezone="Asia/Tokyo"))
        crisis_plan.set_review(s, ANN, date(2026, 12, 10))
        s.commit()
        (due,) = crisis_review_reminders(s, MORNING - timedelta(days=1), MORNING)
        assert due.due_at == datetime(2026, 12, 10, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo
    run_sweep(ann, services, due.due_at - timedelta(minutes=1))
    ((_, content),) = run_sweep(ann, services, due.due_at + timedelta(seconds=1))
    assert "I dag er datoen du satte for å gå gjennom kriseplanen din" in content["body"]
    with ann.session() as s:
        crisis_plan.set_review(s, ANN, date(2026, 12, 12))
        breaks.take_break(s, ANN, MORNING, None)
        s.commit()
    at = datetime(2026, 12, 12, 0, 0, tzinfo=UTC)
    run_sweep(ann, services, at - timedelta(minutes=1))
    assert run_sweep(ann, services, at + timedelta(seconds=1)) == []


def test_no_review_reminder_for_a_date_set_after_its_morning(ann):
    with ann.session() as s:
        crisis_plan.set_review(s, ANN, date(2026, 12, 10))
        s.get(crisis_plan.CrisisPlanMeta, ANN).updated_at = MORNING + timedelta(hours=3)
        s.commit()
        assert crisis_review_reminders(s, MORNING - timedelta(hours=1), MORNING + timedelta(hours=6)) == []


# --- personal data ---------------------------------------------------------------------------------

async def test_checkin_is_exported_sealed_and_erased(ann, services, features, clock_at):
    with ann.session() as s:
        turn_on(s)
    sent_prompt(ann)
    await observe(ann, services, "m.room.message", message_content("my quiet words", reply_to="$prompt"))
    with ann.session() as s:
        data = personal_data.export_document(features, s, ANN)["toolbox"]["checkin"]
        assert data["time"] == "20:00" and data["zone"] == "Europe/Oslo"
        assert data["answers"][0]["waiting_note"] == "my quiet words"
    with ann.engine.connect() as conn:
        stored = [conn.execute(text("SELECT clock FROM toolbox_checkin")).scalar(),
                  conn.execute(text("SELECT note FROM toolbox_checkin_answer")).scalar()]
    assert all(v.startswith("v2:") for v in stored), stored
    with ann.session() as s:
        for eraser in (e for f in features for e in f.erasers):
            eraser(s, ANN)
        s.commit()
        assert s.scalars(select(CheckinSetting)).all() == [] and s.scalars(select(CheckinAnswer)).all() == []
        assert s.scalars(select(ReminderLedger).where(ReminderLedger.user_id == ANN)).all() == []
        assert json.dumps(personal_data.export_document(features, s, ANN)["toolbox"]["checkin"]) == json.dumps(
            {"time": None, "zone": None, "since": None, "answers": []})


async def test_turning_it_on_after_todays_mood_promises_tomorrow_not_today(ann, services, clock_at):
    """The newcomer trial: "The first time is today at 16:30" with a mood already logged, and no
    question came (none is asked on a day with a mood)."""
    morning = EIGHT_PM - timedelta(hours=10)
    clock_at(morning)
    with ann.session() as s:
        assert "today" in await reply(s, services, "!checkin on 20:00", room=BOX)
        diary.add_mood(s, ANN, 6, now=morning - timedelta(hours=1))
        on = await reply(s, services, "!checkin on 20:00", room=BOX)
        assert "tomorrow" in on and "today" not in on.replace("today's mood", "")
        assert "already told me today's mood" in on  # and why (second newcomer trial)
