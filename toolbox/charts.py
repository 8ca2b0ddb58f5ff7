"""Pictures rendered on this machine (matplotlib's Agg backend, no network): the mood chart,
the network map and the recovery overview. Each returns PNG bytes with the pixel width and height.

matplotlib is imported by the drawing functions, not with this module: it takes about a second to
import, and the bot's start (its first reply) needs none of it."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Sequence
from zoneinfo import ZoneInfo

from toolbox.network import CIRCLES

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from toolbox.overview import Overview

DPI = 100
NAME_CHARS = 22
# Text drawn as typed: a name such as "$$$$" or "$x^$" is not read as matplotlib mathtext (which
# would fail to render, or show something else than the person wrote).
PLAIN: dict[str, Any] = {"parse_math": False, "usetex": False}
# Soft colours from the centre outwards, one per circle.
RING_COLOURS = ("#f6d6ad", "#f9e4c8", "#dcebd5", "#d5e3f0", "#e6e0f0")


@dataclass(frozen=True)
class Png:
    data: bytes
    width: int
    height: int


def _png(fig: Figure) -> Png:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    width, height = (round(v * DPI) for v in fig.get_size_inches())
    return Png(buf.getvalue(), width, height)


def mood_chart(points: Sequence[tuple[datetime, int]], zone: ZoneInfo, title: str, y_label: str,
               days: int, now: datetime | None = None) -> Png:
    """Scores 1-10 over the last ``days`` days, shown in the person's zone."""
    from matplotlib.dates import DateFormatter, DayLocator
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4))
    ax = fig.add_subplot()
    times = [at.astimezone(zone).replace(tzinfo=None) for at, _ in points]
    scores = [score for _, score in points]
    ax.plot(times, scores, marker="o", color="#3b6ea5", linewidth=2)
    ax.set_ylim(0.5, 10.5)
    ax.set_yticks(range(1, 11))
    ax.set_ylabel(y_label)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    end = (now or datetime.now(timezone.utc)).astimezone(zone).replace(tzinfo=None)
    ax.set_xlim(end - timedelta(days=days), end + timedelta(hours=12))
    ax.xaxis.set_major_locator(DayLocator(interval=max(1, days // 7)))
    ax.xaxis.set_major_formatter(DateFormatter("%d.%m"))
    fig.autofmt_xdate()
    fig.tight_layout()
    return _png(fig)


def network_map(people: Sequence[tuple[str, str]], centre: str, circle_labels: dict[str, str]) -> Png:
    """``people`` are (name, circle); the person is in the middle, each circle a ring further out."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle

    fig = Figure(figsize=(9, 9))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(-6.2, 6.2)
    ax.set_ylim(-6.2, 6.2)
    ax.set_aspect("equal")
    ax.axis("off")
    for ring in range(len(CIRCLES), 0, -1):
        ax.add_patch(Circle((0, 0), ring + 0.5, facecolor=RING_COLOURS[ring - 1], edgecolor="#999999", linewidth=1))
    ax.add_patch(Circle((0, 0), 0.7, facecolor="#3b6ea5", edgecolor="none"))
    ax.text(0, 0, centre, ha="center", va="center", color="white", fontsize=12, fontweight="bold", **PLAIN)
    for ring, circle in enumerate(CIRCLES, 1):
        ax.text(0, ring + 0.3, circle_labels[circle], ha="center", va="center", fontsize=9,
                color="#555555", style="italic", **PLAIN)
        names = [name for name, c in people if c == circle]
        for i, name in enumerate(names):
            # Spread names round the ring, leaving the top free for the circle's label.
            # A small turn per ring keeps names on neighbouring rings from lining up.
            angle = math.pi / 2 + (i + 1) * 2 * math.pi / (len(names) + 1) + ring * 0.4
            short = name if len(name) <= NAME_CHARS else name[:NAME_CHARS - 1] + "…"
            ax.text(ring * math.cos(angle), ring * math.sin(angle), short, ha="center", va="center",
                    fontsize=10, bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "#888888"},
                    **PLAIN)
    return _png(fig)


@dataclass(frozen=True)
class OverviewLabels:
    """Every word the overview picture shows, in the person's language."""

    title: str
    goals_title: str
    goals: str  # legend: goals
    reached: str  # legend: goals reached
    steps: str  # legend: steps
    activities_title: str  # holds the number of activities done
    importance: str
    enjoyment: str
    mood_title: str
    mood_axis: str
    network_title: str
    footer: str  # the crisis plan's last review
    nothing: str  # a panel without data
    decimal: str  # the decimal mark of the reader's language
    areas: dict[str | None, str]
    circles: dict[str, str]


def overview_chart(ov: "Overview", zone: ZoneInfo, labels: OverviewLabels) -> Png:
    """Four panels: goals by life area (goals, reached, steps), the done activities' average
    importance and enjoyment (1-5), the weekly mood over the look back, the network by circle."""
    from matplotlib.dates import DateFormatter
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(11, 8))
    fig.suptitle(labels.title, fontsize=15, fontweight="bold", **PLAIN)
    goals_ax, acts_ax, mood_ax, net_ax = (fig.add_subplot(2, 2, n) for n in (1, 2, 3, 4))

    def empty(ax: Any, title: str) -> None:
        ax.set_title(title, **PLAIN)
        ax.text(0.5, 0.5, labels.nothing, ha="center", va="center", transform=ax.transAxes, color="#777777",
                wrap=True, **PLAIN)
        ax.set_xticks([])
        ax.set_yticks([])

    if ov.areas:
        rows = range(len(ov.areas))
        height = 0.27
        goals_ax.barh([r - height for r in rows], [a.goals for a in ov.areas], height, color="#9dbbd9",
                      label=labels.goals)
        goals_ax.barh(list(rows), [a.reached for a in ov.areas], height, color="#3b6ea5", label=labels.reached)
        goals_ax.barh([r + height for r in rows], [a.steps for a in ov.areas], height, color="#f0b46e",
                      label=labels.steps)
        goals_ax.set_yticks(list(rows), [labels.areas[a.area] for a in ov.areas], **PLAIN)
        goals_ax.invert_yaxis()
        goals_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        goals_ax.legend(fontsize=8, loc="lower right")
        goals_ax.set_title(labels.goals_title, **PLAIN)
    else:
        empty(goals_ax, labels.goals_title)

    if ov.importance is not None or ov.enjoyment is not None:
        values = [ov.importance or 0, ov.enjoyment or 0]
        acts_ax.bar([labels.importance, labels.enjoyment], values, color=["#3b6ea5", "#f0b46e"], width=0.5)
        for x, value in enumerate(values):
            if value:
                acts_ax.text(x, value + 0.1, f"{value:.1f}".replace(".", labels.decimal), ha="center", va="bottom")
        acts_ax.set_ylim(0, 5.5)
        acts_ax.set_yticks(range(0, 6))
        acts_ax.set_title(labels.activities_title, **PLAIN)
    else:
        empty(acts_ax, labels.activities_title)

    weekly = ov.weekly_moods()
    if weekly:
        times = [at.astimezone(zone).replace(tzinfo=None) for at, _ in weekly]
        mood_ax.plot(times, [score for _, score in weekly], marker="o", color="#3b6ea5", linewidth=2)
        mood_ax.set_ylim(0.5, 10.5)
        mood_ax.set_yticks(range(1, 11))
        mood_ax.set_ylabel(labels.mood_axis, **PLAIN)
        end = ov.until.astimezone(zone).replace(tzinfo=None)
        mood_ax.set_xlim(end - timedelta(days=92), end + timedelta(days=1))
        mood_ax.xaxis.set_major_formatter(DateFormatter("%d.%m"))
        mood_ax.grid(True, alpha=0.3)
        mood_ax.set_title(labels.mood_title, **PLAIN)
    else:
        empty(mood_ax, labels.mood_title)

    if any(n for _, n in ov.network):
        net_ax.bar([labels.circles[c] for c, _ in ov.network], [n for _, n in ov.network],
                   color=list(RING_COLOURS), edgecolor="#999999")
        net_ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        net_ax.tick_params(axis="x", labelsize=8)
        net_ax.set_title(labels.network_title, **PLAIN)
    else:
        empty(net_ax, labels.network_title)

    fig.text(0.5, 0.015, labels.footer, ha="center", fontsize=10, color="#444444", **PLAIN)
    fig.tight_layout(rect=(0, 0.04, 1, 0.95))
    return _png(fig)
