"""!help as a newcomer meets it: commands in the order they are used, enrolment commands gone once
enrolled, ``!help COMMAND`` with arguments and an example in the reader's language, and usage lines
whose argument words are in that language too."""

from __future__ import annotations

import re

import pytest

from bot.models import Role, RoomKind, UserPref
from bot.router import Router
from tests.support.rooms import FORUM, build_community, enrol, send, toolbox_of

KARI, GUEST, CONSULTANT = "@kari:localhost", "@new:localhost", "@consultant:localhost"
DM = "!dm:localhost"


@pytest.fixture
def community(db, port):
    with db.session() as s:
        build_community(s, port)
        enrol(s, KARI, "Kari")
    return db


def norwegian(db, user_id: str) -> None:
    with db.session() as s:
        s.merge(UserPref(user_id=user_id, language="nb"))


async def test_toolbox_help_lists_in_order_of_use_without_enrolment_commands(community, services) -> None:
    (listing,) = await send(community, services, KARI, toolbox_of(KARI), "!help")
    # The overview names every command, one line per topic, in the order they are declared.
    topic_lines = [line for line in listing.splitlines() if line.startswith("- `") and "): `!" in line]
    names = [name for line in topic_lines for name in re.findall(r"`(![^`]*)`", line)]
    for gone in ("!start", "!consent", "!pseudonym", "!community"):
        assert gone not in names, gone
    order = [names.index(c) for c in ("!goal add", "!goals", "!activity add", "!mood", "!crisis", "!share")]
    assert order == sorted(order), names  # not alphabetical: goals before activities
    (toolbox,) = await send(community, services, KARI, toolbox_of(KARI), "!help toolbox")
    lines = [line[3:].split("`")[0] for line in toolbox.splitlines() if line.startswith("- `")]
    order = [next(i for i, n in enumerate(lines) if n.startswith(c)) for c in
             ("!goal add", "!goals", "!activity add", "!mood", "!crisis", "!share")]
    assert order == sorted(order), lines
    (basics,) = await send(community, services, KARI, toolbox_of(KARI), "!help basics")
    lines = [line[3:].split("`")[0] for line in basics.splitlines() if line.startswith("- `")]
    assert lines[0] == "!help [COMMAND]" and lines[-2:] == ["!export", "!forget-me [CODE]"]  # export at the end
    assert "**In your other rooms:**" in listing and "\n- a circle: `!circle leave`" in listing
    # one line per place, not the place after every command (the newcomer trial counted 50 repeats)
    assert "(a circle)" not in listing and listing.count("- a circle:") == 1


async def test_help_is_a_short_overview_and_each_topic_is_complete(community, services) -> None:
    """The newcomer trial: ``!help`` was some 60 lines. Now the most used commands and one line per
    topic; ``!help TOPIC`` lists every command of the topic with what it does."""
    (listing,) = await send(community, services, KARI, toolbox_of(KARI), "!help")
    assert len(listing.splitlines()) <= 25, listing
    assert "**Most used:**\n- `!mood SCORE [NOTE]` — check in with your mood" in listing
    assert "`!help TOPIC`" in listing and "For example `!help toolbox`" in listing
    router = services.router
    listed = [c for c in router.visible_to(Role.PARTICIPANT, RoomKind.TOOLBOX)]
    in_topics = []
    for topic in ("basics", "peers", "toolbox", "cafes"):
        assert f"- `{topic}` (" in listing, topic
        (text,) = await send(community, services, KARI, toolbox_of(KARI), f"!help {topic}")
        in_topics += [line[3:].split("`")[0] for line in text.splitlines() if line.startswith("- `!")]
    # every command of the old full list, with its summary, under exactly one topic
    assert len(in_topics) == len(listed) and len(set(in_topics)) == len(listed)
    (text,) = await send(community, services, KARI, toolbox_of(KARI), "!help toolbox")
    assert "- `!network add NAME CIRCLE [NOTE]` — add someone to your network map" in text
    norwegian(community, KARI)
    (text,) = await send(community, services, KARI, toolbox_of(KARI), "!help verktøykasse")
    assert "**verktøykasse**" in text and "`!network add NAVN SIRKEL [NOTAT]`" in text
    (listing,) = await send(community, services, KARI, toolbox_of(KARI), "!help")
    assert "**Mest brukt:**" in listing and "`!help verktøykasse`" in listing
    # a short list stays whole: a guest sees every command at once
    (guest,) = await send(community, services, GUEST, DM, "!help")
    assert "Most used" not in guest and "`!start`" in guest


