from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.errors import Invalid
from toolbox.timeparse import parse_date, parse_when, split_when

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
    ("tomorrow 25:00", "toolbox.when.unknown"),
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
