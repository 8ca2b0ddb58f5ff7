"""What the community notices (privacy guard, crisis language, display names, forum activity),
what peers do with consent (reveals, circles), provider hours, and the data API."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest

from bot.db import utcnow
from bot.feature import Feature
from bot.models import Provider, RoomKind, UserPref
from bot.roomdir import register_room
from bot.weekhours import parse_hours
from rooms import api, membership, personal_data
from rooms.models import CircleMember, Flag, Reveal
from tests.support.core import make_context, test_settings
from tests.support.rooms import (
    CAFE_NORTH,
    CONSULTANTS,
    FORUM,
    build_community,
    enrol,
    event,
    observe,
    outbox,
    send,
    toolbox_of,
)

KARI, OLA, PER = "@kari:localhost", "@ola:localhost", "@per:localhost"
CONSULTANT = "@consultant:localhost"


@pytest.fixture
def community(db, port):
    with db.session() as s:
        build_community(s, port)
        for user_id, name in ((KARI, "Kari"), (OLA, "Ola"), (PER, "Per")):
            enrol(s, user_id, name, port=port)
    return db


# --- privacy guard ------------------------------------------------------------------------------

async def test_phone_number_in_forum_gets_a_private_nudge_and_redact_mine(community, services, port) -> None:
    db = community
    replies = await send(db, services, KARI, FORUM, "ring meg på 912 34 567 i kveld", event_id="$phone")
    assert replies == [] and outbox(db, FORUM) == []  # nothing new in the forum
    (nudge,) = outbox(db, toolbox_of(KARI))
    assert "a phone number" in nudge and "912" not in nudge and "!redact-mine" in nudge
    await send(db, services, KARI, toolbox_of(KARI), "!redact-mine")
    assert (FORUM, "$phone", "privacy") in port.called("redact")
    assert "removed" in outbox(db, toolbox_of(KARI))[-1]
    await send(db, services, KARI, toolbox_of(KARI), "!redact-mine")
    assert "no flagged message" in outbox(db, toolbox_of(KARI))[-1]


async def test_privacy_nudges_pause_during_a_break_but_the_flag_stays(community, services, port) -> None:
    db = community
    with db.session() as s:
        s.merge(UserPref(user_id=KARI, on_break=True))
    await send(db, services, KARI, FORUM, "ring meg på 912 34 567 i kveld", event_id="$phone-break")
    assert outbox(db, toolbox_of(KARI)) == []  # no nudge during the break
    with db.session() as s:
        assert s.query(Flag).filter(Flag.event_id == "$phone-break").count() == 1
    await send(db, services, KARI, toolbox_of(KARI), "!redact-mine")  # still removable
    assert (FORUM, "$phone-break", "privacy") in port.called("redact")


async def edit_of(db, services, sender: str, room_id: str, original: str, body: str) -> None:
    """An ``m.replace`` of ``original`` sent by ``sender``."""
    with db.session() as s:
        ctx = make_context(s, services, sender=sender, room_id=room_id, event_id=f"$edit-{original}-{sender}",
                           content={"msgtype": "m.text", "body": f"* {body}",
                                    "m.new_content": {"msgtype": "m.text", "body": body},
                                    "m.relates_to": {"rel_type": "m.replace", "event_id": original}})
        await observe(ctx)


async def test_an_edit_flags_the_original_only_when_its_sender_wrote_it(community, services, port) -> None:
    db = community
    await send(db, services, KARI, FORUM, "a walk by the river", event_id="$karis")
    await edit_of(db, services, OLA, FORUM, "$karis", "ring 912 34 567")  # forged: Ola edits Kari's post
    assert outbox(db, toolbox_of(OLA)) == []
    await send(db, services, OLA, toolbox_of(OLA), "!redact-mine")
    assert "no flagged message" in outbox(db, toolbox_of(OLA))[-1] and port.called("redact") == []
    # Kari's own edit of her post (known to the bot) and of a circle message (fetched) are flagged.
    await edit_of(db, services, KARI, FORUM, "$karis", "ring 912 34 567")
    port.events[(CAFE_NORTH, "$older")] = {"sender": KARI, "type": "m.room.message", "content": {}}
    await edit_of(db, services, KARI, CAFE_NORTH, "$older", "mail kari@example.no")
    assert len(outbox(db, toolbox_of(KARI))) == 2
    await send(db, services, KARI, toolbox_of(KARI), "!redact-mine")
    assert port.called("redact") == [(CAFE_NORTH, "$older", "privacy")]


async def test_redact_mine_never_redacts_a_message_the_asker_did_not_send(community, services, port) -> None:
    db = community
    await send(db, services, KARI, FORUM, "a walk by the river", event_id="$karis")
    with db.session() as s:  # a flag in Ola's name on Kari's post (as forged edits once made)
        s.add(Flag(kind="privacy", room_id=FORUM, event_id="$karis", author=OLA, details="phone"))
    await send(db, services, OLA, toolbox_of(OLA), "!redact-mine")
    assert port.called("redact") == []
    assert "no flagged message" in outbox(db, toolbox_of(OLA))[-1]
    with db.session() as s:
        assert s.query(Flag).filter_by(author=OLA).count() == 0  # dropped, not left to block the next


async def test_privacy_nudge_in_norwegian_names_kinds_not_details(community, services, port) -> None:
    db = community
    await send(db, services, OLA, toolbox_of(OLA), "!lang nb")
    await send(db, services, OLA, CAFE_NORTH, "Jeg bor i Storgata 12, mail ola@example.no")
    nudge = outbox(db, toolbox_of(OLA))[-1]
    assert "en e-postadresse" in nudge and "en gateadresse" in nudge
    assert "Storgata" not in nudge and "example" not in nudge


async def test_ordinary_messages_and_help_lines_pass_quietly(community, services, port) -> None:
    db = community
    await send(db, services, KARI, FORUM, "Café on 2026-12-03 kl 18:00, kr 250, room 12")
    await send(db, services, KARI, FORUM, "Kirkens SOS 22 40 00 40 helped me once")
    assert outbox(db, toolbox_of(KARI)) == []


async def test_toolbox_command_in_the_forum_is_refused_without_echo(community, services, port) -> None:
    replies = await send(community, services, KARI, FORUM, "!goal add stop drinking before my sister's wedding")
    assert replies == [] and outbox(community, FORUM) == []  # the forum sees nothing of it
    assert any(args[0] == FORUM for args in port.called("redact"))  # the command itself is removed
    (private,) = outbox(community, toolbox_of(KARI))
    assert "only works in" in private and "sister" not in private and "drinking" not in private


# --- crisis response ----------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["I just want to die tonight", "Jeg vil ikke leve lenger"])
async def test_crisis_language_gets_private_help_and_a_link_alert(community, services, port, text) -> None:
    db = community
    replies = await send(db, services, PER, FORUM, text, event_id="$crisis")
    assert replies == [] and outbox(db, FORUM) == []
    (private,) = outbox(db, toolbox_of(PER))
    assert "113" in private and "116 123" in private and "22 40 00 40" in private
    (alert,) = outbox(db, CONSULTANTS)
    assert f"https://matrix.to/#/{FORUM}/$crisis" in alert
    assert text not in alert and "Per" not in alert and PER not in alert


async def test_a_crisis_in_a_private_command_typed_in_the_forum_alerts_by_name_not_by_a_dead_link(
        community, services, port) -> None:
    """The router removes ``!mood …`` from the forum, so a link would lead to an empty event (the
    newcomer trial found this): the alert names the pseudonym, and the person is told so."""
    db = community
    await send(db, services, PER, FORUM, "!mood 2 I want to die", event_id="$mood-crisis")
    assert ("redact", (FORUM, "$mood-crisis", None)) in port.calls
    (alert,) = outbox(db, CONSULTANTS)
    assert "Per" in alert and "$mood-crisis" not in alert and "want to die" not in alert
    assert "`!answer Per` followed by your message" in alert and "PSEUDONYM" not in alert and PER not in alert
    private = outbox(db, toolbox_of(PER))
    assert any("113" in text and "pseudonym, not what you wrote" in text for text in private)
    assert not any("links to your message" in text for text in private)


async def test_one_alert_per_period_but_every_match_is_answered_and_counted(community, services, port) -> None:
    db = community
    await send(db, services, PER, FORUM, "I want to die")
    await send(db, services, PER, CAFE_NORTH, "suicide is on my mind")
    # The consultant is alerted once per period; the person gets the numbers every time.
    assert len(outbox(db, CONSULTANTS)) == 1 and len(outbox(db, toolbox_of(PER))) == 2
    assert all("113" in text for text in outbox(db, toolbox_of(PER)))
    with db.session() as s:
        flags = api.recent_flags(s, utcnow() - timedelta(hours=1))
    assert [f.kind for f in flags] == ["crisis", "crisis"]
    with db.session() as s:  # the period has passed
        for f in s.query(Flag):
            f.at = f.at - timedelta(hours=2)
    await send(db, services, PER, FORUM, "I want to die")
    assert len(outbox(db, CONSULTANTS)) == 2


async def test_a_crisis_reply_outside_staffed_hours_says_when_a_consultant_next_reads_along(
        community, services, port) -> None:
    from bot.context import Services
    db = community
    staffed = Services(settings=test_settings(moderation={"staffed_hours": "mon-sun 00:00-23:59"}),
                       catalogue=services.catalogue, port=services.port, router=services.router,
                       features=services.features)
    closed = Services(settings=test_settings(moderation={"staffed_hours": "sun 03:00-03:01"}),
                      catalogue=services.catalogue, port=services.port, router=services.router,
                      features=services.features)
    await send(db, staffed, PER, FORUM, "I want to die")
    (now_read,) = outbox(db, toolbox_of(PER))
    assert "A peer consultant has been told" in now_read and "nobody reads along right now" not in now_read
    with db.session() as s:
        for f in s.query(Flag):
            f.at = f.at - timedelta(hours=2)
    await send(db, closed, PER, FORUM, "I want to die")
    later = outbox(db, toolbox_of(PER))[-1]
    assert "nobody reads along right now" in later and "Sun" in later and "03:00 (Europe/Oslo)" in later
    assert "116 123" in later  # the numbers, for now


def with_crisis_extra(services, extra) -> None:
    """``services`` with one more feature contributing ``extra`` to the crisis reply."""
    plans = Feature(name="plans")
    plans.crisis_extras.append(extra)
    services.features = [*services.features, plans]


async def test_crisis_reply_carries_the_declared_extras(community, services, port) -> None:
    with_crisis_extra(services, lambda session, user_id, say:
                      f"**Your crisis plan:**\nCall my sister ({say('language.en')})" if user_id == PER else None)
    await send(community, services, PER, FORUM, "I can't go on")
    (private,) = outbox(community, toolbox_of(PER))
    assert "Your crisis plan" in private and "Call my sister (English)" in private and "113" in private


async def test_crisis_reply_goes_out_even_if_the_plan_fails(community, services, port) -> None:
    def broken(session, user_id, say):
        raise RuntimeError("toolbox trouble")

    with_crisis_extra(services, broken)
    await send(community, services, PER, FORUM, "I want to die")
    (private,) = outbox(community, toolbox_of(PER))
    assert "113" in private and "crisis plan" not in private
    assert len(outbox(community, CONSULTANTS)) == 1


async def test_crisis_from_someone_not_enrolled_is_answered_in_their_direct_chat(db, services, port) -> None:
    with db.session() as s:
        build_community(s, port)
    await send(db, services, "@guest:localhost", "!dm-guest:localhost", "jeg har selvmordstanker")
    (private,) = outbox(db, "!dm-guest:localhost")
    assert "113" in private and "!alert" in private
    assert outbox(db, CONSULTANTS) == []  # a private room: no automatic alert
    (sent,) = await send(db, services, "@guest:localhost", "!dm-guest:localhost", "!alert")
    assert "asked a peer consultant" in sent
    (asked,) = outbox(db, CONSULTANTS)
    assert "@guest:localhost" in asked and "selvmord" not in asked
    # No pseudonym yet: the notice does not offer an !answer that could not reach them.
    assert "not enrolled yet" in asked and "`!answer`" in asked and "PSEUDONYM" not in asked


@pytest.mark.parametrize("room", ["toolbox", "provider"])
async def test_crisis_in_a_private_room_offers_alert_and_alerts_no_one(community, services, port, room, caplog) -> None:
    caplog.set_level(logging.INFO)
    db = community
    room_id = toolbox_of(PER) if room == "toolbox" else "!provider-per:localhost"
    if room == "provider":
        with db.session() as s:
            register_room(s, room_id, RoomKind.PROVIDER, owner=PER, partner="@gp:localhost")
    await send(db, services, PER, room_id, "I want to die")
    (private,) = outbox(db, toolbox_of(PER))
    assert "113" in private and "!alert" in private and "has been told" not in private
    assert outbox(db, CONSULTANTS) == []
    if room == "provider":
        assert outbox(db, room_id) == []  # a provider room is never a crisis channel
    with db.session() as s:
        assert [(f.kind, f.alerted) for f in s.query(Flag)] == [("crisis", False)]
    # The log says a crisis match happened, never where: a private room's id says whose it was.
    assert "crisis match in a" in caplog.text and room_id not in caplog.text
    (sent,) = await send(db, services, PER, toolbox_of(PER), "!alert")
    assert "asked a peer consultant" in sent
    (asked,) = outbox(db, CONSULTANTS)
    assert "**Per**" in asked and "die" not in asked
    # The command to copy, with the pseudonym filled in; never the Matrix id (it may be a real name).
    assert "`!answer Per` followed by your message" in asked, asked
    assert "PSEUDONYM" not in asked and PER not in asked


async def test_an_alert_from_a_direct_chat_can_be_answered_there(db, services, port) -> None:
    """Someone waiting for approval (a pseudonym, no toolbox yet) asks from their direct chat: the
    notice's ``!answer`` reaches them there, and the notice says nothing else about who they are."""
    from bot.models import EnrolmentStatus, Participant
    with db.session() as s:
        build_community(s, port)
        s.add(Participant(user_id="@wait:localhost", status=EnrolmentStatus.PENDING.value, pseudonym="Wren",
                          pseudonym_key="wren", community="North"))
    await send(db, services, "@wait:localhost", "!dm-wait:localhost", "!alert")
    (asked,) = outbox(db, CONSULTANTS)
    assert "`!answer Wren` followed by your message" in asked and "@wait" not in asked
    await send(db, services, CONSULTANT, CONSULTANTS, "!answer Wren I am here, how are you?")
    assert any("I am here, how are you?" in text for text in outbox(db, "!dm-wait:localhost"))


