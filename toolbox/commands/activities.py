"""The activity plan: ``!activity add WHEN TEXT``, ``!activities``, ``!activity done/delete``."""

from __future__ import annotations

from bot.context import Context
from bot.db import utcnow
from bot.router import integer, rest
from bot.timephrase import split_when
from toolbox import activities, render
from toolbox.commands.common import PREFIXED_MAX, PRIVATE, WHEN_KEYS, command, zone_of


@command("activity add", rest("text", max_len=PREFIXED_MAX), usage="WHEN TEXT", help="toolbox.help.activity_add",
         **PRIVATE)
async def activity_add(ctx: Context, text: str) -> None:
    zone = zone_of(ctx)
    due_at, what = split_when(text, zone, utcnow(), WHEN_KEYS)  # a clock time already past: tomorrow
    if not what:
        ctx.reply("toolbox.activity.no_text")
        return
    now = utcnow()
    activity = activities.add(ctx.session, ctx.sender, due_at, what)
    ctx.reply("toolbox.activity.added", text=render.plain(activity.text),
              when=render.when_from_now(ctx.t, due_at, zone, now))


@command("activities", help="toolbox.help.activities", **PRIVATE)
async def activities_list(ctx: Context) -> None:
    rows = activities.listed(ctx.session, ctx.sender)
    if not rows:
        ctx.reply("toolbox.activity.empty")
        return
    ctx.reply("toolbox.activity.list", activities=render.activities(ctx.t, rows, zone_of(ctx)))


@command("activity done", integer("n", min=1), integer("importance", min=1, max=5, optional=True),
         integer("enjoyment", min=1, max=5, optional=True), usage="N [IMPORTANCE 1-5] [ENJOYMENT 1-5]",
         help="toolbox.help.activity_done", **PRIVATE)
async def activity_done(ctx: Context, n: int, importance: int | None, enjoyment: int | None) -> None:
    activity = activities.mark_done(ctx.session, ctx.sender, n, importance, enjoyment)
    key = "toolbox.activity.done_rated" if importance or enjoyment else "toolbox.activity.done"
    ctx.reply(key, text=render.plain(activity.text), importance=importance or "–", enjoyment=enjoyment or "–")


@command("activity delete", integer("n", min=1), help="toolbox.help.activity_delete", **PRIVATE)
async def activity_delete(ctx: Context, n: int) -> None:
    activity = activities.remove(ctx.session, ctx.sender, n)
    ctx.reply("toolbox.activity.deleted", text=render.plain(activity.text))
