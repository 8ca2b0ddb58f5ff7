"""Between peers, with consent: !reveal, !revealed, !circle create, !circle leave, !accept,
!decline, !block, !unblock; and the privacy guard's !redact-mine.

A banned or muted participant reaches nobody, and a request to someone who blocked its sender is
never shown to them (``rooms.standing``)."""

from __future__ import annotations

import logging
import re

from bot.context import Context
from bot.errors import Invalid
from bot.markup import Markdown, markdown_join
from bot.models import Participant, Role, RoomKind
from bot.notices import Notices
from bot.port import RoomSpec
from bot.roomdir import register_room
from bot.router import integer, rest
from rooms import activity, consent, standing
from rooms.feature import feature
from rooms.membership import MUTED_LEVEL
from rooms.models import Circle, Reveal
from rooms.targets import pseudonym_of, sender_of, split_target

log = logging.getLogger(__name__)
commands = feature.commands
TOOLBOX = {RoomKind.TOOLBOX}
PARTICIPANT = {Role.PARTICIPANT}
_WITH = re.compile(r"^(?P<name>.+?)\s+(?:with|med)\s+(?P<people>.+)$", re.IGNORECASE | re.DOTALL)


def _me(ctx: Context) -> Participant:
    p = ctx.session.get(Participant, ctx.sender)
    assert p is not None, "the router lets only participants in"
    return p


# --- identity reveal ----------------------------------------------------------------------------

@commands.command("reveal", rest("text", max_len=1000), rooms=TOOLBOX, roles=PARTICIPANT,
                  help="rooms.help.reveal", usage="PSEUDONYM MESSAGE")
async def reveal(ctx: Context, text: str) -> None:
    target, message = split_target(ctx.session, text)
    if not message:
        raise Invalid("rooms.reveal.no_message")
    me = _me(ctx)
    _, receiver = consent.ask_reveal(ctx.session, me, target.pseudonym or "", message,
                                     ctx.settings.moderation.reveals_per_day)
    if (consent.reaches(ctx.session, me.user_id, receiver.user_id)
            and not Notices.from_context(ctx).to_person(receiver.user_id, "rooms.reveal.asked", alert=True,
                                                        pseudonym=me.pseudonym)):
        raise Invalid("rooms.mod.no_private_room", pseudonym=receiver.pseudonym)
    ctx.reply("rooms.reveal.sent", pseudonym=receiver.pseudonym,
              hours=ctx.settings.moderation.reveal_expiry_hours)


@commands.command("revealed", rooms=TOOLBOX, roles=PARTICIPANT, help="rooms.help.revealed")
async def revealed(ctx: Context) -> None:
    rows = consent.revealed_by(ctx.session, ctx.sender)
    if not rows:
        ctx.reply("rooms.reveal.none")
        return
    lines = markdown_join("\n", (
        ctx.t("rooms.reveal.line_accepted" if r.status == consent.ACCEPTED else "rooms.reveal.line_pending",
              i=i, pseudonym=pseudonym_of(ctx.session, r.receiver), date=f"{(r.decided_at or r.created_at):%Y-%m-%d}")
        for i, r in enumerate(rows, 1)))
    ctx.reply("rooms.reveal.list", lines=lines)


# --- circles ------------------------------------------------------------------------------------

@commands.command("circle create", rest("text", max_len=600), rooms=TOOLBOX, roles=PARTICIPANT,
                  help="rooms.help.circle_create", usage="NAME with PSEUDONYM, PSEUDONYM…")
async def circle_create(ctx: Context, text: str) -> None:
    m = _WITH.match(" ".join(text.split()))  # single spaces: the patterns never re-read a run of them
    if m is None:
        raise Invalid("rooms.circle.usage")
    name = " ".join(m.group("name").split())[:64]
    pseudonyms = [" ".join(x.split()) for x in re.split(r",|\s+(?:and|og)\s+", m.group("people")) if x.strip()]
    me = _me(ctx)
    circle, invitees = consent.create_circle(ctx.session, me, name, pseudonyms,
                                             ctx.settings.moderation.circles_per_day)
    notify = Notices.from_context(ctx)
    everyone = ", ".join(p.pseudonym or "" for p in invitees)
    for p in invitees:
        if not consent.reaches(ctx.session, me.user_id, p.user_id):
            continue
        # "together with" names the others, not the person reading it.
        others = ", ".join(q.pseudonym or "" for q in invitees if q is not p)
        notify.to_person(p.user_id, "rooms.circle.invited" if others else "rooms.circle.invited_pair", alert=True,
                         pseudonym=me.pseudonym, name=circle.name, others=others)
    ctx.reply("rooms.circle.asked", name=circle.name, others=everyone)