async def test_help_line_labels_follow_the_readers_language(community, services, port) -> None:
    db = community
    await send(db, services, PER, toolbox_of(PER), "!lang nb")
    await send(db, services, PER, FORUM, "I want to die")
    private = outbox(db, toolbox_of(PER))[-1]
    assert "Medisinsk nødtelefon (AMK): **113**" in private and "Emergency medical" not in private
    await send(db, services, KARI, FORUM, "I want to die")
    assert "Emergency medical help (AMK): **113**" in outbox(db, toolbox_of(KARI))[-1]


def test_help_line_labels_in_config() -> None:
    settings = test_settings(crisis={"numbers": [{"label": "Help", "number": "1"},
                                                 {"label": {"en": "Line", "nb": "Linje"}, "number": "2"},
                                                 {"label": {"nb": "Bare norsk"}, "number": "3"}]})
    assert [n.label_in("nb") for n in settings.crisis.numbers] == ["Help", "Linje", "Bare norsk"]
    assert [n.label_in("en") for n in settings.crisis.numbers] == ["Help", "Line", "Bare norsk"]
    defaults = test_settings().crisis.numbers
    assert all(n.label.get("en") and n.label.get("nb") for n in defaults)


async def test_writing_ones_own_crisis_plan_is_not_a_crisis(community, services, port) -> None:
    await send(community, services, PER, toolbox_of(PER), "!crisis add warning-signs I want to die")
    assert outbox(community, CONSULTANTS) == []


