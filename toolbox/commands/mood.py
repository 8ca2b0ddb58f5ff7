"""Mood and diary: ``!mood``, ``!moods`` (the chart), ``!diary``."""

from __future__ import annotations

from bot.context import Context
from bot.markup import Markdown
from bot.router import integer, rest
from toolbox import diary, render
from toolbox.commands.common import PRIVATE, command, zone_of
from toolbox.limits import DIARY_MAX, TEXT_MAX
from toolbox.pictures import send_mood_chart


@command("mood", integer("score", min=1, max=10), rest("note", max_len=TEXT_MAX, optional=True),
         help="toolbox.help.mood", **PRIVATE)
async def mood(ctx: Context, score: int, note: str | None) -> None:
    diary.add_mood(ctx.session, ctx.sender, score, note)
    ctx.reply("toolbox.mood.saved", score=score)


@command("moods", help="toolbox.help.moods", **PRIVATE)
async def moods_chart(ctx: Context) -> None:
    entries = diary.recent_moods(ctx.session, ctx.sender)
    if not entries:
        ctx.reply("toolbox.mood.none")
        return
    await send_mood_chart(ctx, entries, zone_of(ctx))


@command("diary", rest("text", max_len=DIARY_MAX, optional=True), help="toolbox.help.diary", **PRIVATE)
async def diary_entry(ctx: Context, text: str | None) -> None:
    if text:
        diary.add_entry(ctx.session, ctx.sender, text)
        ctx.reply("toolbox.diary.saved")
        return
    entries = diary.recent_entries(ctx.session, ctx.sender)
    if not entries:
        ctx.reply("toolbox.diary.empty")
        return
    zone = zone_of(ctx)
    body = Markdown("\n\n".join(f"**{render.local_time(ctx.t, e.created_at, zone)}**\n{render.plain(e.text)}"
                                 for e in entries))
    ctx.reply("toolbox.diary.list", entries=body)
