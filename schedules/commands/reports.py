"""For staff: ``!digest`` and ``!stats``."""

from __future__ import annotations

from bot.context import Context
from bot.db import utcnow
from bot.router import STAFF, integer
from schedules.commands.common import DEFAULT_STATS_MONTHS, STAFF_ROOMS, commands
from schedules.digest import digest_text
from schedules.stats import stats_text


@commands.command("digest", roles=STAFF, rooms=STAFF_ROOMS, help="schedules.help.digest")
async def digest_command(ctx: Context) -> None:
    sources = [src for f in ctx.services.features for src in f.digest_sources]
    ctx.reply_text(digest_text(ctx.session, ctx.settings, utcnow(), ctx.t, sources))


@commands.command("stats", integer("months", min=1, max=36, optional=True), roles=STAFF, rooms=STAFF_ROOMS,
                  help="schedules.help.stats")
async def stats_command(ctx: Context, months: int | None) -> None:
    sources = [src for f in ctx.services.features for src in f.stats_sources]
    ctx.reply_text(stats_text(ctx.session, ctx.settings, utcnow(), months or DEFAULT_STATS_MONTHS, ctx.t, sources))