# --- display names ------------------------------------------------------------------------------

async def test_display_name_mismatch_is_told_privately_once_and_listed(community, services, port) -> None:
    db = community
    join = {"membership": "join", "displayname": "Kari Nordmann"}
    await event(db, services, "m.room.member", KARI, FORUM, join, state_key=KARI)
    await event(db, services, "m.room.member", KARI, FORUM, join, state_key=KARI)
    (tip,) = outbox(db, toolbox_of(KARI))
    assert "/myroomnick Kari" in tip and "Nordmann" not in tip
    with db.session() as s:
        assert api.name_mismatches(s) == [api.Mismatch("Kari", FORUM)]
    await event(db, services, "m.room.member", KARI, FORUM, {"membership": "join", "displayname": "kari"},
                state_key=KARI)
    with db.session() as s:
        assert api.name_mismatches(s) == []


async def test_no_name_tip_during_a_break(community, services, port) -> None:
    from bot.people import prefs

    with community.session() as s:
        prefs(s, OLA).on_break = True
    await event(community, services, "m.room.member", OLA, CAFE_NORTH,
                {"membership": "join", "displayname": "Ola Hansen"}, state_key=OLA)
    assert outbox(community, toolbox_of(OLA)) == []
    with community.session() as s:
        assert api.name_mismatches(s) == [api.Mismatch("Ola", CAFE_NORTH)]


