"""The one zone resolver: the person's own zone, else their community's, else Europe/Oslo."""

from __future__ import annotations

import pytest

from bot.errors import Invalid
from bot.models import Participant, UserPref
from bot.zones import community_zone, person_zone, preferred_zone, valid_zone, zone_name
from tests.support.core import test_settings

SETTINGS = test_settings(communities=[{"name": "North", "timezone": "America/New_York"}, {"name": "South"}])


def test_person_then_community_then_default(db):
    with db.session() as s:
        s.add_all([Participant(user_id="@ann:x", community="North"), Participant(user_id="@bob:x", community="North"),
                   Participant(user_id="@cat:x", community="Gone")])
        s.add(UserPref(user_id="@ann:x", timezone="Asia/Tokyo"))
        s.add(UserPref(user_id="@bob:x", timezone="Not/AZone"))
    with db.session() as s:
        assert zone_name(s, SETTINGS, "@ann:x") == "Asia/Tokyo"
        assert zone_name(s, SETTINGS, "@bob:x") == "America/New_York"  # an unknown preference is ignored
        assert zone_name(s, SETTINGS, "@cat:x") == "Europe/Oslo"
        assert zone_name(s, SETTINGS, "@nobody:x") == "Europe/Oslo"
        assert str(person_zone(s, SETTINGS, "@ann:x")) == "Asia/Tokyo"
        assert str(preferred_zone(s, "@bob:x", "America/New_York")) == "America/New_York"


def test_community_zone():
    assert str(community_zone(SETTINGS, "north")) == "America/New_York"
    assert str(community_zone(SETTINGS, "South")) == str(community_zone(SETTINGS, None)) == "Europe/Oslo"


def test_valid_zone():
    assert valid_zone("europe/oslo") == "Europe/Oslo"
    with pytest.raises(Invalid):
        valid_zone("Mars/Olympus")
