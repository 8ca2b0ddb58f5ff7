"""Commands for guided exercises, information pages, community links and the person's time zone."""

from __future__ import annotations

from bot.context import Context
from bot.markup import Markdown, literal
from bot.people import participant, prefs
from bot.router import rest, word
from bot.zones import valid_zone, zone_name
from toolbox import content, exercises
from toolbox.commands.common import PRIVATE, command


def _page_text(ctx: Context, text: str) -> Markdown:
    """Content files (our own Markdown) write commands as ``{p}goal add``; show them with this bot's prefix."""
    return Markdown(text.replace("{p}", ctx.prefix))


def _step(ctx: Context, page: content.Page, index: int) -> Markdown:
    return ctx.t("toolbox.exercise.step", n=index + 1, count=len(page.steps),
                 text=_page_text(ctx, page.steps[index]))


@command("exercises", help="toolbox.help.exercises", **PRIVATE)
async def exercises_list(ctx: Context) -> None:
    lines = []
    for n, page in enumerate(content.pages(exercises.FOLDER, ctx.lang), 1):
        minutes = ctx.t("toolbox.exercise.minutes", minutes=page.minutes) if page.minutes else ""
        lines.append(f"{n}. **{page.title}** — {ctx.t(f'toolbox.exercise.kind.{page.kind}')}{minutes}")
    ctx.reply("toolbox.exercise.list", exercises=Markdown("\n".join(lines)))


@command("exercise", rest("name", max_len=80), help="toolbox.help.exercise", **PRIVATE)
async def exercise_start(ctx: Context, name: str) -> None:
    page = exercises.start(ctx.session, ctx.sender, ctx.lang, name)
    ctx.reply("toolbox.exercise.start", title=page.title, intro=_page_text(ctx, page.intro), step=_step(ctx, page, 0))


@command("next", help="toolbox.help.next", **PRIVATE)
async def exercise_next(ctx: Context) -> None:
    found = exercises.advance(ctx.session, ctx.sender, ctx.lang)
    if found is None:
        ctx.reply("toolbox.exercise.finished")
        return
    page, index = found
    key = "toolbox.exercise.last_step" if index == len(page.steps) - 1 else "toolbox.exercise.next_step"
    ctx.reply(key, step=_step(ctx, page, index))


@command("stop", help="toolbox.help.stop", **PRIVATE)
async def exercise_stop(ctx: Context) -> None:
    page = exercises.stop(ctx.session, ctx.sender, ctx.lang)
    ctx.reply("toolbox.exercise.stopped", title=page.title)


@command("info", rest("topic", max_len=80, optional=True), help="toolbox.help.info", **PRIVATE)
async def info(ctx: Context, topic: str | None) -> None:
    if topic:
        page = content.find("info", ctx.lang, topic)
        ctx.reply_text(f"**{page.title}**\n\n{_page_text(ctx, page.body)}")
        return
    # The word to type in the reader's language: the page's first alias (its id is English).
    lines = [f"{n}. **{p.title}** (`{p.aliases[0] if p.aliases else p.id}`)"
             for n, p in enumerate(content.pages("info", ctx.lang), 1)]
    ctx.reply("toolbox.info.list", topics=Markdown("\n".join(lines)))


@command("links", help="toolbox.help.links", **PRIVATE)
async def links(ctx: Context) -> None:
    person = participant(ctx.session, ctx.sender)
    community = ctx.settings.community(person.community) if person and person.community else None
    if community is None or not community.links:
        ctx.reply("toolbox.links.none")
        return
    lines = Markdown("\n".join(f"{n}. [{literal(link.title)}]({link.url})"
                               for n, link in enumerate(community.links, 1)))
    ctx.reply("toolbox.links.list", community=community.name, links=lines)


@command("timezone", word("zone", optional=True, placeholder="ZONE"), help="toolbox.help.timezone", **PRIVATE)
async def timezone(ctx: Context, zone: str | None) -> None:
    if zone is None:
        ctx.reply("toolbox.zone.current", zone=zone_name(ctx.session, ctx.settings, ctx.sender))
        return
    prefs(ctx.session, ctx.sender).timezone = valid_zone(zone)
    ctx.reply("toolbox.zone.set", zone=zone_name(ctx.session, ctx.settings, ctx.sender))
