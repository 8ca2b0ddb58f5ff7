"""A break from everything: ``!break`` and ``!back``."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.context import Context
from bot.db import utcnow
from bot.durations import parse_duration
from bot.router import rest
from bot.zones import person_zone
from schedules import breaks
from schedules.commands.common import OWN_TIME, PRIVATE, commands
from schedules.wording import when_text


@commands.command("break", rest("duration", max_len=40, optional=True, placeholder="DURATION"),
                  roles=OWN_TIME, rooms=PRIVATE, help="schedules.help.break")
async def break_command(ctx: Context, duration: str | None) -> None:
    length = parse_duration(duration) if duration else None
    until = breaks.take_break(ctx.session, ctx.sender, utcnow(), length)
    if until is None:
        ctx.reply("schedules.break.open")
        return
    ctx.reply("schedules.break.until", until=when_text(ctx.t, until, _person_zone(ctx)))


@commands.command("back", roles=OWN_TIME, rooms=PRIVATE, help="schedules.help.back")
async def back_command(ctx: Context) -> None:
    ctx.reply("schedules.break.ended" if breaks.end_break(ctx.session, ctx.sender, utcnow())
              else "schedules.break.not_on_break")


def _person_zone(ctx: Context) -> ZoneInfo:
    return person_zone(ctx.session, ctx.settings, ctx.sender)
