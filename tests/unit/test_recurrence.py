"""Calendar rules in the community's zone, across DST and month ends; durations and reminder offsets.
(Reading the phrases is tested in test_timephrase.py.)"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.durations import DayOf, parse_duration, parse_offset, reminder_time
from bot.errors import Invalid
from bot.recurrence import Recurrence, nth_weekday

OSLO = ZoneInfo("Europe/Oslo")
UTC = timezone.utc
NOW = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)  # a Saturday


def local(dt: datetime) -> str:
    return dt.astimezone(OSLO).strftime("%Y-%m-%d %a %H:%M %Z")


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


def test_day_of_offsets_read_clock_times_like_everywhere_else():
    assert parse_offset("day-of kl 9") == DayOf(9, 0)
    assert parse_offset("day-of 9am") == DayOf(9, 0)
    with pytest.raises(Invalid):
        parse_offset("day-of 25:00")
