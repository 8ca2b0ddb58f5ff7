"""The recovery overview: ``!overview`` (a picture and a short summary) and ``!overview monthly on|off``."""

from __future__ import annotations

from bot.context import Context
from bot.db import utcnow
from bot.router import choice
from bot.zones import zone_name
from toolbox import overview, render
from toolbox.commands.common import PRIVATE, command, zone_of
from toolbox.pictures import send_overview


@command("overview", help="toolbox.help.overview", **PRIVATE)
async def show_overview(ctx: Context) -> None:
    ov = overview.build(ctx.session, ctx.sender)
    if ov.is_empty:
        ctx.reply("toolbox.overview.empty")
        return
    ctx.reply("toolbox.overview.own", lines=render.overview_lines(ctx.t, ov))
    await send_overview(ctx, ov, zone_of(ctx), own=True)


@command("overview monthly", choice("switch", ("on", "off"), aliases={"på": "on", "av": "off"}),
         help="toolbox.help.overview_monthly", **PRIVATE)
async def overview_monthly(ctx: Context, switch: str) -> None:
    if switch == "off":
        overview.set_monthly(ctx.session, ctx.sender, False, "")
        ctx.reply("toolbox.overview.monthly_off")
        return
    now = utcnow()
    overview.set_monthly(ctx.session, ctx.sender, True, zone_name(ctx.session, ctx.settings, ctx.sender), now)
    zone = zone_of(ctx)
    ctx.reply("toolbox.overview.monthly_on", time=overview.MONTHLY_AT.strftime("%H:%M"), zone=zone.key,
              when=render.local_date(ctx.t, overview.next_monthly(zone, now).astimezone(zone).date()))
