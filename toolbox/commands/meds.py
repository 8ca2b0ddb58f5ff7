"""The medication overview: ``!meds``, ``!med add/remove``, ``!med remind``."""

from __future__ import annotations

from datetime import timedelta

from bot.context import Context
from bot.db import utcnow
from bot.recurrence import local_to_utc
from bot.router import choice, integer, rest
from bot.zones import preferred_zone, zone_name
from toolbox import meds, render
from toolbox.commands.common import PREFIXED_MAX, PRIVATE, command


@command("meds", help="toolbox.help.meds", **PRIVATE)
async def meds_list(ctx: Context) -> None:
    rows = meds.listed(ctx.session, ctx.sender)
    if not rows:
        ctx.reply("toolbox.med.empty")
        return
    ctx.reply("toolbox.med.list", meds=render.meds(ctx.t, rows))


@command("med add", rest("text", max_len=PREFIXED_MAX), usage="NAME DOSE [TIMES]", help="toolbox.help.med_add",
         **PRIVATE)
async def med_add(ctx: Context, text: str) -> None:
    name, dose, times = meds.parse_entry(text)
    med = meds.add(ctx.session, ctx.sender, name, dose, times, zone_name(ctx.session, ctx.settings, ctx.sender))
    if times:
        zone = preferred_zone(ctx.session, ctx.sender, med.zone)
        now = utcnow()
        today = now.astimezone(zone).date()
        first = min((at for day in (today, today + timedelta(days=1)) for clock in times
                     if (at := local_to_utc(day, clock, zone)) > now), default=None)
        ctx.reply("toolbox.med.added_reminders", name=render.plain(med.name), times=med.times.replace(",", ", "),
                  n=len(meds.listed(ctx.session, ctx.sender)),
                  first=render.when_from_now(ctx.t, first, zone, now) if first else "—")
    else:
        ctx.reply("toolbox.med.added", name=render.plain(med.name))


@command("med remove", integer("n", min=1), help="toolbox.help.med_remove", **PRIVATE)
async def med_remove(ctx: Context, n: int) -> None:
    med = meds.remove(ctx.session, ctx.sender, n)
    ctx.reply("toolbox.med.removed", name=render.plain(med.name))


@command("med remind", integer("n", min=1), choice("switch", ("on", "off"), aliases={"på": "on", "av": "off"}),
         help="toolbox.help.med_remind", **PRIVATE)
async def med_remind(ctx: Context, n: int, switch: str) -> None:
    med = meds.set_reminders(ctx.session, ctx.sender, n, switch == "on")
    ctx.reply("toolbox.med.remind_on" if med.remind else "toolbox.med.remind_off", name=render.plain(med.name))
