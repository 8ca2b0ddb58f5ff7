"""The one time-phrase reader: the phrases activities, crisis-plan dates, medication and cafés accept,
in English and Norwegian, and the refusals each feature words in its own catalogue."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from bot import timephrase
from bot.errors import Invalid
from bot.recurrence import OneOff, Recurrence
from bot.timephrase import read_clock, split_rule
from schedules.commands.common import WHEN_KEYS as CAFE_KEYS
from toolbox.commands.common import WHEN_KEYS as TOOLBOX_KEYS
from toolbox.meds import parse_entry

UTC = timezone.utc


def parse_when(text: str, zone: ZoneInfo, now: datetime) -> datetime:
    return timephrase.parse_when(text, zone, now, TOOLBOX_KEYS)


def parse_date(text: str, zone: ZoneInfo, now: datetime) -> date:
    return timephrase.parse_date(text, zone, now, TOOLBOX_KEYS)


def split_when(text: str, zone: ZoneInfo, now: datetime) -> tuple[datetime, str]:
    return timephrase.split_when(text, zone, now, TOOLBOX_KEYS)


def cafe_when(text: str, zone: ZoneInfo, now: datetime) -> tuple[OneOff | Recurrence, str]:
    return split_rule(text, zone, now, CAFE_KEYS)

OSLO = ZoneInfo("Europe/Oslo")
# Saturday 28 November 2026, 12:00 in Oslo (UTC+1).
NOW = datetime(2026, 11, 28, 11, 0, tzinfo=timezone.utc)


def oslo(*args: int) -> datetime:
    return datetime(*args, tzinfo=OSLO).astimezone(timezone.utc)


@pytest.mark.parametrize("phrase, expected", [
    ("tomorrow 10:00", oslo(2026, 11, 29, 10, 0)),
    ("i morgen kl 10", oslo(2026, 11, 29, 10, 0)),
    ("I morgen kl. 10.30", oslo(2026, 11, 29, 10, 30)),
    ("friday 9", oslo(2026, 12, 4, 9, 0)),
    ("fredag kl 9", oslo(2026, 12, 4, 9, 0)),
    ("on friday at 9pm", oslo(2026, 12, 4, 21, 0)),
    ("2026-12-03 18:00", oslo(2026, 12, 3, 18, 0)),
    ("today 18", oslo(2026, 11, 28, 18, 0)),
    ("i dag kl 18", oslo(2026, 11, 28, 18, 0)),
    ("18:00", oslo(2026, 11, 28, 18, 0)),
    ("9:00", oslo(2026, 11, 29, 9, 0)),  # passed today, so tomorrow
    ("in 2 hours", NOW.replace(hour=13)),
    ("om 2 timer", NOW.replace(hour=13)),
    ("om en halvtime", NOW.replace(minute=30)),
    ("in 3 days", oslo(2026, 12, 1, 12, 0)),
    ("next monday 8:30", oslo(2026, 11, 30, 8, 30)),
    ("neste mandag kl 8.30", oslo(2026, 11, 30, 8, 30)),
    ("saturday 10", oslo(2026, 12, 5, 10, 0)),  # today's 10:00 has passed: next week
    ("saturday 15", oslo(2026, 11, 28, 15, 0)),
    ("next saturday 15", oslo(2026, 12, 5, 15, 0)),
    ("3. desember kl 18", oslo(2026, 12, 3, 18, 0)),
    ("december 3rd 6pm", oslo(2026, 12, 3, 18, 0)),
    ("3.12.2026 18:00", oslo(2026, 12, 3, 18, 0)),
    ("2.1. kl 9", oslo(2027, 1, 2, 9, 0)),
    ("i overmorgen kl 7", oslo(2026, 11, 30, 7, 0)),
])
def test_phrases(phrase, expected):
    assert parse_when(phrase, OSLO, NOW) == expected


@pytest.mark.parametrize("phrase, key", [
    ("tomorrow", "toolbox.when.need_time"),
    ("banana", "toolbox.when.unknown"),
    ("today 9", "toolbox.when.past"),
    ("2026-02-30 10:00", "toolbox.when.unknown"),
    ("tomorrow 25:00", "core.when.bad_clock"),  # not "tomorrow" without a clock time
    ("i morgen kl 24", "core.when.bad_clock"),
    ("tomorrow 10:75", "core.when.bad_clock"),
    ("9", "toolbox.when.unknown"),  # a bare number is not a time without a day or "kl"
])
def test_bad_phrases(phrase, key):
    with pytest.raises(Invalid) as err:
        parse_when(phrase, OSLO, NOW)
    assert err.value.key == key


def test_spring_forward_day():
    # 2026-03-29: clocks go from 02:00 to 03:00 in Oslo. The day before, at noon.
    now = datetime(2026, 3, 28, 11, 0, tzinfo=timezone.utc)
    assert parse_when("tomorrow 10:00", OSLO, now) == datetime(2026, 3, 29, 8, 0, tzinfo=timezone.utc)
    assert parse_when("tomorrow 01:30", OSLO, now) == datetime(2026, 3, 29, 0, 30, tzinfo=timezone.utc)
    # Local times on either side differ by a 23-hour day: "in 1 day" keeps the wall clock.
    assert parse_when("in 1 day", OSLO, now).astimezone(OSLO).hour == 12
    assert parse_when("in 24 hours", OSLO, now).astimezone(OSLO).hour == 13


def test_nonexistent_local_time_moves_forward():
    now = datetime(2026, 3, 28, 11, 0, tzinfo=timezone.utc)
    at = parse_when("tomorrow 02:30", OSLO, now)
    assert at == datetime(2026, 3, 29, 1, 30, tzinfo=timezone.utc)
    assert at.astimezone(OSLO).strftime("%H:%M") == "03:30"


def test_fall_back_day():
    # 2026-10-25: clocks go from 03:00 back to 02:00; 02:30 happens twice, the first is meant.
    now = datetime(2026, 10, 24, 10, 0, tzinfo=timezone.utc)
    assert parse_when("tomorrow 02:30", OSLO, now) == datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc)
    assert parse_when("i morgen kl 10", OSLO, now) == datetime(2026, 10, 25, 9, 0, tzinfo=timezone.utc)
    assert parse_when("søndag kl 18", OSLO, now) == datetime(2026, 10, 25, 17, 0, tzinfo=timezone.utc)


def test_other_zone():
    ny = ZoneInfo("America/New_York")
    assert parse_when("tomorrow 10:00", ny, NOW) == datetime(2026, 11, 29, 15, 0, tzinfo=timezone.utc)


def test_split_when_takes_longest_phrase():
    assert split_when("tomorrow 10:00 walk in the park", OSLO, NOW) == (oslo(2026, 11, 29, 10), "walk in the park")
    assert split_when("i morgen kl 10 gå en tur", OSLO, NOW) == (oslo(2026, 11, 29, 10), "gå en tur")
    assert split_when("in 2 hours call mum", OSLO, NOW) == (NOW.replace(hour=13), "call mum")
    assert split_when("friday 9 9 people at the café", OSLO, NOW)[1] == "9 people at the café"


def test_split_when_reports_the_useful_reason():
    with pytest.raises(Invalid) as err:
        split_when("today 9 swim", OSLO, NOW)
    assert err.value.key == "toolbox.when.past"
    with pytest.raises(Invalid) as err:
        split_when("tomorrow swim", OSLO, NOW)
    assert err.value.key == "toolbox.when.need_time"


def test_a_clock_time_no_day_has_is_named_as_typed():
    """The newcomer trial: ``!activity add tomorrow 25:00 walk`` was told to add a clock time."""
    for text, typed in (("tomorrow 25:00 walk", "25:00"), ("25:00 walk", "25:00"), ("friday kl 24 swim", "24"),
                        ("tomorrow 13pm call", "13pm")):
        with pytest.raises(Invalid) as err:
            split_when(text, OSLO, NOW)
        assert (err.value.key, err.value.params) == ("core.when.bad_clock", {"clock": typed}), text
    with pytest.raises(Invalid) as err:
        cafe_when("every first thursday 25:00 Library", OSLO, NOW)
    assert (err.value.key, err.value.params) == ("core.when.bad_clock", {"clock": "25:00"})
    # A bare number is no clock time: the day still lacks one, and "25.12" may be a date.
    for text, key in (("tomorrow 99 balloons", "toolbox.when.need_time"), ("25.12 party", "toolbox.when.unknown")):
        with pytest.raises(Invalid) as err:
            split_when(text, OSLO, NOW)
        assert err.value.key == key, text


def test_parse_date():
    assert parse_date("2027-03-01", OSLO, NOW) == date(2027, 3, 1)
    assert parse_date("1.3.2027", OSLO, NOW) == date(2027, 3, 1)
    assert parse_date("next friday", OSLO, NOW) == date(2026, 12, 4)
    assert parse_date("om 3 uker", OSLO, NOW) == date(2026, 12, 19)
    assert parse_date("om 3 måneder", OSLO, NOW) == date(2027, 2, 28)
    assert parse_date("in 1 year", OSLO, NOW) == date(2027, 11, 28)
    assert parse_date("in 3 months", OSLO, datetime(2026, 11, 30, 11, 0, tzinfo=timezone.utc)) == date(2027, 2, 28)
    with pytest.raises(Invalid):
        parse_date("tomorrow 10:00", OSLO, NOW)


# --- cafés: one-off and recurring (the phrases schedules accepted before the merge) -------------

def local(dt: datetime) -> str:
    return dt.astimezone(OSLO).strftime("%Y-%m-%d %a %H:%M %Z")


def test_one_off_iso_date_in_winter_is_utc_plus_one():
    rule, rest = cafe_when("2026-12-03 18:00 Library, 2nd floor — hope", OSLO, NOW)
    assert rule == OneOff(datetime(2026, 12, 3, 17, 0, tzinfo=UTC))
    assert rest == "Library, 2nd floor — hope"


def test_one_off_norwegian_date_and_clock_words():
    rule, rest = cafe_when("03.12.2026 kl. 18.30 Biblioteket", OSLO, NOW)
    assert rule == OneOff(datetime(2026, 12, 3, 17, 30, tzinfo=UTC))
    assert rest == "Biblioteket"


def test_seconds_are_accepted_for_short_test_offsets():
    rule, rest = cafe_when("2026-12-03 18:00:30 Library", OSLO, NOW)
    assert rule == OneOff(datetime(2026, 12, 3, 17, 0, 30, tzinfo=UTC)) and rest == "Library"


def test_weekday_means_the_next_one():
    rule, _ = cafe_when("thursday 18:00 x", OSLO, NOW)
    assert local(rule.at) == "2026-12-03 Thu 18:00 CET"
    # Saturday 10:00 has passed today at 12:00 local, so it is next week's.
    rule, _ = cafe_when("lørdag 10 x", OSLO, NOW)
    assert local(rule.at) == "2026-12-05 Sat 10:00 CET"
    rule, _ = cafe_when("saturday 18 x", OSLO, NOW)
    assert local(rule.at) == "2026-11-28 Sat 18:00 CET"


def test_tomorrow_in_both_languages():
    en, rest_en = cafe_when("tomorrow 9 Café Nord", OSLO, NOW)
    nb, rest_nb = cafe_when("i morgen 09:00 Café Nord", OSLO, NOW)
    assert en == nb and local(en.at) == "2026-11-29 Sun 09:00 CET"
    assert rest_en == rest_nb == "Café Nord"


@pytest.mark.parametrize("text, expected", [
    ("every first thursday 18:00", Recurrence(3, 18, 0, 1)),
    ("every 2nd tuesday 17:30", Recurrence(1, 17, 30, 2)),
    ("every last friday 18", Recurrence(4, 18, 0, -1)),
    ("hver første torsdag 18:00", Recurrence(3, 18, 0, 1)),
    ("hver 2. tirsdag kl 17.30", Recurrence(1, 17, 30, 2)),
    ("hver siste fredag 18", Recurrence(4, 18, 0, -1)),
    ("every wednesday 12:15", Recurrence(2, 12, 15, None)),
    ("hver onsdag 12:15", Recurrence(2, 12, 15, None)),
])
def test_recurring_forms(text, expected):
    rule, rest = cafe_when(text + " Library", OSLO, NOW)
    assert rule == expected and rest == "Library"
    assert Recurrence.from_canonical(rule.canonical) == rule


@pytest.mark.parametrize("text, key", [
    ("", "schedules.when.bad"),
    ("someday 18:00", "schedules.when.bad"),
    ("every first 18:00", "schedules.when.bad"),
    ("thursday", "schedules.when.bad_time"),
    ("thursday 25:00", "core.when.bad_clock"),  # names the clock time no day has
    ("2026-02-30 18:00", "schedules.when.bad_date"),
    ("2026-11-01 18:00", "schedules.when.past"),
])
def test_bad_input_says_what_is_wrong(text, key):
    with pytest.raises(Invalid) as err:
        cafe_when(text, OSLO, NOW)
    assert err.value.key == key


def test_other_zones_follow_their_own_rules():
    ny = ZoneInfo("America/New_York")
    rule, _ = cafe_when("2027-07-01 18:00 x", ny, NOW)
    assert rule.at == datetime(2027, 7, 1, 22, 0, tzinfo=UTC)


# --- one vocabulary: phrases once read on one side only now read on the other -------------------

@pytest.mark.parametrize("text, expected", [
    ("next monday 8:30 Library", oslo(2026, 11, 30, 8, 30)),
    ("neste mandag kl 8.30 Biblioteket", oslo(2026, 11, 30, 8, 30)),
    ("3. desember kl 18 Biblioteket", oslo(2026, 12, 3, 18, 0)),
    ("december 3rd 6pm Library", oslo(2026, 12, 3, 18, 0)),
    ("i overmorgen kl 7 Biblioteket", oslo(2026, 11, 30, 7, 0)),
    ("on friday at 9pm Library", oslo(2026, 12, 4, 21, 0)),
    ("18:00 Library", oslo(2026, 11, 28, 18, 0)),
    ("in 2 hours Library", NOW.replace(hour=13)),
])
def test_cafes_read_the_toolbox_phrases(text, expected):
    rule, rest = cafe_when(text, OSLO, NOW)
    assert rule == OneOff(expected)
    assert rest.split()[0] in ("Library", "Biblioteket")


@pytest.mark.parametrize("text, expected", [
    ("every thursday at 6pm Library", Recurrence(3, 18, 0, None)),
    ("hver første torsdag klokka 18 Biblioteket", Recurrence(3, 18, 0, 1)),
])
def test_recurring_cafes_read_the_toolbox_clock_forms(text, expected):
    rule, _ = cafe_when(text, OSLO, NOW)
    assert rule == expected


@pytest.mark.parametrize("phrase, expected", [
    ("thursdays 18:00", oslo(2026, 12, 3, 18, 0)),
    ("torsdager kl 18", oslo(2026, 12, 3, 18, 0)),
    ("thur 18", oslo(2026, 12, 3, 18, 0)),
    ("man 9", oslo(2026, 11, 30, 9, 0)),
    ("2026-12-03 18:00:30", oslo(2026, 12, 3, 18, 0, 30)),
])
def test_activities_read_the_cafe_phrases(phrase, expected):
    assert parse_when(phrase, OSLO, NOW) == expected


def test_a_date_the_calendar_lacks_is_worded_by_each_feature():
    with pytest.raises(Invalid) as err:
        split_when("2026-02-30 10:00 swim", OSLO, NOW)
    assert err.value.key == "toolbox.when.unknown"
    with pytest.raises(Invalid) as err:
        cafe_when("30.2.2026 kl 18 Library", OSLO, NOW)
    assert err.value.key == "schedules.when.bad_date"


def test_clock_times_for_medication_and_offsets():
    assert read_clock("kl 9") == time(9, 0)
    assert read_clock("9", bare_ok=False) is None
    assert read_clock("8pm", bare_ok=False) == time(20, 0)
    assert parse_entry("Sertraline 50 mg 08:00,20.00") == ("Sertraline", "50 mg", [time(8, 0), time(20, 0)])
    assert parse_entry("Sertraline 50 mg 8am 8pm") == ("Sertraline", "50 mg", [time(8, 0), time(20, 0)])
    assert parse_entry("Paracetamol 2 tablets 2") == ("Paracetamol", "2 tablets 2", [])