async def test_a_guest_still_sees_the_enrolment_commands_and_start_takes_extra_words(community, services) -> None:
    (listing,) = await send(community, services, GUEST, DM, "!help")
    assert "`!start`" in listing and "`!consent`" in listing and "`!pseudonym NAME`" in listing
    replies = await send(community, services, GUEST, DM, "!start please")
    assert any("not for emergencies" in r for r in replies), replies
    (again,) = await send(community, services, KARI, toolbox_of(KARI), "!start")
    assert "already" in again  # enrolled people are not listed it, but it still answers


async def test_help_for_a_command_of_several_words_explains_it(community, services) -> None:
    (text,) = await send(community, services, CONSULTANT, "!consultants:localhost", "!help cafe schedule")
    assert "`!cafe schedule COMMUNITY WHEN PLACE [— topic] [anyway]`" in text
    assert "**Arguments**" in text and "`WHEN` — a time" in text
    assert "**Example:** `!cafe schedule North every first thursday 18:00" in text


async def test_help_for_a_command_with_a_family_lists_the_family(community, services) -> None:
    """The newcomer trial: ``!help cafe`` showed only ``!cafe``, so ``!cafe schedule`` could not be
    found from it; ``!help crisis`` hid add, pdf and review."""
    (text,) = await send(community, services, CONSULTANT, "!consultants:localhost", "!help cafe")
    assert "**More of this family:**" in text and "`!cafe schedule" in text and "`!help cafe" in text
    (text,) = await send(community, services, KARI, toolbox_of(KARI), "!help crisis")
    assert all(f"`!crisis {word}" in text for word in ("add", "pdf", "review")), text
    norwegian(community, KARI)
    (text,) = await send(community, services, KARI, toolbox_of(KARI), "!help crisis")
    assert "**Flere kommandoer i samme familie:**" in text
    (text,) = await send(community, services, KARI, toolbox_of(KARI), "!help goal add")
    assert "famil" not in text  # a command without a family: nothing more


async def test_help_in_norwegian_names_arguments_in_norwegian(community, services) -> None:
    norwegian(community, KARI)
    (text,) = await send(community, services, KARI, toolbox_of(KARI), "!help activity add")
    assert "`!activity add NÅR TEKST`" in text and "WHEN" not in text and "TEXT" not in text
    assert "**Argumenter**" in text and "**Eksempel:** `!activity add i morgen 10:00" in text
    (group,) = await send(community, services, KARI, toolbox_of(KARI), "!help goal")
    assert "`!goal add [OMRÅDE:] TEKST`" in group and "`!help goal add`" in group
    replies = await send(community, services, KARI, toolbox_of(KARI), "!activity add")
    assert any("NÅR TEKST" in r for r in replies) and not any("WHEN" in r for r in replies), replies


async def test_help_for_a_command_used_elsewhere_says_where(community, services) -> None:
    from tests.support.rooms import outbox
    assert await send(community, services, KARI, FORUM, "!help goal add") == []  # help is answered privately
    text = outbox(community, toolbox_of(KARI))[-1]
    assert "**Example:**" in text and "This works in:" in text


async def test_help_for_an_unknown_command_suggests(community, services) -> None:
    (text,) = await send(community, services, KARI, toolbox_of(KARI), "!help gaol add")
    assert "`!help goal add`" in text


async def test_norwegian_words_for_switches_and_answers(community, services) -> None:
    from bot.router import parse_args
    await send(community, services, KARI, toolbox_of(KARI), "!med add Sertralin 50mg 08:00")
    (on,) = await send(community, services, KARI, toolbox_of(KARI), "!med remind 1 på")
    (off,) = await send(community, services, KARI, toolbox_of(KARI), "!med remind 1 av")
    assert on != off and "remind" in on.lower() and "remind" in off.lower()
    rsvp = services.router.by_name["rsvp"]
    assert parse_args(rsvp, "ja") == {"answer": "yes", "n": None}
    assert parse_args(rsvp, "kanskje 2") == {"answer": "maybe", "n": 2}
    assert parse_args(rsvp, "nei") == {"answer": "no", "n": None}
    assert parse_args(services.router.by_name["cafe cancel"], "3 serie ja") == {"n": 3, "scope": "series",
                                                                                 "confirm": "yes"}


def test_every_listed_command_has_an_example_that_runs_that_command(services) -> None:
    router: Router = services.router
    cat = services.catalogue
    for cmd in router.commands:
        if cmd.hidden:
            continue
        key = cmd.help.replace(".help.", ".example.")
        for lang in ("en", "nb"):
            example = cat.messages[lang].get(key)
            assert example, (lang, key)
            body = example.replace("{p}", "!").split(" (")[0]
            assert router.match(body).command is cmd, (lang, key, example)
