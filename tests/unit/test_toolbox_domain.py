"""Domain operations of the toolbox, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest

from bot.contracts import DueReminder
from bot.errors import Invalid, NotFound
from bot.models import RoomKind, UserPref
from bot.roomdir import register_room
from toolbox import activities, crisis_plan, diary, exercises, goals, meds, network, reminders, sharing
from toolbox.limits import MAX_GOALS
from toolbox.models import Goal

ANN = "@ann:localhost"
BOB = "@bob:localhost"
DOC = "@doc:localhost"


def test_goals_numbering_and_steps(db):
    with db.session() as s:
        goals.add(s, ANN, "walk every day")
        area, text = goals.split_area("arbeid: find a course")
        goals.add(s, ANN, text, area)
        goals.add(s, BOB, "someone else's goal")
        assert [g.text for g in goals.listed(s, ANN)] == ["walk every day", "find a course"]
        assert goals.listed(s, ANN)[1].area == "work"
        goal, step = goals.add_step(s, ANN, 2, "look at the adult-education catalogue")
        assert [st.text for st in goals.steps_of(s, goal)] == ["look at the adult-education catalogue"]
        assert goals.mark_done(s, ANN, 1).done_at is not None
        assert goals.edit(s, ANN, 1, "walk 20 minutes a day").text == "walk 20 minutes a day"
        with pytest.raises(NotFound) as err:
            goals.mark_done(s, ANN, 7)
        assert (err.value.key, err.value.params) == ("toolbox.goal.no_such", {"n": 7, "count": 2})
        goals.remove(s, ANN, 2)
        assert [g.text for g in goals.listed(s, ANN)] == ["walk 20 minutes a day"]
        with pytest.raises(NotFound) as err:
            goals.remove(s, ANN, 2)
        assert err.value.key == "toolbox.goal.no_such_one"


def test_goal_limits(db):
    with db.session() as s:
        s.add_all(Goal(user_id=ANN, text=f"goal {i}") for i in range(MAX_GOALS))
        s.flush()
        with pytest.raises(Invalid) as err:
            goals.add(s, ANN, "one more")
        assert err.value.key == "toolbox.goal.full"
        with pytest.raises(Invalid) as err:
            goals.add(s, BOB, "x" * 501)
        assert err.value.key == "toolbox.too_long"


def test_activities_plan_done_delete_and_due(db):
    now = datetime(2026, 11, 28, 11, 0, tzinfo=timezone.utc)
    with db.session() as s:
        later = activities.add(s, ANN, now + timedelta(days=2), "choir")
        activities.add(s, ANN, now + timedelta(hours=1), "walk")
        assert [a.text for a in activities.listed(s, ANN, now)] == ["walk", "choir"]
        done = activities.mark_done(s, ANN, 1, importance=4, enjoyment=3, now=now)
        assert (done.importance, done.enjoyment, done.done_at) == (4, 3, now)
        # Done activities stay listed for a week, then drop off.
        assert len(activities.listed(s, ANN, now + timedelta(days=6))) == 2
        assert [a.text for a in activities.listed(s, ANN, now + timedelta(days=8))] == ["choir"]
        assert [a.id for a in activities.due_between(s, now, now + timedelta(days=3))] == [later.id]
        activities.remove(s, ANN, 2, now)
        assert [a.text for a in activities.listed(s, ANN, now)] == ["walk"]


def test_moods_and_diary(db):
    now = datetime(2026, 11, 28, 11, 0, tzinfo=timezone.utc)
    with db.session() as s:
        diary.add_mood(s, ANN, 3, "tired", now=now - timedelta(days=40))
        diary.add_mood(s, ANN, 6, None, now=now - timedelta(days=2))
        diary.add_mood(s, ANN, 7, "good walk", now=now)
        assert [(m.score, m.note) for m in diary.recent_moods(s, ANN, now)] == [(6, None), (7, "good walk")]
        for i in range(12):
            diary.add_entry(s, ANN, f"entry {i}", now=now + timedelta(minutes=i))
        assert [e.text for e in diary.recent_entries(s, ANN)] == [f"entry {i}" for i in range(2, 12)]


def test_network(db):
    with db.session() as s:
        name, circle, note = network.parse_entry("Anna Berg venner we walk on Sundays")
        assert (name, circle, note) == ("Anna Berg", "friends", "we walk on Sundays")
        network.add(s, ANN, name, circle, note)
        network.add(s, ANN, "Mum", "family")
        network.add(s, ANN, "Kari", "close")
        # Listed innermost circle first, which is also the numbering.
        assert [c.name for c in network.listed(s, ANN)] == ["Kari", "Mum", "Anna Berg"]
        assert network.remove(s, ANN, 2).name == "Mum"
        with pytest.raises(Invalid):
            network.parse_entry("Anna")
        with pytest.raises(NotFound) as err:
            network.remove(s, ANN, 5)
        assert err.value.params == {"n": 5, "count": 2}


def test_crisis_plan_sections_review_and_summary(db, services):
    en, nb = services.speaker.say("en"), services.speaker.say("nb")
    with db.session() as s:
        assert crisis_plan.summary(s, ANN, en) is None
        crisis_plan.add(s, ANN, crisis_plan.section_of("mestring"), "cold shower")
        crisis_plan.add(s, ANN, "coping", "call my sister")
        crisis_plan.add(s, ANN, "reasons", "my cat")
        crisis_plan.add(s, ANN, "warning-signs", "not sleeping")
        plan = crisis_plan.items(s, ANN)
        assert list(plan) == list(crisis_plan.SECTIONS)
        assert [i.text for i in plan["coping"]] == ["cold shower", "call my sister"]
        crisis_plan.remove(s, ANN, "coping", 1)
        with pytest.raises(NotFound):
            crisis_plan.remove(s, ANN, "coping", 2)
        with pytest.raises(Invalid):
            crisis_plan.section_of("banana")
        crisis_plan.set_review(s, ANN, date(2027, 3, 1))
        assert crisis_plan.meta(s, ANN).review_on == date(2027, 3, 1)
        summary = crisis_plan.summary(s, ANN, en)
        assert "call my sister" in summary and "my cat" in summary and "not sleeping" not in summary
        assert "Mine grunner til å leve" in crisis_plan.summary(s, ANN, nb)


def test_meds_parse_add_and_reminders(db):
    assert meds.parse_entry("Sertraline 50 mg 08:00 20:00") == ("Sertraline", "50 mg", [time(8), time(20)])
    assert meds.parse_entry('"Vitamin D" 1 tablet 9:00,21.30') == ("Vitamin D", "1 tablet", [time(9), time(21, 30)])
    assert meds.parse_entry("Lithium 400mg") == ("Lithium", "400mg", [])
    with pytest.raises(Invalid):
        meds.parse_entry("Lithium 08:00")
    with db.session() as s:
        med = meds.add(s, ANN, "Sertraline", "50 mg", [time(8), time(20)], "Europe/Oslo")
        med.created_at = datetime(2026, 3, 1, tzinfo=timezone.utc)
        meds.add(s, ANN, "Lithium", "400 mg", [], "Europe/Oslo")
        assert [m.name for m in meds.listed(s, ANN)] == ["Sertraline", "Lithium"]
        with pytest.raises(Invalid):
            meds.set_reminders(s, ANN, 2, True)
        # A day across the spring-forward night: 08:00 and 20:00 Oslo are 06:00 and 18:00 UTC.
        start = datetime(2026, 3, 29, 0, 0, tzinfo=timezone.utc)
        due = reminders.due_reminders(s, start, start + timedelta(days=1))
        # The name is opened when the reminder is sent (its ``details``), not when what is due is worked out.
        assert [(r.due_at.hour, r.details(s, None)["name"]) for r in due] == [(6, "Sertraline"), (18, "Sertraline")]
        assert len({r.key for r in due}) == 2 and all(r.user_id == ANN for r in due)
        meds.set_reminders(s, ANN, 1, False)
        assert reminders.due_reminders(s, start, start + timedelta(days=1)) == []
        assert meds.remove(s, ANN, 1).id == med.id


def test_a_medicine_added_after_its_time_is_first_reminded_the_next_day(db):
    """Added at 09:00 with a time of 08:00: nothing owed today (it used to come at once, "late")."""
    added = datetime(2026, 12, 3, 8, 0, tzinfo=timezone.utc)  # 09:00 in Oslo
    with db.session() as s:
        meds.add(s, ANN, "Sertraline", "50 mg", [time(8)], "Europe/Oslo").created_at = added
        assert reminders.due_reminders(s, added - timedelta(hours=6), added + timedelta(minutes=1)) == []
        (tomorrow,) = reminders.due_reminders(s, added, added + timedelta(days=1))
        assert tomorrow.due_at == datetime(2026, 12, 4, 7, 0, tzinfo=timezone.utc)


def test_reminder_keys_unique_per_occurrence_and_break(db):
    start = datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc)
    with db.session() as s:
        meds.add(s, ANN, "Sertraline", "50 mg", [time(8)], "Europe/Oslo").created_at = start - timedelta(days=1)
        activities.add(s, ANN, start + timedelta(hours=10), "choir")
        week = reminders.due_reminders(s, start, start + timedelta(days=7))
        assert len(week) == 8 and len({r.key for r in week}) == 8
        assert isinstance(week[0], DueReminder) and week[0].message_key == "toolbox.reminder.med"
        # Half-open windows: 08:00 Oslo is 07:00 UTC, due in the window that starts then, not the one ending then.
        first = {r.key for r in reminders.due_reminders(s, start, start + timedelta(hours=7))}
        second = {r.key for r in reminders.due_reminders(s, start + timedelta(hours=7), start + timedelta(days=1))}
        assert first == set() and len(second) == 2
        s.add(UserPref(user_id=ANN, on_break=True))
        s.flush()
        assert reminders.due_reminders(s, start, start + timedelta(days=7)) == []


def test_sharing_and_view_log(db):
    with db.session() as s:
        register_room(s, "!p1:localhost", RoomKind.PROVIDER, owner=ANN, partner=DOC)
        register_room(s, "!p2:localhost", RoomKind.PROVIDER, owner=ANN, partner="@nurse:localhost")
        assert sharing.linked_providers(s, ANN) == {DOC: "!p1:localhost", "@nurse:localhost": "!p2:localhost"}
        labels = {DOC: "Dr Hansen", "@nurse:localhost": None}
        assert sharing.resolve_provider(labels, "dr hansen") == DOC
        assert sharing.resolve_provider(labels, "nurse") == "@nurse:localhost"
        assert sharing.resolve_provider(labels, "@doc:localhost") == DOC
        with pytest.raises(NotFound):
            sharing.resolve_provider(labels, "Dr Who")
        with pytest.raises(Invalid):
            sharing.resolve_provider({DOC: "Kim", "@nurse:localhost": "Kim"}, "kim")
        assert sharing.share(s, ANN, sharing.item_of("mål"), DOC) is True
        assert sharing.share(s, ANN, "goals", DOC) is False
        sharing.share(s, ANN, "goals", "@nurse:localhost")
        assert sharing.record_view(s, ANN, DOC, "goals") is True
        assert sharing.record_view(s, ANN, DOC, "moods") is False
        assert [(v.item, v.shown) for v in sharing.views(s, ANN)] == [("moods", False), ("goals", True)]
        assert sharing.unshare(s, ANN, "goals", DOC) == 1
        assert sharing.record_view(s, ANN, DOC, "goals") is False
        assert sharing.unshare(s, ANN, "goals") == 1
        assert sharing.shares(s, ANN) == []


def test_exercise_progress(db):
    with db.session() as s:
        page = exercises.start(s, ANN, "en", "5-4-3-2-1")
        assert page.id == "grounding"
        steps = len(page.steps)
        for index in range(1, steps):
            found = exercises.advance(s, ANN, "en")
            assert found is not None and found[1] == index
        assert exercises.advance(s, ANN, "en") is None  # finished
        with pytest.raises(NotFound):
            exercises.advance(s, ANN, "en")
        exercises.start(s, ANN, "nb", "2")
        assert exercises.stop(s, ANN, "nb").title == "Firkantpust"
        with pytest.raises(NotFound):
            exercises.start(s, ANN, "en", "juggling")


def test_section_words_shown_to_people_are_understood(services):
    for lang in ("en", "nb"):
        for section in crisis_plan.SECTIONS:
            shown = services.catalogue.t(lang, f"toolbox.section_word.{section}")
            assert crisis_plan.section_of(shown) == section