# --- forum activity and the data API ------------------------------------------------------------

async def test_unanswered_posts_figures_and_views(community, services, port) -> None:
    db = community
    await send(db, services, KARI, FORUM, "How do you sleep better?", event_id="$q1")
    await send(db, services, OLA, FORUM, "Anyone for a walk?", event_id="$q2")
    await send(db, services, KARI, FORUM, "(bump)", thread_root="$q1", event_id="$self")
    await send(db, services, PER, FORUM, "Yes!", thread_root="$q2", event_id="$a2")
    later = utcnow() + timedelta(minutes=1)
    with db.session() as s:
        assert [p.event_id for p in api.unanswered_posts(s, later)] == ["$q1"]
        assert api.unanswered_posts(s, utcnow() - timedelta(hours=1)) == []
    await event(db, services, "m.receipt", PER, FORUM, {"event_id": "$a2", "receipt_type": "m.read", "ts": 1})
    await event(db, services, "m.receipt", OLA, FORUM, {"$q1": {"m.read": {OLA: {"ts": 1}}}})
    with db.session() as s:
        (figure,) = api.forum_figures(s, utcnow() - timedelta(days=1))
    assert figure.community == "North" and figure.posts == 4 and figure.posters == 3
    assert figure.views == 4  # Per read up to his answer: $q1, $q2, $self (not his own); Ola read $q1
    assert len(figure.month) == 7