@commands.command("circle leave", rooms={RoomKind.CIRCLE}, roles=PARTICIPANT, help="rooms.help.circle_leave")
async def circle_leave(ctx: Context) -> None:
    circle = consent.circle_of_room(ctx.session, ctx.room_id)
    if circle is None or ctx.sender not in consent.members(ctx.session, circle.id):
        raise Invalid("rooms.circle.not_member")
    await ctx.port.kick(ctx.room_id, ctx.sender)
    consent.leave_circle(ctx.session, circle, ctx.sender)
    ctx.reply("rooms.circle.left_room", pseudonym=pseudonym_of(ctx.session, ctx.sender))


async def _join_circle(ctx: Context, circle: Circle, notify: Notices) -> None:
    """Make the room when the first invitee says yes; later ones are invited into it. (Before the
    answer is written: Matrix calls come first in a transaction.) A banned member is left out;
    a muted one gets in muted, like in every other room they post in."""
    if standing.is_banned(ctx.session, ctx.sender):
        raise Invalid("rooms.standing.banned")
    muted = {u for u in (*consent.members(ctx.session, circle.id), ctx.sender) if standing.is_muted(ctx.session, u)}
    if circle.room_id is None:
        people = tuple(u for u in (*consent.members(ctx.session, circle.id), ctx.sender)
                       if not standing.is_banned(ctx.session, u))
        lang = ctx.settings.language
        # "Circle 2": tells a person's circles apart, and says nothing about who is in them.
        spec = RoomSpec(name=notify.t(lang, "rooms.room.circle_name", n=circle.id),
                        topic=notify.t(lang, "rooms.room.circle_topic"), invite=people,
                        power_users={u: MUTED_LEVEL for u in people if u in muted})
        room_id = await ctx.port.create_room(spec)
        circle.room_id = room_id
        register_room(ctx.session, room_id, RoomKind.CIRCLE, owner=circle.created_by)
        names = ", ".join(pseudonym_of(ctx.session, u) for u in people)
        notify.text_to_room(room_id, ctx.speaker.say_to_all(ctx.session, people)(
            "rooms.circle.welcome", name=circle.name, members=names), alert=True, mentions=people)
    else:
        await ctx.port.invite(circle.room_id, ctx.sender)
        if ctx.sender in muted:
            await ctx.port.set_power_level(circle.room_id, ctx.sender, MUTED_LEVEL)
        members = (*consent.members(ctx.session, circle.id), ctx.sender)
        notify.text_to_room(circle.room_id, ctx.speaker.say_to_all(ctx.session, members)(
            "rooms.circle.joined", pseudonym=pseudonym_of(ctx.session, ctx.sender)))


# --- answering requests -------------------------------------------------------------------------

def _describe(ctx: Context, r: consent.Request) -> str:
    key = "rooms.request.line_reveal" if r.kind == "reveal" else "rooms.request.line_circle"
    return ctx.t(key, pseudonym=pseudonym_of(ctx.session, r.sender))


