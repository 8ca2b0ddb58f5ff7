"""Pictures rendered on this machine (matplotlib's Agg backend, no network): the mood chart
and the network map. Each returns PNG bytes with the pixel width and height."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Sequence
from zoneinfo import ZoneInfo

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import DateFormatter, DayLocator
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from toolbox.network import CIRCLES

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
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    width, height = (round(v * DPI) for v in fig.get_size_inches())
    return Png(buf.getvalue(), width, height)


def mood_chart(points: Sequence[tuple[datetime, int]], zone: ZoneInfo, title: str, y_label: str,
               days: int, now: datetime | None = None) -> Png:
    """Scores 1-10 over the last ``days`` days, shown in the person's zone."""
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