async def test_redacted_post_is_forgotten(community, services, port) -> None:
    db = community
    await send(db, services, KARI, FORUM, "hello", event_id="$gone")
    await event(db, services, "m.room.redaction", KARI, FORUM, {"redacts": "$gone"})
    with db.session() as s:
        assert api.forum_figures(s, utcnow() - timedelta(days=1)) == []


async def test_a_redaction_counts_only_by_the_author_or_staff_in_the_posts_room(community, services, port) -> None:
    db = community
    await send(db, services, KARI, FORUM, "hello", event_id="$stays")

    def posts() -> int:
        with db.session() as s:
            return sum(f.posts for f in api.forum_figures(s, utcnow() - timedelta(days=1)))

    # Another participant's redaction (kept, not applied, by the homeserver), one in another room,
    # and one that claims to have come encrypted: the post still counts.
    await event(db, services, "m.room.redaction", OLA, FORUM, {"redacts": "$stays"})
    await event(db, services, "m.room.redaction", KARI, CAFE_NORTH, {"redacts": "$stays"})
    with db.session() as s:
        ctx = make_context(s, services, sender=KARI, room_id=FORUM, event_type="m.room.redaction",
                           content={}, redacts="$stays", event_id="$enc")
        ctx.event.encrypted = True
        await observe(ctx)
    assert posts() == 1
    await event(db, services, "m.room.redaction", CONSULTANT, FORUM, {"redacts": "$stays"})
    assert posts() == 0


async def test_someone_elses_membership_event_sets_no_display_name(community, services, port) -> None:
    db = community
    await event(db, services, "m.room.member", OLA, FORUM, {"membership": "join", "displayname": "Kari Nordmann"},
                state_key=KARI)
    assert outbox(db, toolbox_of(KARI)) == []


# --- identity reveal ----------------------------------------------------------------------------

async def test_reveal_is_delivered_only_after_accept(community, services, port) -> None:
    db = community
    (sent,) = await send(db, services, KARI, toolbox_of(KARI), "!reveal Ola I'm Anna, by the window at the café")
    assert "**Ola**" in sent
    (asked,) = outbox(db, toolbox_of(OLA))
    assert "Kari" in asked and "Anna" not in asked and "!accept" in asked
    (listing,) = await send(db, services, KARI, toolbox_of(KARI), "!revealed")
    assert "1. Ola — waiting" in listing
    (delivered,) = await send(db, services, OLA, toolbox_of(OLA), "!accept")
    assert "I'm Anna, by the window at the café" in delivered and "Kari" in delivered
    assert "accepted" in outbox(db, toolbox_of(KARI))[-1]
    (listing,) = await send(db, services, KARI, toolbox_of(KARI), "!revealed")
    assert "1. Ola — delivered" in listing
    assert all("Anna" not in b for b in outbox(db, toolbox_of(PER)))