async def _answer(ctx: Context, n: int | None, accepted: bool) -> None:
    waiting = consent.pending_for(ctx.session, ctx.sender)
    if n is None and len(waiting) > 1:
        lines = Markdown("\n".join(f"{i}. {_describe(ctx, r)}" for i, r in enumerate(waiting, 1)))
        ctx.reply("rooms.request.which", lines=lines)
        return
    request = consent.pick(ctx.session, ctx.sender, n)
    notify = Notices.from_context(ctx)
    me = pseudonym_of(ctx.session, ctx.sender)
    circle = ctx.session.get(Circle, request.id) if request.kind == "circle" else None
    if circle is not None and accepted:
        await _join_circle(ctx, circle, notify)
    consent.decide(ctx.session, ctx.sender, request, accepted)
    if request.kind == "reveal":
        row = ctx.session.get(Reveal, request.id)
        assert row is not None
        if accepted:
            ctx.reply("rooms.reveal.delivered", pseudonym=pseudonym_of(ctx.session, request.sender), message=row.message or "")
            notify.to_person(request.sender, "rooms.reveal.accepted_note", pseudonym=me)
        else:
            ctx.reply("rooms.request.declined")
            notify.to_person(request.sender, "rooms.reveal.declined_note", pseudonym=me)
        return
    assert circle is not None
    if accepted:
        ctx.reply("rooms.circle.accepted", name=circle.name)
        notify.to_person(circle.created_by, "rooms.circle.accepted_note", pseudonym=me, name=circle.name)
    else:
        ctx.reply("rooms.request.declined")
        notify.to_person(circle.created_by, "rooms.circle.declined_note", pseudonym=me, name=circle.name)


@commands.command("accept", integer("n", optional=True, min=1), rooms=TOOLBOX, roles=PARTICIPANT,
                  help="rooms.help.accept")
async def accept(ctx: Context, n: int | None) -> None:
    await _answer(ctx, n, True)


@commands.command("decline", integer("n", optional=True, min=1), rooms=TOOLBOX, roles=PARTICIPANT,
                  help="rooms.help.decline")
async def decline(ctx: Context, n: int | None) -> None:
    await _answer(ctx, n, False)


# --- blocking -----------------------------------------------------------------------------------

@commands.command("block", rest("pseudonym", optional=True, max_len=64), rooms=TOOLBOX, roles=PARTICIPANT,
                  help="rooms.help.block", usage="PSEUDONYM")
async def block(ctx: Context, pseudonym: str | None) -> None:
    if pseudonym is None:
        blocked = [pseudonym_of(ctx.session, u) for u in standing.blocked_by(ctx.session, ctx.sender)]
        ctx.reply("rooms.block.list" if blocked else "rooms.block.none", names=", ".join(blocked))
        return
    target, _ = split_target(ctx.session, pseudonym)
    if standing.block(ctx.session, ctx.sender, target.user_id):
        ctx.reply("rooms.block.done", pseudonym=target.pseudonym)
    else:
        ctx.reply("rooms.block.already", pseudonym=target.pseudonym)


@commands.command("unblock", rest("pseudonym", max_len=64), rooms=TOOLBOX, roles=PARTICIPANT,
                  help="rooms.help.unblock", usage="PSEUDONYM")
async def unblock(ctx: Context, pseudonym: str) -> None:
    target, _ = split_target(ctx.session, pseudonym)
    if standing.unblock(ctx.session, ctx.sender, target.user_id):
        ctx.reply("rooms.block.lifted", pseudonym=target.pseudonym)
    else:
        ctx.reply("rooms.block.not_blocked", pseudonym=target.pseudonym)


# --- privacy guard ------------------------------------------------------------------------------

@commands.command("redact-mine", rooms=TOOLBOX, roles=PARTICIPANT, help="rooms.help.redact_mine")
async def redact_mine(ctx: Context) -> None:
    # The bot redacts with its own power: only ever a message the person asking sent themselves.
    # A flag on anyone else's message (there should be none) is dropped, never acted on.
    while (flag := activity.latest_privacy_flag(ctx.session, ctx.sender)) is not None:
        if await sender_of(ctx.session, ctx.port, flag.room_id, flag.event_id) == ctx.sender:
            break
        log.warning("refused !redact-mine of %s in %s: not sent by the person asking", flag.event_id, flag.room_id)
        ctx.session.delete(flag)
        ctx.session.flush()
    if flag is None:
        ctx.reply("rooms.privacy.nothing_to_redact")
        return
    await ctx.port.redact(flag.room_id, flag.event_id, "privacy")
    activity.forget_event(ctx.session, flag.event_id)
    ctx.reply("rooms.privacy.redacted")
