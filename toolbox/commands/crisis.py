"""The crisis plan: ``!crisis``, ``!crisis add/remove``, ``!crisis review``."""

from __future__ import annotations

from bot.context import Context
from bot.db import utcnow
from bot.errors import NotFound
from bot.markup import Markdown, literal
from bot.router import integer, rest, word
from bot.timephrase import parse_date
from toolbox import crisis_plan, render
from toolbox.commands.common import PRIVATE, WHEN_KEYS, command, zone_of
from toolbox.limits import TEXT_MAX


@command("crisis", help="toolbox.help.crisis", crisis_exempt=True, safety=True, **PRIVATE)
async def crisis_show(ctx: Context) -> None:
    numbers = Markdown("\n".join(f"- {literal(n.label_in(ctx.lang))}: **{literal(n.number)}**"
                                 for n in ctx.settings.crisis.numbers))
    if crisis_plan.is_empty(ctx.session, ctx.sender):
        ctx.reply("toolbox.crisis.empty", numbers=numbers)
        return
    today = utcnow().astimezone(zone_of(ctx)).date()
    plan = render.crisis_plan(ctx.t, crisis_plan.items(ctx.session, ctx.sender),
                              crisis_plan.meta(ctx.session, ctx.sender), today)
    ctx.reply("toolbox.crisis.show", plan=plan, numbers=numbers)


@command("crisis add", word("section"), rest("text", max_len=TEXT_MAX), help="toolbox.help.crisis_add",
         crisis_exempt=True, **PRIVATE)
async def crisis_add(ctx: Context, section: str, text: str) -> None:
    section_id, text = crisis_plan.split_section(section, text)
    crisis_plan.add(ctx.session, ctx.sender, section_id, text)
    ctx.reply("toolbox.crisis.added", section=ctx.t(f"toolbox.section.{section_id}"))


@command("crisis remove", word("section"), integer("n", min=1), help="toolbox.help.crisis_remove",
         crisis_exempt=True, **PRIVATE)
async def crisis_remove(ctx: Context, section: str, n: int) -> None:
    section_id = crisis_plan.section_of(section)
    try:
        item = crisis_plan.remove(ctx.session, ctx.sender, section_id, n)
    except NotFound as err:
        # Name the section in the reader's language, which the domain cannot.
        raise NotFound(err.key, section=ctx.t(f"toolbox.section.{section_id}"), **err.params) from None
    ctx.reply("toolbox.crisis.removed", text=render.plain(item.text), section=ctx.t(f"toolbox.section.{section_id}"))


@command("crisis review", rest("date", max_len=40), help="toolbox.help.crisis_review", crisis_exempt=True,
         **PRIVATE)
async def crisis_review(ctx: Context, date: str) -> None:
    zone = zone_of(ctx)
    day = parse_date(date, zone, utcnow(), WHEN_KEYS)
    crisis_plan.set_review(ctx.session, ctx.sender, day)
    ctx.reply("toolbox.crisis.review_set", date=render.local_date(ctx.t, day))
    if day < utcnow().astimezone(zone).date():
        ctx.reply("toolbox.crisis.review_past")