async def test_declined_reveal_is_deleted_and_expired_ones_lapse(community, services, port) -> None:
    from rooms.lifecycle import housekeeping_once
    from tests.support.core import FakeRuntime

    db = community
    await send(db, services, KARI, toolbox_of(KARI), "!reveal Ola I'm Anna")
    await send(db, services, OLA, toolbox_of(OLA), "!decline")
    assert "chose not to receive" in outbox(db, toolbox_of(KARI))[-1]
    with db.session() as s:
        (row,) = s.query(Reveal).all()
        assert row.status == "declined" and row.message is None
    await send(db, services, KARI, toolbox_of(KARI), "!reveal Per I'm Anna")
    with db.session() as s:
        r = s.query(Reveal).filter_by(receiver=PER).one()
        r.created_at = utcnow() - timedelta(hours=services.settings.moderation.reveal_expiry_hours + 1)
    await housekeeping_once(FakeRuntime(db=db, port=port, settings=services.settings, services=services))
    assert "lapsed" in outbox(db, toolbox_of(KARI))[-1]
    (nothing,) = await send(db, services, PER, toolbox_of(PER), "!accept")
    assert "nothing waiting" in nothing


async def test_reveal_refusals(community, services, port) -> None:
    db = community
    (reply,) = await send(db, services, KARI, toolbox_of(KARI), "!reveal Kari hello")
    assert "your own pseudonym" in reply
    (reply,) = await send(db, services, KARI, toolbox_of(KARI), "!reveal Ola")
    assert "add the message" in reply
    await send(db, services, KARI, FORUM, "!reveal Ola I'm Anna")
    reply = outbox(db, toolbox_of(KARI))[-1]  # answered privately: the forum sees nothing
    assert "only works in" in reply and "Anna" not in reply


# --- circles ------------------------------------------------------------------------------------

async def test_circle_is_made_with_those_who_accept(community, services, port) -> None:
    db = community
    (asked,) = await send(db, services, KARI, toolbox_of(KARI), "!circle create Walkers with Ola, Per")
    assert "Ola, Per" in asked
    assert "Walkers" in outbox(db, toolbox_of(OLA))[0] and "Walkers" in outbox(db, toolbox_of(PER))[0]
    # Each invitation names the others, never the reader among "together with".
    assert "together with: Per" in outbox(db, toolbox_of(OLA))[0] and "Ola" not in outbox(db, toolbox_of(OLA))[0]
    assert "together with: Ola" in outbox(db, toolbox_of(PER))[0]
    assert port.called("create_room") == []  # nobody has said yes yet
    await send(db, services, PER, toolbox_of(PER), "!decline")
    await send(db, services, OLA, toolbox_of(OLA), "!accept")
    ((room_id, spec),) = port.called("create_room")
    assert sorted(spec.invite) == sorted([KARI, OLA]) and spec.encrypted and spec.name.startswith("Circle ")
    assert spec.name[len("Circle "):].isdigit() and "Walkers" not in spec.name  # tells circles apart, names nothing
    assert PER not in port.room_members[room_id]
    assert "Walkers" in outbox(db, room_id)[0]
    assert "chose not to join" in outbox(db, toolbox_of(KARI))[-2]
    await send(db, services, OLA, room_id, "!circle leave")
    assert (room_id, OLA, None) in port.called("kick")
    with db.session() as s:
        assert s.query(CircleMember).filter_by(user_id=OLA).one().status == "left"


async def test_several_requests_are_numbered(community, services, port) -> None:
    db = community
    await send(db, services, KARI, toolbox_of(KARI), "!reveal Per I'm Anna")
    await send(db, services, OLA, toolbox_of(OLA), "!circle create Chess with Per")
    (which,) = await send(db, services, PER, toolbox_of(PER), "!accept")
    assert "1. a personal message from Kari" in which and "2. a circle invitation from Ola" in which
    (reply,) = await send(db, services, PER, toolbox_of(PER), "!accept 3")
    assert "no request number 3" in reply
    await send(db, services, PER, toolbox_of(PER), "!accept 2")
    assert len(port.called("create_room")) == 1


# --- provider rooms -----------------------------------------------------------------------------

async def test_out_of_hours_auto_reply_at_most_hourly(community, services, port) -> None:
    db = community
    room = "!provider-kari:localhost"
    with db.session() as s:
        s.add(Provider(user_id="@gp:localhost", added_by=CONSULTANT))
        register_room(s, room, RoomKind.PROVIDER, owner=KARI, partner="@gp:localhost")
    (reply,) = await send(db, services, "@gp:localhost", room, "!hours weekdays")
    assert "couldn't read those hours" in reply
    (reply,) = await send(db, services, "@gp:localhost", room, "!hours sun 03:00-03:01")
    assert "Sun 03:00–03:01" in reply
    (auto,) = await send(db, services, KARI, room, "Hi, a question about my meds")
    assert "will be read from" in auto and "not for emergencies" in auto and "116 117" in auto
    assert "Sun 03:00–03:01" in auto and "at 03:00 (Europe/Oslo)" in auto  # the time comes with its zone
    assert await send(db, services, KARI, room, "and one more thing") == []
    assert await send(db, services, "@gp:localhost", room, "Answering now") == []
    (refused,) = await send(db, services, KARI, room, "!hours mon-fri 08:00-15:00")
    assert "not available to you" in refused


