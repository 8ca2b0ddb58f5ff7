"""Issue 14, items 1 and 4 on a real homeserver: the daily check-in prompt arrives decrypted as
m.text with its 1–10 reaction row; a tap, a number reply and a free-text reply answer it (the
streak shown kindly), in English and Norwegian; the crisis plan's review date brings one reminder.

The prompt's time is brought forward in the table rather than waited for (as the activity
reminder test does): the scheduler reads what is due from the tables."""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tests.integration.test_toolbox_flows import ask, enrolled
from toolbox import diary, reminders
from toolbox.checkin import KEYCAPS
from toolbox.models import CheckinSetting, MoodEntry

OSLO = ZoneInfo("Europe/Oslo")


def _soon(seconds: int = 4) -> datetime:
    return datetime.now(OSLO) + timedelta(seconds=seconds)


def _bring_checkin_forward(bot, user_id: str) -> None:
    """The prompt falls due in a few seconds (the person's zone is Europe/Oslo)."""
    with bot.app.db.session() as s:
        row = s.get(CheckinSetting, user_id)
        row.clock = _soon().strftime("%H:%M:%S")
        row.since = datetime.now(timezone.utc) - timedelta(minutes=1)


async def _prompt(person, toolbox, bot, words: str):
    prompt = await person.wait_for(lambda r: r.room_id == toolbox and r.sender == bot.user_id and words in r.body,
                                   timeout=90, what="the check-in prompt")
    assert prompt.decrypted and prompt.content["msgtype"] == "m.text"  # it notifies
    assert prompt.content["m.mentions"] == {"user_ids": [person.user_id]}
    return prompt


def _moods(bot, user_id: str) -> list[tuple[int, str | None]]:
    with bot.app.db.session() as s:
        return [(m.score, m.note) for m in s.scalars(select(MoodEntry).where(MoodEntry.user_id == user_id)
                                                      .order_by(MoodEntry.created_at))]


async def test_checkin_prompt_reaction_row_tap_and_free_text_reply(bot, consultant, make_user):
    ada, toolbox, _, _ = await enrolled(bot, consultant, make_user, "ada")
    on = await ask(ada, toolbox, "!checkin on 20:00", bot, "Daily check-in is on")
    assert "20:00 (Europe/Oslo)" in on.body
    with bot.app.db.session() as s:  # the two days before were logged too
        for days_ago in (1, 2):
            diary.add_mood(s, ada.user_id, 5, now=datetime.now(timezone.utc) - timedelta(days=days_ago))
    _bring_checkin_forward(bot, ada.user_id)
    prompt = await _prompt(ada, toolbox, bot, "How has today been?")

    def row_under_prompt() -> list[str]:
        return [r.content["m.relates_to"]["key"] for r in ada.received
                if r.type == "m.reaction" and r.sender == bot.user_id
                and r.content.get("m.relates_to", {}).get("event_id") == prompt.event_id]

    await ada.until(lambda: len(row_under_prompt()) == 10, 60, "the 1–10 reaction row under the prompt")
    assert row_under_prompt() == list(KEYCAPS)

    mark = len(ada.received)
    await ada.react(toolbox, prompt.event_id, "7️⃣")
    thanks = await ada.wait_for(lambda r: r.room_id == toolbox and "Thank you for checking in (7/10)" in r.body,
                                after=mark, what="the thanks for the tap")
    assert thanks.decrypted and "That's 3 days in a row" in thanks.body
    mark = len(ada.received)
    await ada.send(toolbox, "a walk by the sea", {"m.relates_to": {"m.in_reply_to": {"event_id": prompt.event_id}}})
    await ada.wait_for(lambda r: r.room_id == toolbox and "kept your words with today's check-in" in r.body,
                       after=mark, what="the note kept")
    assert _moods(bot, ada.user_id)[-1] == (7, "a walk by the sea")
    assert len(_moods(bot, ada.user_id)) == 3
    # Exactly one prompt, also after the planner has looked again.
    await asyncio.sleep(22)
    assert sum("How has today been?" in r.body for r in ada.received if r.room_id == toolbox) == 1


async def test_checkin_in_norwegian_a_number_reply_with_words(bot, consultant, make_user):
    ola, toolbox, _, _ = await enrolled(bot, consultant, make_user, "ola")
    await ask(ola, toolbox, "!lang nb", bot, "Jeg snakker")
    on = await ask(ola, toolbox, "!checkin på 20:00", bot, "Daglig innsjekk er på")
    assert "`!checkin av`" in on.body
    _bring_checkin_forward(bot, ola.user_id)
    prompt = await _prompt(ola, toolbox, bot, "Hvordan har dagen vært?")
    mark = len(ola.received)
    await ola.send(toolbox, "6 en rolig dag", {"m.relates_to": {"m.in_reply_to": {"event_id": prompt.event_id}}})
    thanks = await ola.wait_for(lambda r: r.room_id == toolbox and "Takk for at du sjekket inn (6/10)" in r.body,
                                after=mark, what="takken")
    assert "på rad" not in thanks.body  # the first day: no streak talk
    assert _moods(bot, ola.user_id) == [(6, "en rolig dag")]


async def test_crisis_review_date_brings_one_reminder(bot, consultant, make_user, monkeypatch):
    eva, toolbox, _, _ = await enrolled(bot, consultant, make_user, "eva")
    await ask(eva, toolbox, "!crisis add coping call my sister", bot, "Added to")
    await ask(eva, toolbox, "!crisis review today", bot, "review")
    # "The morning" of the review date, brought forward to a few seconds from now.
    at = _soon(6)
    monkeypatch.setattr(reminders, "REVIEW_REMINDER_AT", time(at.hour, at.minute, at.second))
    reminder = await eva.wait_for(lambda r: r.room_id == toolbox and "review date you set for your crisis plan"
                                  in r.body, timeout=90, what="the review reminder")
    assert reminder.decrypted and reminder.content["msgtype"] == "m.text" and "`!crisis review`" in reminder.body
    await asyncio.sleep(25)  # the planner looks again (every 20 s): still one
    assert sum("review date you set" in r.body for r in eva.received if r.room_id == toolbox) == 1
