"""The one text layer with a configured command prefix other than "!": the speaker, the notices
built on it (from a handler's context and from a job's runtime), and the toolbox's crisis-plan
summary, alone and inside the crisis reply."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bot.notices import Notices
from tests.support.core import make_context, queued, test_settings
from tests.support.rooms import CONSULTANTS, FORUM, build_community, enrol, outbox, send, toolbox_of
from toolbox import crisis_plan

KARI, OLA = "@kari:localhost", "@ola:localhost"


@pytest.fixture
def settings():
    return test_settings(bot={"user_id": "@bot:localhost", "command_prefix": "?"})


@pytest.fixture
def community(db, port):
    with db.session() as s:
        build_community(s, port)
        enrol(s, KARI, "Kari", port=port)
        enrol(s, OLA, "Ola", port=port)
    return db


def test_a_say_is_bound_to_one_language_and_fills_in_the_configured_prefix(services) -> None:
    speaker = services.speaker
    assert speaker.prefix == "?"
    assert speaker.say("en")("toolbox.crisis.summary_see_plan") == "Send `?crisis` in your toolbox room to read it."
    assert speaker.say("nb")("toolbox.crisis.summary_see_plan") == "Send `?crisis` i verktøyrommet ditt for å lese den."
    assert speaker.say()("language.nb") == "Norwegian Bokmål"  # the community's language, English here
    assert speaker.t("en", "toolbox.crisis.summary_see_plan", p="!").startswith("Send `!crisis`")  # a caller's p wins


async def test_say_to_and_notices_speak_each_readers_language(community, services) -> None:
    db = community
    await send(db, services, OLA, toolbox_of(OLA), "?lang nb")
    with db.session() as s:
        assert services.speaker.say_to(s, OLA)("language.en") == "engelsk"
        assert services.speaker.say_to(s, KARI)("language.en") == "English"
        assert services.speaker.say_to(s, None)("language.en") == "English"
        ctx = make_context(s, services, sender=KARI, room_id=FORUM)
        notices = Notices.from_context(ctx)
        assert notices.to_person(OLA, "rooms.mod.unmuted_you")
        assert notices.to_person(KARI, "rooms.mod.unmuted_you")
        assert not notices.to_person("@nobody:localhost", "rooms.mod.unmuted_you")  # no toolbox room
        assert notices.to_consultants("rooms.mod.mute_ended", pseudonym="Ola")
        notices.to_room(FORUM, "language.nb", lang="nb")
        # From a context, they go out with the event's replies.
        assert [m["room_id"] for m in ctx.sent] == [toolbox_of(OLA), toolbox_of(KARI), CONSULTANTS, FORUM]
    assert outbox(db, toolbox_of(OLA))[-1] == "🔈 Du kan skrive i fellesrommene igjen. Velkommen tilbake 💚"
    assert outbox(db, toolbox_of(KARI))[-1] == "🔈 You can post in the community rooms again. Welcome back 💚"
    assert outbox(db, CONSULTANTS) == ["🔈 The timed mute of **Ola** has ended."]
    assert outbox(db, FORUM) == ["norsk bokmål"]


def test_notices_from_a_runtime_queue_in_the_jobs_session(db, services) -> None:
    runtime = SimpleNamespace(speaker=services.speaker)  # all Notices uses of the Runtime
    with db.session() as s:
        assert not Notices.from_runtime(runtime, s).to_consultants("rooms.mod.mute_ended", pseudonym="Ola")
        build_community(s)
        enrol(s, KARI, "Kari")
        notices = Notices.from_runtime(runtime, s)
        assert notices.to_consultants("rooms.mod.mute_ended", pseudonym="Ola")
        notices.text_to_room(toolbox_of(KARI), notices.t(notices.lang_of(KARI), "toolbox.crisis.summary_see_plan"))
        assert [(room, c["body"]) for room, c in queued(s)] == [
            (CONSULTANTS, "🔈 The timed mute of **Ola** has ended."),
            (toolbox_of(KARI), "Send `?crisis` in your toolbox room to read it."),
        ]


def test_the_crisis_plan_summary_names_the_configured_prefix(db, services) -> None:
    with db.session() as s:
        crisis_plan.add(s, KARI, "warning-signs", "not sleeping")  # no section the summary shows
        for lang, expected in (("en", "Send `?crisis` in your toolbox room to read it."),
                               ("nb", "Send `?crisis` i verktøyrommet ditt for å lese den.")):
            assert crisis_plan.summary(s, KARI, services.speaker.say(lang)) == expected


async def test_the_crisis_reply_carries_the_summary_with_the_configured_prefix(community, services) -> None:
    db = community
    await send(db, services, KARI, toolbox_of(KARI), "?crisis add warning-signs not sleeping")
    await send(db, services, KARI, FORUM, "I can't go on")
    private = outbox(db, toolbox_of(KARI))[-1]
    assert "**Your crisis plan:**\nSend `?crisis` in your toolbox room to read it." in private
    assert "!crisis" not in private


def test_a_small_room_speaks_each_member_language_once(db, services) -> None:
    from bot.models import UserPref
    speaker = services.speaker
    with db.session() as s:
        s.merge(UserPref(user_id="@nb1:l", language="nb"))
        s.merge(UserPref(user_id="@nb2:l", language="nb"))
        assert speaker.langs_of(s, ["@nb1:l", "@nb2:l"]) == ["nb"]
        assert speaker.langs_of(s, ["@en:l", "@nb1:l"]) == ["en", "nb"]
        assert speaker.langs_of(s, []) == ["en"]
        both = speaker.say_to_all(s, ["@nb1:l", "@en:l"])("core.help.no_such")
        assert both.startswith("There is no command") and "Det finnes" in both
