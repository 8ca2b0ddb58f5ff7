"""Enrolment and provider commands: !start, !consent, !pseudonym, !community, !approve, !enroll,
!pending, !leave, !providers add, !providers remove, !provider link, !provider unlink."""

from __future__ import annotations

import logging

from bot.context import Context
from bot.errors import Invalid
from bot.markup import Markdown, literal
from bot.models import EnrolmentStatus, ManagedRoom, Participant, Role, RoomKind
from bot.notices import Notices
from bot.port import PortError, RoomSpec
from bot.roomdir import find_room, find_rooms, register_room
from bot.router import MATRIX_ID, rest, user
from rooms import enrolment
from rooms.admission import admit, help_lines
from rooms.directchat import direct_chat_of, remember
from rooms.feature import feature
from rooms.membership import remove_from_shared_rooms
from rooms.moderation import is_muted

log = logging.getLogger(__name__)
commands = feature.commands
NEWCOMER_ROOMS = {RoomKind.DIRECT, RoomKind.TOOLBOX}
NEWCOMERS = {Role.GUEST, Role.PARTICIPANT, Role.FORMER}  # someone who left may come back
STAFF_ROOMS = {RoomKind.CONSULTANT, RoomKind.DIRECT}


def _next_step(ctx: Context, p: Participant, became_pending: bool) -> None:
    """Tell the person what is still missing, and the consultants when it is complete."""
    if p.status == EnrolmentStatus.ACTIVE.value:
        ctx.reply("rooms.enrol.saved_active")
    elif p.consent_at is None:
        ctx.reply("rooms.enrol.ask_consent")
    elif not p.pseudonym:
        ctx.reply("rooms.enrol.ask_pseudonym")
    elif not p.community:
        ctx.reply("rooms.enrol.ask_community", communities=", ".join(c.name for c in ctx.settings.communities))
    else:
        ctx.reply("rooms.enrol.waiting", pseudonym=p.pseudonym, community=p.community)
    if became_pending:
        Notices.from_context(ctx).to_consultants("rooms.enrol.new_pending", alert=True, pseudonym=p.pseudonym,
                                                 community=p.community)


@commands.command("start", rest("words", max_len=200, optional=True), rooms=NEWCOMER_ROOMS, roles=NEWCOMERS,
                  help="rooms.help.start", usage="", listed_for={Role.GUEST, Role.FORMER})
async def start(ctx: Context, words: str | None) -> None:  # "!start please" works too
    remember(ctx.session, ctx.sender, ctx.room_id, ctx.room_kind)
    p = enrolment.start(ctx.session, ctx.sender)
    if p.status == EnrolmentStatus.ACTIVE.value:
        ctx.reply("rooms.enrol.already_enrolled", pseudonym=p.pseudonym)
        return
    if enrolment.come_back(p):
        ctx.reply("rooms.enrol.returning", pseudonym=p.pseudonym, community=p.community)
        Notices.from_context(ctx).to_consultants("rooms.enrol.returning_pending", alert=True, pseudonym=p.pseudonym,
                                                 community=p.community)
        return
    ctx.reply("rooms.enrol.intro", numbers=help_lines(ctx.settings, ctx.lang))
    if p.consent_at is not None:
        _next_step(ctx, p, False)


@commands.command("consent", rest("words", max_len=200, optional=True), rooms=NEWCOMER_ROOMS, roles=NEWCOMERS,
                  help="rooms.help.consent", usage="", listed_for={Role.GUEST})
async def consent(ctx: Context, words: str | None) -> None:  # "!consent yes" too
    remember(ctx.session, ctx.sender, ctx.room_id, ctx.room_kind)
    p, became_pending = enrolment.consent(ctx.session, ctx.sender)
    ctx.reply("rooms.enrol.consented")
    _next_step(ctx, p, became_pending)


@commands.command("pseudonym", rest("name", max_len=64), rooms=NEWCOMER_ROOMS, roles=NEWCOMERS,
                  help="rooms.help.pseudonym", listed_for={Role.GUEST})
async def pseudonym(ctx: Context, name: str) -> None:
    shown = await ctx.port.display_name(ctx.room_id, ctx.sender)
    remember(ctx.session, ctx.sender, ctx.room_id, ctx.room_kind)
    p, became_pending, renamed = enrolment.set_pseudonym(ctx.session, ctx.sender, name, shown)
    ctx.reply("rooms.enrol.pseudonym_set", pseudonym=p.pseudonym)
    _next_step(ctx, p, became_pending)
    if renamed:  # peers knew the old name: the consultants should know both
        Notices.from_context(ctx).to_consultants("rooms.enrol.renamed", old=renamed, new=p.pseudonym)


@commands.command("community", rest("name", max_len=64), rooms=NEWCOMER_ROOMS, roles=NEWCOMERS,
                  help="rooms.help.community", listed_for={Role.GUEST})
