"""The consultant digest and the research figures: pure builders fed with our own lists, and
the commands; small counts suppressed."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.contracts import StatsFigure
from bot.db import utcnow
from bot.models import EnrolmentStatus, Participant
from bot.recurrence import OneOff
from rooms.digest import render_sections
from schedules import cafes, rsvp
from schedules.digest import compose, render_cafes
from schedules.models import Cafe
from schedules.personal_data import erase_person, export_person
from schedules.stats import cafe_figures, merge, months_back, render_stats, shown
from tests.support.schedules import CONSULTANT, CONSULTANT_ROOM, bodies, build_community, run, toolbox_of, user

UTC = timezone.utc
OSLO = ZoneInfo("Europe/Oslo")


@dataclass
class PostRef:
    room_id: str
    event_id: str
    posted_at: datetime


@dataclass
class FlagRef:
    kind: str
    room_id: str
    event_id: str
    at: datetime
    late: bool = False


@dataclass
class Mismatch:
    pseudonym: str
    room_id: str


def tr_en(services):
    return services.speaker.say("en")


def test_digest_lists_everything_with_links(services):
    now = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)
    cafe = Cafe(id=1, community="North", starts_at=datetime(2026, 12, 3, 17, 0, tzinfo=UTC), place="Library")
    tr = tr_en(services)
    community = render_sections(
        tr, 24, pending=["Willow", "Fern"],
        unanswered=[PostRef("!forum:x", "$p1", now - timedelta(hours=30))],
        flags=[FlagRef("privacy", "!forum:x", "$f1", now), FlagRef("crisis", "!cafe:x", "$f2", now),
               FlagRef("privacy", "!forum:x", "$f3", now)],
        mismatches=[Mismatch("Willow", "!forum:x")])
    text = compose(tr, [*community, render_cafes(tr, [(cafe, Counter(yes=4, maybe=1))], lambda c: OSLO)])
    assert "**Awaiting approval (2)**" in text and "1. Willow\n2. Fern" in text
    assert "without an answer after 24 hours (1):**\n1. https://matrix.to/#/!forum:x/$p1" in text
    assert "privacy 2, crisis 1" in text and "2. crisis: https://matrix.to/#/!cafe:x/$f2" in text
    assert "1. **North**: Thursday 3 December at 18:00, Library (👍 4 · 🤔 1 · 👎 0)" in text
    assert "1. Willow — https://matrix.to/#/!forum:x" in text
    # The title, then the sections in place: the cafés between the flags and the name mismatches.
    assert text.startswith("📋 **Daily digest**\n\n**Awaiting approval")
    assert text.index("privacy 2, crisis 1") < text.index("Upcoming cafés") < text.index("Display names")


def test_an_empty_digest_says_so(services):
    tr = tr_en(services)
    text = compose(tr, [*render_sections(tr, 12, pending=[], unanswered=[], flags=[], mismatches=[]),
                        render_cafes(tr, [], lambda c: OSLO)])
    assert "Nobody is awaiting approval" in text and "waited more than 12 hours without an answer" in text
    assert "privacy 0, crisis 0" in text and "No cafés are planned" in text and "No display-name mismatches" in text


async def test_digest_command_shows_pending_people_and_cafes(db, services):
    with db.session() as s:
        build_community(s)
        s.add(Participant(user_id=user("new"), status=EnrolmentStatus.PENDING.value, pseudonym="Newcomer",
                          pseudonym_key="newcomer", community="North"))
        cafe = cafes.schedule(s, community="North", rule=OneOff(utcnow() + timedelta(days=3)), tz=OSLO,
                              place="Library", topic=None, by=CONSULTANT, now=utcnow())
        rsvp.set_answer(s, cafe, user("ann"), "yes", utcnow())
    (text,) = bodies(await run(db, services, CONSULTANT, CONSULTANT_ROOM, "!digest"))
    assert "1. Newcomer" in text and "Library (👍 1 · 🤔 0 · 👎 0)" in text
    (refused,) = bodies(await run(db, services, user("ann"), toolbox_of("ann"), "!digest"))
    assert "not available to you" in refused


def test_small_counts_are_suppressed():
    assert [shown(n) for n in (0, 1, 2, 3, 17, None)] == ["<3", "<3", "<3", "3", "17", "–"]


def test_figures_merge_forum_and_cafe_by_month_and_community(services):
    forum = [StatsFigure("2026-11", "North", {"posts": 12, "posters": 2, "views": 40}),
             StatsFigure("2026-11", None, {"posts": 4, "posters": 1, "views": 3}),
             StatsFigure("2026-10", "South", {"posts": 1, "posters": 1, "views": 5})]
    cafe = [StatsFigure("2026-11", "North", {"rsvps_yes": 6, "attended": None}),
            StatsFigure("2026-11", "South", {"rsvps_yes": 2, "attended": 9})]
    rows = merge([*forum, *cafe])
    assert [(r.month, r.community) for r in rows] == [("2026-10", "South"), ("2026-11", ""), ("2026-11", "North"),
                                                      ("2026-11", "South")]
    text = render_stats(rows, tr_en(services), 3)
    assert "1. 2026-10 · South: posts <3, posters <3, views 5, café yes-answers –, attended –" in text
    assert "2. 2026-11 · (no community): posts 4, posters <3, views 3," in text
    assert "3. 2026-11 · North: posts 12, posters <3, views 40, café yes-answers 6, attended –" in text
    assert "4. 2026-11 · South: posts –, posters –, views –, café yes-answers <3, attended 9" in text


def test_months_back_crosses_years():
    assert months_back(datetime(2026, 2, 10, tzinfo=UTC), 3) == datetime(2025, 12, 1, tzinfo=UTC)
    assert months_back(datetime(2026, 2, 10, tzinfo=UTC), 1) == datetime(2026, 2, 1, tzinfo=UTC)


async def test_stats_command_counts_cafe_answers_and_attendance(db, services):
    now = utcnow()
    with db.session() as s:
        build_community(s)
        cafe = cafes.schedule(s, community="North", rule=OneOff(now - timedelta(hours=3)), tz=OSLO,
                              place="Library", topic=None, by=CONSULTANT, now=now - timedelta(days=5))
        for name in ("ann", "bob", "cat"):
            rsvp.set_answer(s, cafe, user(name), "yes", now - timedelta(days=4))
    (listing,) = bodies(await run(db, services, CONSULTANT, CONSULTANT_ROOM, "!cafe"))
    assert "Recent cafés" in listing and "1. **North**" in listing
    (marked,) = bodies(await run(db, services, CONSULTANT, CONSULTANT_ROOM, "!cafe attended 1 7"))
    assert "7 came" in marked
    with db.session() as s:
        (figure,) = cafe_figures(s, services.settings, months_back(now, 1) - timedelta(days=1), now)
        assert (figure.community, figure.rsvps_yes, figure.attended) == ("North", 3, 7)
    (text,) = bodies(await run(db, services, CONSULTANT, CONSULTANT_ROOM, "!stats 2"))
    assert "café yes-answers 3, attended 7" in text


async def test_export_and_erase_a_person(db, services):
    with db.session() as s:
        build_community(s)
        cafe = cafes.schedule(s, community="North", rule=OneOff(utcnow() + timedelta(days=3)), tz=OSLO,
                              place="Library", topic=None, by=CONSULTANT, now=utcnow())
        rsvp.set_answer(s, cafe, user("ann"), "maybe", utcnow())
    await run(db, services, user("ann"), toolbox_of("ann"), "!cafe buddy")
    with db.session() as s:
        data = export_person(s, user("ann"))
        assert [r["answer"] for r in data["cafe_rsvps"]] == ["maybe"]
        assert [r["kind"] for r in data["cafe_companion_requests"]] == ["buddy"]
        erase_person(s, user("ann"))
    with db.session() as s:
        assert export_person(s, user("ann")) == {"cafe_rsvps": [], "cafe_companion_requests": [],
                                                 "cafe_companion_matches": [], "cafe_followup": "on",
                                                 "cafe_followup_answers": []}