async def test_hours_answers_in_the_shared_provider_room_speak_of_the_provider_not_to_you(community, services,
                                                                                        port) -> None:
    """``!hours`` runs only in a secure messages room, which the participant reads too (the newcomer
    trial: "Your office hours" there reads as if it were the participant's)."""
    db = community
    room = "!provider-kari3:localhost"
    with db.session() as s:
        s.add(Provider(user_id="@gp:localhost", added_by=CONSULTANT))
        register_room(s, room, RoomKind.PROVIDER, owner=KARI, partner="@gp:localhost")
    replies = [(await send(db, services, "@gp:localhost", room, body))[0]
               for body in ("!hours", "!hours mon-fri 08:00-15:30", "!hours", "!hours off")]
    assert replies[0].startswith("No office hours are set for the provider")
    assert replies[1].startswith("The provider's office hours are now **Mon–Fri 08:00–15:30**")
    assert replies[2].startswith("The provider's office hours are **Mon–Fri 08:00–15:30**")
    assert replies[3].startswith("The provider's office hours are removed")
    for reply in replies:
        assert "Your" not in reply and "You have" not in reply, reply
    with db.session() as s:
        s.add(UserPref(user_id="@gp:localhost", language="nb"))
    (nb,) = await send(db, services, "@gp:localhost", room, "!hours man-fre 08:00-15:30")
    assert nb.startswith("Helsearbeiderens kontortid er nå") and "Kontortiden din" not in nb


# --- building the rooms -------------------------------------------------------------------------

async def test_rooms_are_built_once_and_new_communities_added(db, services, port) -> None:
    from rooms.lifecycle import build_rooms
    from tests.support.core import FakeRuntime

    app = FakeRuntime(db=db, port=port, settings=services.settings, services=services)
    await build_rooms(app)
    specs = [spec for _, spec in port.called("create_room")]
    assert [s.name for s in specs] == ["ReConnect", "Forum", "Café", "Café", "Consultants"]
    assert all(s.encrypted and s.power_users == {"@admin:localhost": 50, CONSULTANT: 50} for s in specs)
    assert all(set(s.invite) == {"@admin:localhost", CONSULTANT} for s in specs)
    assert specs[0].is_space and specs[1].parent_space is not None
    assert "Mon–Fri 09:00–15:00 (Europe/Oslo)" in specs[1].topic and "North" not in specs[2].topic
    await build_rooms(app)
    assert len(port.called("create_room")) == 5
    bigger = FakeRuntime(db=db, port=port, services=services,
                     settings=test_settings(communities=[{"name": "North"}, {"name": "South"}, {"name": "West"}],
                                            people={"consultants": [CONSULTANT, "@new:localhost"]}))
    await build_rooms(bigger)
    assert len(port.called("create_room")) == 6
    assert sum(1 for _, user in port.called("invite") if user == "@new:localhost") == 5
    with db.session() as s:
        from bot.roomdir import find_room
        cafe = find_room(s, RoomKind.CAFE, community="West")
    assert cafe is not None
    # Nothing is posted at building time: later members could not decrypt it.
    assert outbox(db, cafe.room_id) == []


# --- export and erasure -------------------------------------------------------------------------

async def test_export_and_erase(community, services, port) -> None:
    db = community
    await send(db, services, CONSULTANT, CONSULTANTS, "!warn Ola be kind")
    await send(db, services, KARI, toolbox_of(KARI), "!reveal Ola I'm Anna")
    await send(db, services, OLA, FORUM, "hello all", event_id="$hello")
    with db.session() as s:
        data = personal_data.export(s, OLA)
    assert data["moderation"][0]["action"] == "warn" and data["moderation"][0]["reason"] == "be kind"
    # Kari's reveal is still pending: it is Kari's to export, not Ola's to read (issue 11, finding 3).
    assert data["reveals"] == []
    with db.session() as s:
        (sent,) = personal_data.export(s, KARI)["reveals"]
    assert sent["direction"] == "sent" and sent["other"] == "Ola" and sent["message"] == "I'm Anna"
    assert [p["event_id"] for p in data["posts"]] == ["$hello"]
    with db.session() as s:
        personal_data.erase(s, OLA)
    with db.session() as s:
        left = personal_data.export(s, OLA)
        figures = api.forum_figures(s, utcnow() - timedelta(days=1))
    assert not any(left.values()), left
    assert figures[0].posts == 1 and figures[0].posters == 0  # counted, no longer attributed
    (log,) = await send(db, services, CONSULTANT, CONSULTANTS, "!modlog")
    assert "warning" in log and "Ola" not in log


