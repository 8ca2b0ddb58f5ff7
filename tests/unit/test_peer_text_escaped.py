"""Issue 11, finding 8: text a person typed reaches others as that text, never as live HTML or
Markdown "from the bot" (a phishing link, a heading, an image, a forged reply quote), wherever the
bot shows it: a reveal message, a circle name, a report reason, a hidden message's text."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from bot.markup import Markdown, fill, literal, plain_text, render_markdown
from bot.outbox import notice_content
from tests.support.core import queued, test_settings
from tests.support.rooms import CONSULTANTS, FORUM, build_community, enrol, send, toolbox_of

KARI, OLA, PER, LIV = "@kari:localhost", "@ola:localhost", "@per:localhost", "@liv:localhost"
CONSULTANT = "@consultant:localhost"
POST = "$post:localhost"

HOSTILE = [
    "<a href=https://evil.example/login>your bank</a>",
    "<h1>URGENT from the staff</h1>",
    "[verify your account](https://evil.example/login)",
    "![pixel](https://evil.example/track.png)",
    "<mx-reply><blockquote>fake quote</blockquote></mx-reply>hi",
]
LIVE = ("<a", "<h1", "<img", "<mx-reply", "<blockquote")


def shown_text(formatted: str) -> str:
    """What a reader sees of an HTML body: the text, entities decoded."""
    return html.unescape(re.sub(r"<[^>]*>", "", formatted))


def assert_literal(content: dict[str, Any], typed: str, *, template_tags: tuple[str, ...] = ()) -> None:
    formatted = content["formatted_body"]
    for tag in template_tags:  # the template's own formatting, once
        assert formatted.count(tag) == 1, formatted
    assert not any(tag in formatted for tag in LIVE if tag not in template_tags), formatted
    assert typed in shown_text(formatted), formatted
    assert typed in content["body"]


def last_in(db, room_id: str) -> dict[str, Any]:
    with db.session() as s:
        return [c for r, c in queued(s) if r == room_id][-1]


@pytest.fixture
def community(db, port):
    with db.session() as s:
        build_community(s, port)
        for user_id, name in ((KARI, "Kari"), (OLA, "Ola"), (PER, "Per"), (LIV, "Liv")):
            enrol(s, user_id, name, port=port)
    return db


@pytest.mark.parametrize("typed", HOSTILE)
async def test_reveal_message_reaches_the_peer_as_typed(community, services, typed) -> None:
    await send(community, services, KARI, toolbox_of(KARI), f"!reveal Ola {typed}")
    await send(community, services, OLA, toolbox_of(OLA), "!accept")
    assert_literal(last_in(community, toolbox_of(OLA)), typed)


@pytest.mark.parametrize("typed", HOSTILE)
async def test_circle_name_reaches_invitees_and_the_room_as_typed(community, services, port, typed) -> None:
    await send(community, services, KARI, toolbox_of(KARI), f"!circle create {typed} with Ola")
    assert_literal(last_in(community, toolbox_of(OLA)), typed)
    await send(community, services, OLA, toolbox_of(OLA), "!accept")
    ((room_id, spec),) = port.called("create_room")
    assert typed not in spec.name and typed not in spec.topic  # state stays generic
    assert_literal(last_in(community, room_id), typed)


@pytest.mark.parametrize("typed", HOSTILE)
async def test_report_reason_reaches_the_consultants_as_typed(community, services, port, typed) -> None:
    port.events[(FORUM, POST)] = {"sender": OLA, "type": "m.room.message",
                                  "content": {"msgtype": "m.text", "body": "something"}}
    await send(community, services, KARI, FORUM, f"!report {typed}", reply_to=POST)
    assert_literal(last_in(community, CONSULTANTS), typed)


@pytest.mark.parametrize("typed", HOSTILE)
async def test_hidden_text_is_shown_to_the_consultant_as_typed(community, services, port, typed) -> None:
    from bot.context import Services

    closed = Services(settings=test_settings(moderation={"staffed_hours": "sun 03:00-03:01"}),
                      catalogue=services.catalogue, port=services.port, router=services.router,
                      features=services.features)
    port.events[(FORUM, POST)] = {"sender": OLA, "type": "m.room.message",
                                  "content": {"msgtype": "m.text", "body": typed}}
    for reporter in (KARI, PER, LIV):
        await send(community, closed, reporter, FORUM, "!report", reply_to=POST)
    await send(community, closed, CONSULTANT, CONSULTANTS, "!hidden 1")
    assert_literal(last_in(community, CONSULTANTS), typed, template_tags=("<blockquote",))  # "> {text}"


async def test_pseudonym_with_markdown_characters_is_not_formatting(community, services) -> None:
    with community.session() as s:
        enrol(s, "@under:localhost", "_Tom_")
    await send(community, services, "@under:localhost", toolbox_of("@under:localhost"), "!reveal Ola hello")
    content = last_in(community, toolbox_of(OLA))
    assert "<em>" not in content["formatted_body"] and "_Tom_" in shown_text(content["formatted_body"])
    assert "_Tom_" in content["body"]


# --- the renderer itself ------------------------------------------------------------------------

def test_catalogue_markdown_stays_formatting_and_values_stay_text(services) -> None:
    text = services.catalogue.t("en", "rooms.reveal.delivered", pseudonym="Kari", message="**hi** `x`")
    content = notice_content(text)
    assert "<strong>Kari</strong>" in content["formatted_body"]  # the template's own bold
    assert "**hi** `x`" in shown_text(content["formatted_body"]) and "<code>" not in content["formatted_body"]
    assert content["body"].endswith("**hi** `x`")  # the plain body shows what was typed, no backslashes


def test_value_inside_a_template_code_span_cannot_close_it() -> None:
    out = fill("Send `{p}help {cmd}` now", {"p": "!", "cmd": "a` <b>[x](y)"})
    assert render_markdown(out) == "<p>Send <code>!help a' &lt;b&gt;[x](y)</code> now</p>"


def test_composed_markdown_is_kept_only_when_marked() -> None:
    line = fill("**{name}**", {"name": "<i>x</i>"})
    assert isinstance(line, Markdown)
    assert "<strong>&lt;i&gt;x&lt;/i&gt;</strong>" in render_markdown(fill("{lines}", {"lines": line}))
    assert "<strong>" not in render_markdown(fill("{lines}", {"lines": str(line)}))  # unmarked: shown as text


@pytest.mark.parametrize("typed", [
    "# heading", "> quote", "- item", "+ item", "1. item", "2) item", "line\n===", "line\n---", "***",
    "    indented code", "a\n\n    code", "<https://evil.example>", "&lt;b&gt; &amp; &#60;", "\\*not\\*",
    "~~gone~~", "```\nfence\n```", "[ref]: https://evil.example", "text  \nbreak", "a | b\n--|--\nc | d",
])
def test_literal_leaves_no_markdown_construct(typed) -> None:
    formatted = render_markdown(literal(typed))
    assert re.sub(r"</?(p|br ?/?)>", "", formatted).count("<") == 0, formatted
    assert shown_text(formatted).split() == typed.split()  # the same words and signs, in order
    assert plain_text(literal(typed)) == re.sub(r"(^|\n)[ \t]+", r"\1", typed)  # less leading indentation


def test_sanitiser_keeps_only_the_matrix_subset() -> None:
    from bot.markup import _sanitise

    dirty = ('<p onclick="x()">a</p><script>alert(1)</script><iframe src="https://x"></iframe>'
             '<a href="javascript:alert(1)">j</a><a href="https://ok.example" style="x">ok</a>'
             '<img src="https://evil.example/p.png"><img src="mxc://server/id" alt="fine">'
             '<mx-reply>quote</mx-reply><code class="language-py evil">c</code><code class="evil">d</code>')
    clean = _sanitise(dirty)
    assert clean == ('<p>a</p><a>j</a><a href="https://ok.example">ok</a><img><img src="mxc://server/id" alt="fine">'
                     '<code class="language-py evil">c</code><code>d</code>')


@pytest.mark.parametrize("typed", HOSTILE)
async def test_announcement_reaches_the_rooms_as_typed(community, services, typed) -> None:
    await send(community, services, CONSULTANT, CONSULTANTS, f"!announce {typed}")
    assert_literal(last_in(community, FORUM), typed)


@pytest.mark.parametrize("typed", HOSTILE)
async def test_cafe_prompt_reaches_the_forum_as_typed(db, services, typed) -> None:
    from datetime import datetime, timedelta, timezone
    from zoneinfo import ZoneInfo

    from bot.recurrence import OneOff
    from schedules import cafes
    from schedules.delivery import sweep
    from tests.support import schedules as cafe_support

    t0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
    starts = datetime(2026, 12, 10, 17, 0, tzinfo=timezone.utc)
    with db.session() as s:
        cafe_support.build_community(s)
        cafe = cafes.schedule(s, community="North", rule=OneOff(starts), tz=ZoneInfo("Europe/Oslo"), place="Library",
                              topic=None, by=CONSULTANT, now=t0)
        cafes.set_prompt(s, cafe, typed, CONSULTANT, t0)
    for now in (t0, starts - timedelta(days=3)):
        with db.session() as s:
            sweep(s, services.settings, [], now, online_since=t0, speaker=services.speaker, digest_sources=[])
    assert_literal(last_in(db, cafe_support.FORUM), typed)


@pytest.mark.parametrize("typed", HOSTILE)
async def test_a_goal_shown_to_the_provider_is_as_typed(community, services, typed) -> None:
    from bot.models import Provider, RoomKind
    from bot.roomdir import register_room

    provider, room = "@gp:localhost", "!provider-kari:localhost"
    with community.session() as s:
        s.add(Provider(user_id=provider, added_by=CONSULTANT))
        register_room(s, room, RoomKind.PROVIDER, owner=KARI, partner=provider)
    await send(community, services, KARI, toolbox_of(KARI), f"!goal add {typed}")
    assert_literal(last_in(community, toolbox_of(KARI)), typed.strip())
    await send(community, services, KARI, toolbox_of(KARI), f"!share goals with {provider}")
    await send(community, services, provider, room, "!view goals")
    assert_literal(last_in(community, room), typed)
