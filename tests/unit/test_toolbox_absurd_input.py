"""Absurd input gets a clear reply, never "something went wrong" (issue 11, Low): dates far ahead,
year 9999 in a zone west of UTC, a far-future activity stored before such dates were refused,
and a network contact whose name reads as matplotlib mathtext."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot.errors import Invalid
from bot.timephrase import MAX_YEARS_AHEAD, WhenKeys, parse_date, parse_when, split_when
from tests.unit.test_toolbox_commands import ANN, enrol, reply, say
from toolbox import charts
from toolbox.models import Activity
from toolbox.network import CIRCLES

KEYS = WhenKeys("u", "t", "p", "b", "d")
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
NEW_YORK = ZoneInfo("America/New_York")
TOO_FAR = f"more than {MAX_YEARS_AHEAD} years ahead"


@pytest.mark.parametrize("phrase", ["in 9999 years", "om 9999 år", "in 200 years", "in 5000 months",
                                    "in 99999 days", "9999-12-31 23:00", "31.12.9999 kl 23",
                                    "2040-01-01 10:00"])
def test_far_dates_are_refused_as_too_far(phrase: str) -> None:
    with pytest.raises(Invalid) as refused:
        parse_when(phrase, NEW_YORK, NOW, KEYS)
    assert refused.value.key == "core.when.too_far"
    with pytest.raises(Invalid) as refused:
        split_when(phrase + " walk", NEW_YORK, NOW, KEYS)
    assert refused.value.key == "core.when.too_far"


def test_dates_within_the_horizon_still_work() -> None:
    assert parse_when("in 9 years", NEW_YORK, NOW, KEYS).year == 2035
    assert parse_when("2036-12-01 10:00", NEW_YORK, NOW, KEYS).year == 2036
    assert parse_date("2030-03-01", NEW_YORK, NOW, KEYS).year == 2030
    with pytest.raises(Invalid) as refused:
        parse_date("9999-12-31", NEW_YORK, NOW, KEYS)
    assert refused.value.key == "core.when.too_far"


async def test_absurd_activity_dates_get_a_clear_reply(db, services) -> None:
    with db.session() as s:
        enrol(s)
        assert TOO_FAR in await reply(s, services, "!activity add in 9999 years walk")
        assert "America/New_York" in await reply(s, services, "!timezone America/New_York")
        assert TOO_FAR in await reply(s, services, "!activity add 9999-12-31 23:30 walk")
        assert "mer enn 10 år fram i tid" in await reply(s, services, "!lang nb") + await reply(
            s, services, "!activity add om 9999 år gå tur")


async def test_a_stored_far_future_activity_still_lists_after_a_timezone_change(db, services) -> None:
    with db.session() as s:
        enrol(s)
        s.add(Activity(user_id=ANN, text="see the new millennium", due_at=datetime(9999, 12, 31, 23, 30, tzinfo=timezone.utc)))
        s.commit()
        assert "see the new millennium" in await reply(s, services, "!activities")
        for zone in ("Europe/Oslo", "Pacific/Kiritimati", "America/New_York"):
            await reply(s, services, f"!timezone {zone}")
            assert "see the new millennium" in await reply(s, services, "!activities")


@pytest.mark.parametrize("name", ["$$$$", "$x^$", "$\\frac{1}{0}$", "a$b$c", "\\$", "$"])
def test_network_map_draws_dollar_names_as_typed(name: str) -> None:
    png = charts.network_map([(name, "close"), ("Mum", "family")], "You", {c: c for c in CIRCLES})
    assert Image.open(io.BytesIO(png.data)).format == "PNG"


async def test_network_map_of_a_contact_named_dollars(db, services, port) -> None:
    with db.session() as s:
        enrol(s)
        await reply(s, services, "!network add $$$$ friends")
        (image,) = await say(s, services, "!network map")
        assert image["msgtype"] == "m.image" and "Friends: $$$$" in image["body"]
        assert Image.open(io.BytesIO(port.uploads[-1])).format == "PNG"