async def test_removal_after_erasure_still_finds_circle_rooms(community, services, port) -> None:
    db = community
    await send(db, services, KARI, toolbox_of(KARI), "!circle create Chess with Ola")
    await send(db, services, OLA, toolbox_of(OLA), "!accept")
    ((circle_room, _),) = port.called("create_room")
    with db.session() as s:
        personal_data.erase(s, OLA)  # as !forget-me does before removing from rooms
    with db.session() as s:
        await membership.remove_from_shared_rooms(s, port, OLA)
    kicked = {room for room, user, _ in port.called("kick") if user == OLA}
    assert circle_room in kicked and FORUM in kicked and CAFE_NORTH in kicked


async def test_edit_adding_a_detail_flags_the_original(community, services, port) -> None:
    db = community
    await send(db, services, KARI, FORUM, "hello all", event_id="$orig")
    with db.session() as s:
        from tests.support.core import make_context
        from tests.support.rooms import observe

        ctx = make_context(s, services, sender=KARI, room_id=FORUM, event_id="$edit", content={
            "msgtype": "m.text", "body": "* hello, mail me at kari@example.no",
            "m.new_content": {"msgtype": "m.text", "body": "hello, mail me at kari@example.no"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": "$orig"}})
        await observe(ctx)
    assert "an e-mail address" in outbox(db, toolbox_of(KARI))[0]
    await send(db, services, KARI, toolbox_of(KARI), "!redact-mine")
    assert (FORUM, "$orig", "privacy") in port.called("redact")
    with db.session() as s:
        assert api.forum_figures(s, utcnow() - timedelta(days=1)) == []  # the edit was never a post


async def test_office_hours_in_several_spans_in_the_provider_s_zone_shown_in_the_reader_s_language(
        community, services, port) -> None:
    db = community
    room = "!provider-kari2:localhost"
    with db.session() as s:
        s.add(Provider(user_id="@gp:localhost", added_by=CONSULTANT))
        register_room(s, room, RoomKind.PROVIDER, owner=KARI, partner="@gp:localhost")
        s.add(UserPref(user_id=KARI, language="nb"))
    (reply,) = await send(db, services, "@gp:localhost", room,
                          "!hours mandag-fredag 08:00-15:30, lørdag 10:00-12:00 America/New_York")
    assert "Mon–Fri 08:00–15:30, Sat 10:00–12:00" in reply and "America/New_York" in reply
    with db.session() as s:
        gp = s.get(Provider, "@gp:localhost")
        assert gp.office_hours == "mon-fri 08:00-15:30, sat 10:00-12:00" and gp.timezone == "America/New_York"
    (bad,) = await send(db, services, "@gp:localhost", room, "!hours mon-fri 08:00-15:30 Mars/Olympus")
    assert "Mars/Olympus" in bad
    schedule = parse_hours("mon-fri 08:00-15:30, sat 10:00-12:00")
    saturday_11_ny = datetime(2026, 12, 5, 16, 0, tzinfo=timezone.utc)
    assert schedule.is_open(saturday_11_ny, "America/New_York")
    assert not schedule.is_open(saturday_11_ny, "Europe/Oslo")
    sunday = datetime(2026, 12, 6, 16, 0, tzinfo=timezone.utc)
    opening = schedule.next_opening(sunday, "America/New_York")
    assert (opening.weekday(), opening.hour) == (0, 8)
    # The participant reads the hours in Norwegian, with the zone named.
    from rooms.models import AutoReply
    with db.session() as s:
        s.get(Provider, "@gp:localhost").office_hours = "sun 03:00-03:01"
        s.query(AutoReply).delete()
    (auto,) = await send(db, services, KARI, room, "Hei")
    assert "søn. 03:00–03:01" in auto and "(America/New_York)" in auto and "Sun" not in auto, auto

