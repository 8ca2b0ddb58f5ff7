"""The toolbox's pictures as messages: rendered in a worker thread and uploaded outside the
database lock (``Context.off_lock``), sent encrypted with an alt text that says what the picture
shows (for screen readers and clients without images)."""

from __future__ import annotations

import asyncio
from statistics import mean
from typing import Callable, Sequence
from zoneinfo import ZoneInfo

from bot.context import Context, Finish
from bot.port import MatrixPort
from toolbox import charts, diary, render
from toolbox.models import MoodEntry, NetworkContact
from toolbox.network import CIRCLES
from toolbox.overview import Overview


async def _send_png(ctx: Context, render_png: Callable[[], charts.Png], filename: str, alt_text: str) -> None:
    """Everything the picture needs is read before this (``render_png`` holds plain values, no
    rows): the rendering and the upload happen after the event's transaction, unlocked."""
    port: MatrixPort = ctx.port

    async def work() -> Finish:
        png = await asyncio.to_thread(render_png)
        uploaded = await port.upload(png.data, "image/png", filename)

        def finish(done: Context) -> None:
            done.send_file(done.room_id, uploaded, filename=filename, mimetype="image/png", size=len(png.data),
                           alt_text=alt_text, width=png.width, height=png.height)

        return finish

    await ctx.off_lock(work)


async def send_mood_chart(ctx: Context, entries: Sequence[MoodEntry], zone: ZoneInfo) -> None:
    points = [(m.created_at, m.score) for m in entries]
    title = ctx.t("toolbox.mood.chart_title", days=diary.CHART_DAYS)
    axis = ctx.t("toolbox.mood.chart_axis")
    scores = [m.score for m in entries]
    alt = ctx.t("toolbox.mood.alt", count=len(scores), days=diary.CHART_DAYS, low=min(scores), high=max(scores),
                average=f"{mean(scores):.1f}", latest=scores[-1],
                when=render.local_time(ctx.t, entries[-1].created_at, zone))
    await _send_png(ctx, lambda: charts.mood_chart(points, zone, title, axis, diary.CHART_DAYS), "mood.png", alt)


async def send_network_map(ctx: Context, rows: Sequence[NetworkContact], *, own: bool) -> None:
    """The map for its owner (``own``) or for a provider it is shared with."""
    centre = ctx.t("toolbox.network.you" if own else "toolbox.network.participant")
    labels = {c: ctx.t(f"toolbox.circle.{c}") for c in CIRCLES}
    people = [(c.name, c.circle) for c in rows]
    by_circle = [f"{labels[circle]}: " + ", ".join(name for name, c in people if c == circle)
                 for circle in CIRCLES if any(c == circle for _, c in people)]
    alt = ctx.t("toolbox.network.alt" if own else "toolbox.network.alt_shared", circles="; ".join(by_circle))
    await _send_png(ctx, lambda: charts.network_map(people, centre, labels), "network.png", alt)


async def send_overview(ctx: Context, ov: Overview, zone: ZoneInfo, *, own: bool) -> None:
    """The overview picture for its owner (``own``) or for a provider it is shared with. The alt
    text says what the picture shows, not the figures (the message with it has them)."""
    labels = render.overview_labels(ctx.t, ov)
    alt = ctx.t("toolbox.overview.alt" if own else "toolbox.overview.alt_shared")
    await _send_png(ctx, lambda: charts.overview_chart(ov, zone, labels), "overview.png", alt)
