"""Goals by life area, with steps: ``!goal add``, ``!goals``, ``!goal done/edit/delete/step``."""

from __future__ import annotations

from bot.context import Context
from bot.router import integer, rest
from toolbox import goals, render
from toolbox.commands.common import PREFIXED_MAX, PRIVATE, command
from toolbox.limits import TEXT_MAX


@command("goal add", rest("text", max_len=PREFIXED_MAX), usage="[AREA:] TEXT", help="toolbox.help.goal_add", **PRIVATE)
async def goal_add(ctx: Context, text: str) -> None:
    area, rest_text = goals.split_area(text)
    goal = goals.add(ctx.session, ctx.sender, rest_text, area)
    ctx.reply("toolbox.goal.added", n=goals.count(ctx.session, ctx.sender), text=render.plain(goal.text))


@command("goals", help="toolbox.help.goals", **PRIVATE)
async def goals_list(ctx: Context) -> None:
    rows = goals.listed(ctx.session, ctx.sender)
    if not rows:
        ctx.reply("toolbox.goal.empty")
        return
    ctx.reply("toolbox.goal.list", goals=render.goals(ctx.t, ctx.session, rows))


@command("goal done", integer("n", min=1), help="toolbox.help.goal_done", **PRIVATE)
async def goal_done(ctx: Context, n: int) -> None:
    goal = goals.mark_done(ctx.session, ctx.sender, n)
    ctx.reply("toolbox.goal.done", n=n, text=render.plain(goal.text))


@command("goal edit", integer("n", min=1), rest("text", max_len=PREFIXED_MAX), usage="N [AREA:] TEXT",
         help="toolbox.help.goal_edit", **PRIVATE)
async def goal_edit(ctx: Context, n: int, text: str) -> None:
    goal = goals.edit(ctx.session, ctx.sender, n, text)
    ctx.reply("toolbox.goal.edited", n=n, text=render.plain(goal.text))


@command("goal delete", integer("n", min=1), help="toolbox.help.goal_delete", **PRIVATE)
async def goal_delete(ctx: Context, n: int) -> None:
    goal = goals.remove(ctx.session, ctx.sender, n)
    ctx.reply("toolbox.goal.deleted", text=render.plain(goal.text))


@command("goal step", integer("n", min=1), rest("text", max_len=TEXT_MAX), help="toolbox.help.goal_step", **PRIVATE)
async def goal_step(ctx: Context, n: int, text: str) -> None:
    goal, step = goals.add_step(ctx.session, ctx.sender, n, text)
    ctx.reply("toolbox.goal.step_added", n=n, goal=render.plain(goal.text), text=render.plain(step.text))
