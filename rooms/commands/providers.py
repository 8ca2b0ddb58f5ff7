"""Provider rooms: the provider's !hours, and the out-of-hours auto-reply to the participant."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.context import Context
from bot.db import utcnow
from bot.models import Provider, Role, RoomKind
from bot.router import rest
from bot.weekhours import parse_hours, said_at, split_zone
from rooms.admission import help_lines
from rooms.feature import feature
from rooms.models import AutoReply

commands = feature.commands
AUTO_REPLY_GAP = timedelta(hours=1)
OFF_WORDS = {"off", "none", "av", "ingen"}


@commands.command("hours", rest("hours", optional=True, max_len=200), rooms={RoomKind.PROVIDER},
                  roles={Role.PROVIDER}, help="rooms.help.hours", usage="[mon-fri 08:00-15:30, sat 10:00-12:00 ZONE|off]")
async def hours(ctx: Context, hours: str | None) -> None:
    provider = ctx.session.get(Provider, ctx.sender)
    assert provider is not None, "the router lets only providers in"
    if hours is None:
        if provider.office_hours:
            ctx.reply("rooms.provider.hours_are", hours=parse_hours(provider.office_hours).said(ctx.t),
                      timezone=provider.timezone)
        else:
            ctx.reply("rooms.provider.hours_none")
        return
    if hours.strip().lower() in OFF_WORDS:
        provider.office_hours = None
        ctx.reply("rooms.provider.hours_off")
        return
    text, zone = split_zone(hours)
    schedule = parse_hours(text)
    provider.office_hours = schedule.canonical()
    if zone is not None:
        provider.timezone = zone
    ctx.reply("rooms.provider.hours_set", hours=schedule.said(ctx.t), timezone=provider.timezone)


def out_of_hours_reply_due(session: Session, room_id: str, provider: Provider, now: datetime) -> datetime | None:
    """When the provider will next read messages, if a reply is due now (outside office hours
    and none sent in this room within the hour); else None. Records the reply."""
    if not provider.office_hours:
        return None
    weekly = parse_hours(provider.office_hours)
    if weekly.is_open(now, provider.timezone):
        return None
    last = session.get(AutoReply, room_id)
    if last is not None and now - last.sent_at < AUTO_REPLY_GAP:
        return None
    if last is None:
        session.add(AutoReply(room_id=room_id, sent_at=now))
    else:
        last.sent_at = now
    session.flush()
    return weekly.next_opening(now, provider.timezone)


@feature.observe("m.room.message")
async def provider_auto_reply(ctx: Context) -> None:
    room = ctx.room
    if ctx.room_kind is not RoomKind.PROVIDER or room is None or room.owner != ctx.sender or not room.partner:
        return
    provider = ctx.session.get(Provider, room.partner)
    if provider is None:
        return
    opens = out_of_hours_reply_due(ctx.session, ctx.room_id, provider, utcnow())
    if opens is None:
        return
    ctx.reply("rooms.provider.out_of_hours", hours=parse_hours(provider.office_hours or "").said(ctx.t),
              when=said_at(ctx.t, opens, provider.timezone),
              numbers=help_lines(ctx.settings, ctx.lang))
