"""Issue 13: the planner asks the toolbox what is due every 20 seconds; what that costs does not grow
with the number of people who have a check-in, a crisis-plan review date, medicines or the monthly
overview that are not due in the window (their zones come with their rows, the moods are read only
for those whose prompt is due)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import load_only

from bot.db import FieldCipher
from bot.models import UserPref
from tests.support.core import statements
from toolbox import checkin
from toolbox.models import CheckinSetting, CrisisPlanMeta, Medication, MoodEntry, OverviewMonthly
from toolbox.reminders import due_reminders

UTC = timezone.utc
DAY = date(2026, 12, 3)  # Oslo is UTC+1
START = datetime(2026, 12, 3, 7, 58, tzinfo=UTC)  # 08:58 in Oslo
END = START + timedelta(minutes=10)
LONG_AGO = START - timedelta(days=30)


def add_the_due(s) -> None:
    """A prompt at 09:05 Oslo; one at the same time already answered by today's mood; the review
    date's morning (09:00 Oslo); one on a break; a medicine at 09:02 Oslo; and one at 03:00 in New York, the
    person's own zone (its stored zone, Oslo, would put it at 02:00 UTC)."""
    s.add(CheckinSetting(user_id="@prompted:x", clock="09:05", zone="Europe/Oslo", since=LONG_AGO))
    s.add(CheckinSetting(user_id="@logged:x", clock="09:05", zone="Europe/Oslo", since=LONG_AGO))
    s.add(CheckinSetting(user_id="@resting:x", clock="09:05", zone="Europe/Oslo", since=LONG_AGO))
    s.add(UserPref(user_id="@resting:x", on_break=True, break_until=END + timedelta(days=1)))  # paused
    s.add(MoodEntry(user_id="@logged:x", score=6, created_at=START - timedelta(hours=1)))
    s.add(MoodEntry(user_id="@prompted:x", score=6, created_at=START - timedelta(hours=9)))  # yesterday
    s.add(CrisisPlanMeta(user_id="@review:x", review_on=DAY, updated_at=LONG_AGO))
    s.add(Medication(user_id="@med:x", name="A", dose="1", times="09:02", remind=True, zone="Europe/Oslo",
                     created_at=LONG_AGO))
    s.add(UserPref(user_id="@york:x", timezone="America/New_York"))
    s.add(Medication(user_id="@york:x", name="B", dose="2", times="03:00", remind=True, zone="Europe/Oslo",
                     created_at=LONG_AGO))


def add_people_not_due(s, numbers: range) -> None:
    for n in numbers:
        user = f"@p{n}:x"
        if n % 2:
            s.add(UserPref(user_id=user, timezone=("Europe/Oslo", "Asia/Tokyo", "America/Chicago")[n % 3]))
        s.add(CheckinSetting(user_id=user, clock="20:00", zone="Europe/Oslo", since=LONG_AGO))
        s.add(MoodEntry(user_id=user, score=5, created_at=START - timedelta(minutes=n % 60)))
        s.add(CrisisPlanMeta(user_id=user, review_on=DAY + timedelta(days=1 + n % 20) if n % 4 else None,
                             updated_at=LONG_AGO))
        s.add(Medication(user_id=user, name="M", dose="1", times="08:00,20:00", remind=True, zone="Europe/Oslo",
                         created_at=LONG_AGO))
        s.add(OverviewMonthly(user_id=user, zone="Europe/Oslo", since=LONG_AGO))


def statements_and_keys(db) -> tuple[int, list[str]]:
    with statements(db.engine) as seen, db.session() as s:
        keys = [r.key for r in due_reminders(s, START, END)]
    return len(seen), keys


def test_what_is_due_costs_as_many_statements_for_200_people_not_due_as_for_5(db):
    with db.session() as s:
        add_the_due(s)
        add_people_not_due(s, range(5))
    few, keys = statements_and_keys(db)
    assert len(keys) == 4, keys
    assert [k.split(":")[0] for k in keys] == ["toolbox.med", "toolbox.crisis-review", "toolbox.med",
                                               "toolbox.checkin"]  # 08:00, 08:00, 08:02 and 08:05 UTC
    assert keys[0].endswith("2026-12-03T03:00") and keys[2].endswith("2026-12-03T09:02")
    with db.session() as s:
        add_people_not_due(s, range(5, 200))
    many, same = statements_and_keys(db)
    assert same == keys
    assert many == few, (few, many)


def test_a_sweep_window_with_hundreds_of_prompts_due_reads_their_moods_and_breaks_at_once(db):
    """A sweep looks back over the grace period (hours): many prompts fall in it; whose mood is
    logged and who is on a break is read for all of them together."""

    def people(numbers: range) -> None:
        with db.session() as s:
            for n in numbers:
                user = f"@q{n}:x"
                s.add(CheckinSetting(user_id=user, clock="09:05", zone="Europe/Oslo", since=LONG_AGO))
                if n % 3 == 0:  # answered today already
                    s.add(MoodEntry(user_id=user, score=7, created_at=START - timedelta(hours=2)))
                if n % 5 == 1:
                    s.add(UserPref(user_id=user, on_break=True, break_until=START + timedelta(minutes=1)))  # over
                if n % 5 == 2:
                    s.add(UserPref(user_id=user, on_break=True, break_until=None))

    def prompted(numbers: range) -> list[str]:
        return sorted(f"@q{n}:x" for n in numbers if n % 3 and n % 5 != 2)

    people(range(5))
    few, keys = statements_and_keys(db)
    assert sorted(k for k in keys) == sorted(checkin.prompt_key(u, DAY) for u in prompted(range(5)))
    people(range(5, 200))
    many, keys = statements_and_keys(db)
    assert sorted(k for k in keys) == sorted(checkin.prompt_key(u, DAY) for u in prompted(range(200)))
    assert many == few, (few, many)


def test_what_is_due_opens_only_the_medicines_times_and_the_due_ones_names_and_doses_when_sent(db, monkeypatch):
    """Deciding what is due opens each medicine's times only; the name and dose are opened when a
    reminder is rendered, those of the window's due medicines only, in one statement for them all
    (bound to their own rows: a wrong row key would not open)."""
    with db.session() as s:
        add_the_due(s)
        add_people_not_due(s, range(200))
    opened: list[tuple[str, str]] = []  # (column, row) of each value opened
    real = FieldCipher.decrypt

    def counting(self, token, aad=b""):
        _, table, column, row = aad.decode().split("\x1f")
        if table == Medication.__tablename__:
            opened.append((column, row))
        return real(self, token, aad)

    monkeypatch.setattr(FieldCipher, "decrypt", counting)
    with db.session() as s:
        due = [r for r in due_reminders(s, START, END) if r.key.startswith("toolbox.med:")]
        assert sorted(column for column, _ in opened) == ["times"] * 202
        rows = {str(m.id): m.user_id for m in s.scalars(select(Medication).options(load_only(Medication.user_id)))}
        opened.clear()
        with statements(db.engine) as seen:
            sent = {r.user_id: {**r.params, **r.details(s, None)} for r in due}
        assert sent == {"@york:x": {"name": "B", "dose": "2"}, "@med:x": {"name": "A", "dose": "1"}}
        assert len(seen) == 1, seen
        assert sorted((column, rows[row]) for column, row in opened) == [
            ("dose", "@med:x"), ("dose", "@york:x"), ("name", "@med:x"), ("name", "@york:x")]