async def community(ctx: Context, name: str) -> None:
    remember(ctx.session, ctx.sender, ctx.room_id, ctx.room_kind)
    p, became_pending = enrolment.set_community(ctx.session, ctx.settings, ctx.sender, name)
    ctx.reply("rooms.enrol.community_set", community=p.community)
    _next_step(ctx, p, became_pending)


@commands.command("pending", rooms=STAFF_ROOMS, roles={Role.CONSULTANT}, help="rooms.help.pending")
async def pending(ctx: Context) -> None:
    waiting = enrolment.awaiting_approval(ctx.session)
    if not waiting:
        ctx.reply("rooms.enrol.none_pending")
        return
    lines = Markdown("\n".join(f"{i}. **{literal(p.pseudonym)}** ({literal(p.community)}), {p.created_at:%Y-%m-%d}"
                               for i, p in enumerate(waiting, 1)))
    ctx.reply("rooms.enrol.pending_list", lines=lines)


@commands.command("approve", rest("pseudonym", max_len=64), rooms=STAFF_ROOMS, roles={Role.CONSULTANT},
                  help="rooms.help.approve")
async def approve(ctx: Context, pseudonym: str) -> None:
    p = enrolment.approvable(ctx.session, pseudonym)
    notify = Notices.from_context(ctx)
    await admit(ctx.session, ctx.port, notify, p.user_id, p.pseudonym or "", p.community or "")
    enrolment.activate(p, ctx.sender)
    chat = direct_chat_of(ctx.session, p.user_id)
    if chat is not None:
        # m.text: news the person is waiting for should make their phone buzz (a notice never does).
        ctx.send_text(chat, notify.t(notify.lang_of(p.user_id), "rooms.enrol.approved_you",
                                     pseudonym=p.pseudonym, community=p.community),
                      alert=True, mentions=(p.user_id,))
    ctx.reply("rooms.enrol.approved", pseudonym=p.pseudonym, community=p.community)


def split_pseudonym_community(ctx: Context, text: str) -> tuple[str, str]:
    """``"Blue Bird North East"`` → ("Blue Bird", "North East"): the community is the configured
    name the text ends with."""
    lowered = " ".join(text.split())
    for c in sorted(ctx.settings.communities, key=lambda c: -len(c.name)):
        suffix = " " + c.name.lower()
        if lowered.lower().endswith(suffix) and len(lowered) > len(suffix):
            return lowered[:-len(suffix)].strip(), c.name
    raise Invalid("rooms.enrol.no_such_community", communities=", ".join(c.name for c in ctx.settings.communities))


@commands.command("enroll", user("user"), rest("rest", max_len=128), rooms=STAFF_ROOMS, roles={Role.CONSULTANT},
                  help="rooms.help.enroll", usage="@user:server PSEUDONYM COMMUNITY")
async def enroll(ctx: Context, user: str, rest: str) -> None:
    raw_name, raw_community = split_pseudonym_community(ctx, rest)
    name, community_name = enrolment.enrollable(ctx.session, ctx.settings, user, raw_name, raw_community)
    await admit(ctx.session, ctx.port, Notices.from_context(ctx), user, name, community_name)
    p = enrolment.enroll(ctx.session, user, name, community_name, ctx.sender)
    ctx.reply("rooms.enrol.approved", pseudonym=p.pseudonym, community=p.community)


@commands.command("community-of", rest("rest", max_len=128), rooms=STAFF_ROOMS, roles={Role.CONSULTANT},
                  help="rooms.help.community_of", usage="PSEUDONYM COMMUNITY")
async def community_of(ctx: Context, rest: str) -> None:
    """A consultant moves an active participant to another community: out of the old café room,
    invited to the new one (muted there too if they are muted), and told privately."""
    raw_name, new_community = split_pseudonym_community(ctx, rest)
    p = enrolment.active_by_pseudonym(ctx.session, raw_name)
    if p.community == new_community:
        raise Invalid("rooms.enrol.same_community", pseudonym=p.pseudonym, community=new_community)
    old_cafe = find_room(ctx.session, RoomKind.CAFE, community=p.community)
    new_cafe = find_room(ctx.session, RoomKind.CAFE, community=new_community)
    if old_cafe is not None and p.user_id in await ctx.port.members(old_cafe.room_id):
        await ctx.port.kick(old_cafe.room_id, p.user_id)
    if new_cafe is not None:
        if p.user_id not in await ctx.port.members(new_cafe.room_id):
            await ctx.port.invite(new_cafe.room_id, p.user_id)
        if is_muted(ctx.session, p.user_id):
            from rooms.commands.moderation import MUTED_LEVEL  # here: !help lists enrolment first

            await ctx.port.set_power_level(new_cafe.room_id, p.user_id, MUTED_LEVEL)
    p.community = new_community
    Notices.from_context(ctx).to_person(p.user_id, "rooms.enrol.moved_note", community=new_community)
    ctx.reply("rooms.enrol.moved", pseudonym=p.pseudonym, community=new_community)


