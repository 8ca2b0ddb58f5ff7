"""Recurrence and time parsing: calendar rules in the community's zone, across DST and month ends."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.errors import Invalid
from bot.durations import parse_duration
from schedules.durations import DayOf, parse_offset, reminder_time
from schedules.recurrence import OneOff, Recurrence, nth_weekday, parse_when

OSLO = ZoneInfo("Europe/Oslo")
UTC = timezone.utc
NOW = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)  # a Saturday


def local(dt: datetime) -> str:
    return dt.astimezone(OSLO).strftime("%Y-%m-%d %a %H:%M %Z")


def test_one_off_iso_date_in_winter_is_utc_plus_one():
    rule, rest = parse_when("2026-12-03 18:00 Library, 2nd floor — hope", OSLO, NOW)
    assert rule == OneOff(datetime(2026, 12, 3, 17, 0, tzinfo=UTC))
    assert rest == "Library, 2nd floor — hope"


def test_one_off_norwegian_date_and_clock_words():
    rule, rest = parse_when("03.12.2026 kl. 18.30 Biblioteket", OSLO, NOW)
    assert rule == OneOff(datetime(2026, 12, 3, 17, 30, tzinfo=UTC))
    assert rest == "Biblioteket"


def test_seconds_are_accepted_for_short_test_offsets():
    rule, rest = parse_when("2026-12-03 18:00:30 Library", OSLO, NOW)
    assert rule == OneOff(datetime(2026, 12, 3, 17, 0, 30, tzinfo=UTC)) and rest == "Library"


def test_weekday_means_the_next_one():
    rule, _ = parse_when("thursday 18:00 x", OSLO, NOW)
    assert local(rule.at) == "2026-12-03 Thu 18:00 CET"
    # Saturday 10:00 has passed today at 12:00 local, so it is next week's.
    rule, _ = parse_when("lørdag 10 x", OSLO, NOW)
    assert local(rule.at) == "2026-12-05 Sat 10:00 CET"
    rule, _ = parse_when("saturday 18 x", OSLO, NOW)
    assert local(rule.at) == "2026-11-28 Sat 18:00 CET"


def test_tomorrow_in_both_languages():
    en, rest_en = parse_when("tomorrow 9 Café Nord", OSLO, NOW)
    nb, rest_nb = parse_when("i morgen 09:00 Café Nord", OSLO, NOW)
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
    rule, rest = parse_when(text + " Library", OSLO, NOW)
    assert rule == expected and rest == "Library"
    assert Recurrence.from_canonical(rule.canonical) == rule


@pytest.mark.parametrize("text, key", [
    ("", "schedules.when.bad"),
    ("someday 18:00", "schedules.when.bad"),
    ("every first 18:00", "schedules.when.bad"),
    ("thursday", "schedules.when.bad_time"),
    ("thursday 25:00", "schedules.when.bad_time"),
    ("2026-02-30 18:00", "schedules.when.bad_date"),
    ("2026-11-01 18:00", "schedules.when.past"),
])
def test_bad_input_says_what_is_wrong(text, key):
    with pytest.raises(Invalid) as err:
        parse_when(text, OSLO, NOW)
    assert err.value.key == key


def test_monthly_rule_keeps_local_time_across_spring_dst():
    # Last Sunday of March 2026 is the 29th: the clocks go forward that night.
    rule = Recurrence(weekday=6, hour=18, minute=0, ordinal=-1)
    march = rule.next_after(datetime(2026, 3, 1, tzinfo=UTC), OSLO)
    april = rule.next_after(march, OSLO)
    assert local(march) == "2026-03-29 Sun 18:00 CEST"
    assert march == datetime(2026, 3, 29, 16, 0, tzinfo=UTC)
    assert local(april) == "2026-04-26 Sun 18:00 CEST"
    feb = rule.next_after(datetime(2026, 2, 1, tzinfo=UTC), OSLO)
    assert feb == datetime(2026, 2, 22, 17, 0, tzinfo=UTC)  # CET, one hour later in UTC


def test_weekly_rule_across_autumn_dst_is_not_a_fixed_interval():
    rule = Recurrence(weekday=6, hour=18, minute=0)  # every Sunday 18:00
    before = rule.next_after(datetime(2026, 10, 17, tzinfo=UTC), OSLO)
    change_day = rule.next_after(before, OSLO)
    assert local(before) == "2026-10-18 Sun 18:00 CEST"
    assert local(change_day) == "2026-10-25 Sun 18:00 CET"
    assert change_day - before == timedelta(days=7, hours=1)


def test_wall_time_in_the_spring_gap_and_autumn_overlap():
    rule = Recurrence(weekday=6, hour=2, minute=30)
    gap = rule.next_after(datetime(2026, 3, 28, tzinfo=UTC), OSLO)
    assert gap == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # shown as 03:30 CEST
    overlap = rule.next_after(datetime(2026, 10, 24, tzinfo=UTC), OSLO)
    assert overlap == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # the first 02:30 (CEST)


def test_fifth_weekday_skips_months_without_one():
    rule = Recurrence(weekday=3, hour=18, minute=0, ordinal=5)  # every fifth Thursday
    found = []
    after = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(4):
        after = rule.next_after(after, OSLO)
        found.append(after.astimezone(OSLO).date().isoformat())
    assert found == ["2026-01-29", "2026-04-30", "2026-07-30", "2026-10-29"]


def test_last_weekday_at_month_ends_and_leap_years():
    assert nth_weekday(2028, 2, 1, -1).isoformat() == "2028-02-29"  # leap year, Tuesday
    assert nth_weekday(2026, 2, 5, -1).isoformat() == "2026-02-28"
    assert nth_weekday(2026, 2, 6, 5) is None
    rule = Recurrence(weekday=4, hour=18, minute=0, ordinal=-1)  # last Friday
    dec = rule.next_after(datetime(2026, 12, 1, tzinfo=UTC), OSLO)
    jan = rule.next_after(dec, OSLO)
    assert (local(dec), local(jan)) == ("2026-12-25 Fri 18:00 CET", "2027-01-29 Fri 18:00 CET")


def test_first_weekday_rule_on_the_day_itself():
    rule = Recurrence(weekday=3, hour=18, minute=0, ordinal=1)
    on_day_before = rule.next_after(datetime(2026, 12, 3, 16, 59, tzinfo=UTC), OSLO)
    on_day_after = rule.next_after(datetime(2026, 12, 3, 17, 0, tzinfo=UTC), OSLO)
    assert local(on_day_before) == "2026-12-03 Thu 18:00 CET"
    assert local(on_day_after) == "2027-01-07 Thu 18:00 CET"


def test_other_zones_follow_their_own_rules():
    ny = ZoneInfo("America/New_York")
    rule, _ = parse_when("2027-07-01 18:00 x", ny, NOW)
    assert rule.at == datetime(2027, 7, 1, 22, 0, tzinfo=UTC)


@pytest.mark.parametrize("text, expected", [
    ("30s", timedelta(seconds=30)), ("45 min", timedelta(minutes=45)), ("2h", timedelta(hours=2)),
    ("3 days", timedelta(days=3)), ("2 uker", timedelta(weeks=2)), ("1d 12h", timedelta(hours=36)),
    ("12t", timedelta(hours=12)),
])
def test_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "soon", "0h", "3", "2 fortnights", "400d", "3d extra"])
def test_bad_durations(text):
    with pytest.raises(Invalid):
        parse_duration(text)


def test_offsets_before_and_on_the_day():
    starts = datetime(2026, 3, 29, 16, 0, tzinfo=UTC)  # 18:00 CEST, the day clocks go forward
    assert parse_offset("day-of 09:00") == DayOf(9, 0)
    assert reminder_time(starts, parse_offset("day-of 09:00"), OSLO) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert reminder_time(starts, parse_offset("3d"), OSLO) == datetime(2026, 3, 26, 16, 0, tzinfo=UTC)
    assert reminder_time(starts, parse_offset("30s"), OSLO) == starts - timedelta(seconds=30)
