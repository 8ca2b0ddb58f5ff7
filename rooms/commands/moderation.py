"""Moderation commands. Reply-targeted: !redact, !pin, !report. Pseudonym-targeted: !warn, !mute,
!unmute, !kick, !ban, !unban. Broadcast: !announce, !topic. Review: !modlog, !hidden.

Every action is logged and echoed in the consultant room. A staff command or a report given in a
shared room is removed by the router before anything else (``Command.discreet``), and its answers
go privately, so the room keeps only the conversation.

Handlers make their Matrix calls before they write to the database: a write transaction held open
across an await would block every other writer (SQLite has one) while the homeserver answers.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.context import Context
from bot.db import utcnow
from bot.durations import parse_duration
from bot.errors import Invalid
from bot.markup import Markdown, literal, markdown_join
from bot.models import ManagedRoom, Participant, Role, RoomKind
from bot.notices import Notices
from bot.people import resolve_role
from bot.port import PortError
from bot.roomdir import find_room, find_rooms, toolbox_room_of
from bot.router import PRIVATE_ROOMS, SHARED_ROOMS, choice, integer, rest
from rooms import activity, moderation, standing
from rooms.feature import feature
from rooms.membership import (
    MUTED_LEVEL,
    invite_to_community,
    lift_mute,
    posting_room_ids,
    remove_from_shared_rooms,
    shared_room_ids,
)
from rooms.targets import MAX_LINK_LEN, event_link, parse_event_link, pseudonym_of, split_target

log = logging.getLogger(__name__)
commands = feature.commands
STAFF = {Role.CONSULTANT}
MOD_ROOMS = {RoomKind.CONSULTANT, RoomKind.DIRECT, *SHARED_ROOMS}
BROADCAST_ROOMS = {RoomKind.CONSULTANT, RoomKind.DIRECT}
REPORT_ROOMS = SHARED_ROOMS | PRIVATE_ROOMS
REASON_MAX = 300
REPORT_TEXT_MAX = MAX_LINK_LEN + 1 + REASON_MAX


def record(ctx: Context, action: str, target: Participant | None, reason: str | None = None,
           detail: str = "") -> None:
    moderation.log(ctx.session, ctx.sender, action, target, reason)
    notify = Notices.from_context(ctx)
    lang = ctx.settings.language
    notify.to_consultants(
        "rooms.mod.echo", actor=ctx.sender, action=notify.t(lang, f"rooms.mod.action.{action}"),
        details=_details(target.pseudonym if target else None, " ".join(x for x in (reason, detail) if x)))


def _details(*parts: str | None) -> Markdown:
    """" — Kari — spam" for the parts there are (no empty "— —"), each shown as typed."""
    return Markdown("".join(f" — {literal(part)}" for part in parts if part and part.strip()))


def _replied(ctx: Context) -> str:
    target = ctx.event.reply_to
    if target is None:
        raise Invalid("rooms.mod.reply_needed")
    return target


async def _author(ctx: Context, event_id: str) -> tuple[str | None, dict[str, Any] | None]:
    event = await ctx.port.fetch_event(ctx.room_id, event_id)
    sender = event.get("sender") if event else None
    return (sender if isinstance(sender, str) else None), event


def _participant(ctx: Context, user_id: str | None) -> Participant | None:
    return ctx.session.get(Participant, user_id) if user_id else None


# --- reply-targeted -----------------------------------------------------------------------------

@commands.command("redact", rest("reason", optional=True, max_len=300), rooms=SHARED_ROOMS, roles=STAFF,
                  help="rooms.help.redact")
async def redact(ctx: Context, reason: str | None) -> None:
    target = _replied(ctx)
    author, _ = await _author(ctx, target)
    await ctx.port.redact(ctx.room_id, target, reason)
    activity.forget_event(ctx.session, target)
    record(ctx, "redact", _participant(ctx, author), reason)


@commands.command("pin", rooms=SHARED_ROOMS, roles=STAFF, help="rooms.help.pin")
async def pin(ctx: Context) -> None:
    target = _replied(ctx)
    state = await ctx.port.get_state(ctx.room_id, "m.room.pinned_events") or {}
    pinned = [e for e in state.get("pinned", []) if isinstance(e, str)]
    if target not in pinned:
        await ctx.port.set_state(ctx.room_id, "m.room.pinned_events", {"pinned": [*pinned, target]})
    record(ctx, "pin", None, detail=event_link(ctx.room_id, target))


@commands.command("report", rest("text", optional=True, max_len=REPORT_TEXT_MAX), rooms=REPORT_ROOMS,
                  roles={Role.PARTICIPANT, Role.CONSULTANT}, help="rooms.help.report", usage="[LINK] [REASON]",
                  private=True)
async def report(ctx: Context, text: str | None) -> None:
    # Private: in a shared room the router has already removed the command and turns every answer
    # to the reporter's toolbox, so nobody in the room sees who reported.
    if ctx.room_kind in SHARED_ROOMS:
        target = ctx.event.reply_to
        if target is None:
            raise Invalid("rooms.report.reply_needed")
        room_id, reason, event = ctx.room_id, text, None
    else:
        room_id, target, reason, event = await _linked(ctx, text or "")
    if reason is not None and len(reason) > REASON_MAX:
        raise Invalid("router.too_long", arg="REASON", max=REASON_MAX, length=len(reason))
    if moderation.has_reported(ctx.session, target, ctx.sender):
        ctx.reply("rooms.report.already")
        return
    notify = Notices.from_context(ctx)
    count = moderation.reporters(ctx.session, target) + 1
    hidden: tuple[str | None, str | None] | None = None
    if moderation.should_hide(ctx.session, ctx.settings, target, count, utcnow()):
        hidden = await _hide(ctx, room_id, target, event)
    moderation.report(ctx.session, room_id, target, ctx.sender, reason)
    notify.to_consultants("rooms.report.alert", alert=True, link=event_link(room_id, target), count=count,
                          reason=reason or "—")
    ctx.reply("rooms.report.thanks")
    if hidden is not None:
        _record_hidden(ctx, notify, room_id, target, *hidden)


async def _linked(ctx: Context, text: str) -> tuple[str, str, str | None, dict[str, Any]]:
    """``!report LINK [reason]`` from a private room: the message must be in a forum, café room or
    circle the reporter is in. Returns (room, event, reason, the event)."""
    link, _, reason = text.strip().partition(" ")
    found = parse_event_link(link)
    if found is None:
        raise Invalid("rooms.report.link_needed")
    room_id, event_id = found
    room = ctx.session.get(ManagedRoom, room_id)
    if room is None or RoomKind(room.kind) not in SHARED_ROOMS or ctx.sender not in await ctx.port.members(room_id):
        raise Invalid("rooms.report.not_reportable")
    event = await ctx.port.fetch_event(room_id, event_id)
    if event is None or event.get("sender") in (None, ctx.port.bot_user_id):
        raise Invalid("rooms.report.not_reportable")
    return room_id, event_id, reason.strip() or None, event


async def _hide(ctx: Context, room_id: str, target: str,
                event: dict[str, Any] | None) -> tuple[str | None, str | None] | None:
    """Fetch the reported message's author and text (unless already fetched), then redact it;
    None (nothing hidden) when it is a message by staff or the bot, never hidden automatically."""
    if event is None:
        event = await ctx.port.fetch_event(room_id, target)
    sender = (event or {}).get("sender")
    if sender == ctx.port.bot_user_id or (isinstance(sender, str)
                                          and resolve_role(ctx.session, ctx.settings, sender)
                                          in (Role.CONSULTANT, Role.ADMIN)):
        return None
    content = (event or {}).get("content") or {}
    text = content.get("body") if isinstance(content.get("body"), str) else None
    await ctx.port.redact(room_id, target, "reported")
    return (sender if isinstance(sender, str) else None), text


def _record_hidden(ctx: Context, notify: Notices, room_id: str, target: str, author: str | None,
                   text: str | None) -> None:
    moderation.hide(ctx.session, room_id, target, author, text)
    activity.forget_event(ctx.session, target)
    p = _participant(ctx, author)
    moderation.log(ctx.session, ctx.port.bot_user_id, "hide", p, None)
    step = moderation.next_strike(ctx.session, author) if author else "warn"
    pseudonym = (p.pseudonym if p else None) or "—"
    notify.to_consultants("rooms.report.hidden", alert=True, count=len(moderation.awaiting_review(ctx.session)),
                          pseudonym=pseudonym,
                          suggestion=notify.t(ctx.settings.language, f"rooms.ladder.{step}", pseudonym=pseudonym))


# --- pseudonym-targeted -------------------------------------------------------------------------

@commands.command("warn", rest("text", max_len=1000), rooms=MOD_ROOMS, roles=STAFF,
                  help="rooms.help.warn", usage="PSEUDONYM TEXT")
async def warn(ctx: Context, text: str) -> None:
    p, message = split_target(ctx.session, text)
    if not message:
        raise Invalid("rooms.mod.warn_text")
    if toolbox_room_of(ctx.session, p.user_id) is None:
        raise Invalid("rooms.mod.no_private_room", pseudonym=p.pseudonym)
    Notices.from_context(ctx).to_person(p.user_id, "rooms.mod.warned", alert=True, text=message)
    record(ctx, "warn", p, message)


@commands.command("mute", rest("rest", max_len=100), rooms=MOD_ROOMS, roles=STAFF,
                  help="rooms.help.mute", usage="PSEUDONYM [DURATION]")
async def mute(ctx: Context, rest: str) -> None:
    p, duration_text = split_target(ctx.session, rest)
    until: datetime | None = utcnow() + parse_duration(duration_text) if duration_text else None
    for room_id in posting_room_ids(ctx.session, p.user_id):
        await ctx.port.set_power_level(room_id, p.user_id, MUTED_LEVEL)
    moderation.mute(ctx.session, p.user_id, until, ctx.sender)
    when = _until_text(ctx, until)
    Notices.from_context(ctx).to_person(p.user_id, "rooms.mod.muted_you" if until else "rooms.mod.muted_you_open", alert=True,
                                        until=when)
    record(ctx, "mute", p, duration_text or None, detail=ctx.t("rooms.mod.until", until=when) if until else "")


def _until_text(ctx: Context, until: datetime | None) -> str:
    zone = ctx.settings.moderation.staffed_timezone
    return f"{until.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} ({zone})" if until else ""


@commands.command("unmute", rest("pseudonym", max_len=64), rooms=MOD_ROOMS, roles=STAFF,
                  help="rooms.help.unmute")
async def unmute(ctx: Context, pseudonym: str) -> None:
    p, _ = split_target(ctx.session, pseudonym)
    if not moderation.is_muted(ctx.session, p.user_id):
        raise Invalid("rooms.mod.not_muted")
    await lift_mute(ctx.port, ctx.session, p.user_id)
    moderation.unmute(ctx.session, p.user_id)
    Notices.from_context(ctx).to_person(p.user_id, "rooms.mod.unmuted_you", alert=True)
    record(ctx, "unmute", p)


@commands.command("kick", rest("rest", max_len=400), rooms=MOD_ROOMS, roles=STAFF,
                  help="rooms.help.kick", usage="PSEUDONYM [REASON]")
async def kick(ctx: Context, rest: str) -> None:
    p, reason = split_target(ctx.session, rest)
    await remove_from_shared_rooms(ctx.session, ctx.port, p.user_id)
    Notices.from_context(ctx).to_person(p.user_id, "rooms.mod.kicked_you", alert=True, reason=reason or "—")
    record(ctx, "kick", p, reason or None)


@commands.command("ban", rest("rest", max_len=400), rooms=MOD_ROOMS, roles=STAFF,
                  help="rooms.help.ban", usage="PSEUDONYM [REASON]")
async def ban(ctx: Context, rest: str) -> None:
    p, reason = split_target(ctx.session, rest)
    for room_id in shared_room_ids(ctx.session, p.user_id):
        await ctx.port.ban(room_id, p.user_id, reason or None)  # also keeps them out of rooms not yet joined
    standing.ban(ctx.session, p.user_id, ctx.sender)  # and from reaching anyone (rooms.standing)
    Notices.from_context(ctx).to_person(p.user_id, "rooms.mod.banned_you", alert=True, reason=reason or "—")
    record(ctx, "ban", p, reason or None)


@commands.command("unban", rest("pseudonym", max_len=64), rooms=MOD_ROOMS, roles=STAFF,
                  help="rooms.help.unban")
async def unban(ctx: Context, pseudonym: str) -> None:
    p, _ = split_target(ctx.session, pseudonym)
    for room_id in shared_room_ids(ctx.session, p.user_id):
        try:
            await ctx.port.unban(room_id, p.user_id)
        except PortError:
            log.info("%s was not banned in %s", p.user_id, room_id)  # e.g. a room made after the ban
    await invite_to_community(ctx.session, ctx.port, p.user_id, p.community)
    standing.unban(ctx.session, p.user_id)
    Notices.from_context(ctx).to_person(p.user_id, "rooms.mod.unbanned_you", alert=True)
    record(ctx, "unban", p)


# --- broadcast ----------------------------------------------------------------------------------

@commands.command("announce", rest("text", max_len=4000), rooms=BROADCAST_ROOMS, roles=STAFF,
                  help="rooms.help.announce")
async def announce(ctx: Context, text: str) -> None:
    rooms = find_rooms(ctx.session, RoomKind.FORUM) + find_rooms(ctx.session, RoomKind.CAFE)
    if not rooms:
        raise Invalid("rooms.mod.no_rooms")
    for room in rooms:
        ctx.send_text(room.room_id, ctx.t("rooms.mod.announcement", lang=ctx.settings.language, text=text))
    ctx.reply("rooms.mod.announced", count=len(rooms))
    record(ctx, "announce", None)


@commands.command("topic", rest("text", max_len=2000), rooms=BROADCAST_ROOMS, roles=STAFF,
                  help="rooms.help.topic")
async def topic(ctx: Context, text: str) -> None:
    forum = find_room(ctx.session, RoomKind.FORUM)
    if forum is None:
        raise Invalid("rooms.mod.no_rooms")
    ctx.send_text(forum.room_id, ctx.t("rooms.mod.topic_post", lang=ctx.settings.language, text=text))
    ctx.reply("rooms.mod.topic_posted")
    record(ctx, "topic", None)


# --- review -------------------------------------------------------------------------------------

@commands.command("modlog", integer("n", optional=True, min=1, max=100), rooms=BROADCAST_ROOMS, roles=STAFF,
                  help="rooms.help.modlog")
async def modlog(ctx: Context, n: int | None) -> None:
    entries = moderation.recent(ctx.session, n or 10)
    if not entries:
        ctx.reply("rooms.mod.log_empty")
        return
    zone_name = ctx.settings.moderation.staffed_timezone
    zone = ZoneInfo(zone_name)
    lines = markdown_join("\n", (
        ctx.t("rooms.mod.log_line", i=i, at=f"{e.at.astimezone(zone):%Y-%m-%d %H:%M}", actor=e.actor,
              action=ctx.t(f"rooms.mod.action.{e.action}"), details=_details(e.target_pseudonym, e.reason))
        for i, e in enumerate(entries, 1)))
    ctx.reply("rooms.mod.log", lines=lines, zone=zone_name)


@commands.command("hidden", integer("n", optional=True, min=1),
                  choice("decision", ("restore", "remove"), aliases={"gjenopprett": "restore", "fjern": "remove"},
                         optional=True),
                  rooms=BROADCAST_ROOMS, roles=STAFF, help="rooms.help.hidden")
async def hidden(ctx: Context, n: int | None, decision: str | None) -> None:
    if n is None:
        waiting = moderation.awaiting_review(ctx.session)
        if not waiting:
            ctx.reply("rooms.hidden.none")
            return
        zone_name = ctx.settings.moderation.staffed_timezone
        lines = markdown_join("\n", (
            f"{i}. {pseudonym_of(ctx.session, h.author)} — {h.hidden_at.astimezone(ZoneInfo(zone_name)):%Y-%m-%d %H:%M}"
            for i, h in enumerate(waiting, 1)))
        ctx.reply("rooms.hidden.list", lines=lines, zone=zone_name)
        return
    if decision is None:
        row = moderation.waiting(ctx.session, n)
        pseudonym = pseudonym_of(ctx.session, row.author)
        step = moderation.next_strike(ctx.session, row.author) if row.author else "warn"
        ctx.reply("rooms.hidden.show", pseudonym=pseudonym, text=_quoted(row.text), n=n,
                  suggestion=ctx.t(f"rooms.ladder.{step}", pseudonym=pseudonym))
        return
    row = moderation.review(ctx.session, n, ctx.sender)
    author = ctx.session.get(Participant, row.author) if row.author else None
    pseudonym = pseudonym_of(ctx.session, row.author)
    notify = Notices.from_context(ctx)
    if decision == "restore":
        lang = ctx.settings.language
        ctx.send_text(row.room_id, ctx.t("rooms.hidden.restored_post", lang=lang, pseudonym=pseudonym,
                                         text=_quoted(row.text)))
        if author is not None:
            notify.to_person(author.user_id, "rooms.hidden.restored_you")
        record(ctx, "restore", author)
        ctx.reply("rooms.hidden.restored", pseudonym=pseudonym)
    else:
        if author is not None:
            notify.to_person(author.user_id, "rooms.hidden.removed_you")
        record(ctx, "remove", author)
        ctx.reply("rooms.hidden.removed", pseudonym=pseudonym)


def _quoted(text: str | None) -> Markdown:
    """A Markdown quote of every line (a hidden message may span several), shown as typed."""
    return Markdown("\n".join(f"> {literal(line)}" for line in (text or "—").splitlines() or ["—"]))
