"""The toolbox's pictures as messages: rendered off the event loop, uploaded encrypted, sent with
an alt text that says what the picture shows (for screen readers and clients without images)."""

from __future__ import annotations

import asyncio
from statistics import mean
from typing import Sequence
from zoneinfo import ZoneInfo

from bot.context import Context
from toolbox import charts, diary, render
from toolbox.models import MoodEntry, NetworkContact
from toolbox.network import CIRCLES


async def _send_png(ctx: Context, png: charts.Png, filename: str, alt_text: str) -> None:
    uploaded = await ctx.port.upload(png.data, "image/png", filename)
    ctx.send_file(ctx.room_id, uploaded, filename=filename, mimetype="image/png", size=len(png.data),
                  alt_text=alt_text, width=png.width, height=png.height)


async def send_mood_chart(ctx: Context, entries: Sequence[MoodEntry], zone: ZoneInfo) -> None:
    points = [(m.created_at, m.score) for m in entries]
    png = await asyncio.to_thread(charts.mood_chart, points, zone,
                                  ctx.t("toolbox.mood.chart_title", days=diary.CHART_DAYS),
                                  ctx.t("toolbox.mood.chart_axis"), diary.CHART_DAYS)
    scores = [m.score for m in entries]
    alt = ctx.t("toolbox.mood.alt", count=len(scores), days=diary.CHART_DAYS, low=min(scores), high=max(scores),
                average=f"{mean(scores):.1f}", latest=scores[-1],
                when=render.local_time(ctx.t, entries[-1].created_at, zone))
    await _send_png(ctx, png, "mood.png", alt)


async def send_network_map(ctx: Context, rows: Sequence[NetworkContact], *, own: bool) -> None:
    """The map for its owner (``own``) or for a provider it is shared with."""
    centre = ctx.t("toolbox.network.you" if own else "toolbox.network.participant")
    labels = {c: ctx.t(f"toolbox.circle.{c}") for c in CIRCLES}
    png = await asyncio.to_thread(charts.network_map, [(c.name, c.circle) for c in rows], centre, labels)
    by_circle = [f"{labels[circle]}: " + ", ".join(c.name for c in rows if c.circle == circle)
                 for circle in CIRCLES if any(c.circle == circle for c in rows)]
    await _send_png(ctx, png, "network.png", ctx.t("toolbox.network.alt" if own else "toolbox.network.alt_shared",
                                                     circles="; ".join(by_circle)))