@commands.command("leave", rooms=NEWCOMER_ROOMS, roles={Role.PARTICIPANT}, help="rooms.help.leave")
async def leave(ctx: Context) -> None:
    p = enrolment.active(ctx.session, ctx.sender)
    await remove_from_shared_rooms(ctx.session, ctx.port, ctx.sender)
    p.status = EnrolmentStatus.LEFT.value
    ctx.reply("rooms.enrol.left")
    Notices.from_context(ctx).to_consultants("rooms.enrol.left_note", pseudonym=p.pseudonym)


@commands.command("providers add", user("user"), rooms=STAFF_ROOMS, roles={Role.CONSULTANT},
                  help="rooms.help.providers_add")
async def providers_add(ctx: Context, user: str) -> None:
    enrolment.add_provider(ctx.session, user, ctx.sender)
    ctx.reply("rooms.provider.added", user=user)


@commands.command("providers remove", user("user"), rooms=STAFF_ROOMS, roles={Role.CONSULTANT},
                  help="rooms.help.providers_remove")
async def providers_remove(ctx: Context, user: str) -> None:
    enrolment.provider(ctx.session, user)  # a polite "not a registered provider" otherwise
    rooms = find_rooms(ctx.session, RoomKind.PROVIDER, partner=user)
    notify = Notices.from_context(ctx)
    for room in rooms:
        await _unlink(ctx, notify, room)
    enrolment.remove_provider(ctx.session, user)
    ctx.reply("rooms.provider.removed", user=user, count=len(rooms))


async def _unlink(ctx: Context, notify: Notices, room: ManagedRoom) -> None:
    """Take the provider out of a provider room for good: kicked, and no longer its partner, so
    ``!view`` there refuses them even if they came back. The participant is told in the room."""
    provider_id = room.partner
    if provider_id is not None:
        try:
            await ctx.port.kick(room.room_id, provider_id, None)
        except PortError:
            log.info("the provider had already left %s", room.room_id)
    room.partner = None
    if room.owner is not None:
        notify.to_room(room.room_id, "rooms.provider.room_unlinked", lang=notify.lang_of(room.owner), alert=True,
                       mentions=(room.owner,))


@commands.command("provider link", rest("rest", max_len=128), rooms=STAFF_ROOMS, roles={Role.CONSULTANT},
                  help="rooms.help.provider_link", usage="PSEUDONYM @provider:server")
async def provider_link(ctx: Context, rest: str) -> None:
    name, _, provider_id = rest.strip().rpartition(" ")
    if not name or not MATRIX_ID.match(provider_id):
        raise Invalid("rooms.provider.link_usage")
    p = enrolment.active_by_pseudonym(ctx.session, name)
    enrolment.provider(ctx.session, provider_id)
    if find_room(ctx.session, RoomKind.PROVIDER, owner=p.user_id, partner=provider_id) is not None:
        raise Invalid("rooms.provider.already_linked", pseudonym=p.pseudonym, user=provider_id)
    notify = Notices.from_context(ctx)
    lang = notify.lang_of(p.user_id)
    spec = RoomSpec(name=notify.t(lang, "rooms.room.provider_name"), topic=notify.t(lang, "rooms.room.provider_topic"),
                    invite=(p.user_id, provider_id))
    room_id = await ctx.port.create_room(spec)
    register_room(ctx.session, room_id, RoomKind.PROVIDER, owner=p.user_id, partner=provider_id)
    notify.to_room(room_id, "rooms.provider.room_welcome", lang=lang, numbers=help_lines(ctx.settings, lang))
    ctx.reply("rooms.provider.linked", pseudonym=p.pseudonym, user=provider_id)


@commands.command("provider unlink", rest("rest", max_len=128), rooms=STAFF_ROOMS, roles={Role.CONSULTANT},
                  help="rooms.help.provider_unlink", usage="PSEUDONYM @provider:server")
async def provider_unlink(ctx: Context, rest: str) -> None:
    name, _, provider_id = rest.strip().rpartition(" ")
    if not name or not MATRIX_ID.match(provider_id):
        raise Invalid("rooms.provider.unlink_usage")
    p = enrolment.by_pseudonym(ctx.session, name)
    room = find_room(ctx.session, RoomKind.PROVIDER, owner=p.user_id, partner=provider_id)
    if room is None:
        raise Invalid("rooms.provider.not_linked", pseudonym=p.pseudonym, user=provider_id)
    await _unlink(ctx, Notices.from_context(ctx), room)
    ctx.reply("rooms.provider.unlinked", pseudonym=p.pseudonym, user=provider_id)
