"""Markdown for the person's lists, shared by their own commands, provider views and the
crisis summary. ``t`` is a :data:`bot.speaker.Say` bound to the reader's language."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.markup import Markdown, literal
from bot.speaker import Say
from toolbox import goals as goals_domain
from toolbox import overview as overview_domain
from toolbox.charts import OverviewLabels
from toolbox.models import Activity, CrisisItem, CrisisPlanMeta, Goal, Medication, MoodEntry, NetworkContact
from toolbox.network import CIRCLES
from toolbox.overview import Overview

SUMMARY_SECTIONS = ("coping", "distractions", "support", "professionals", "reasons")
SUMMARY_LINES = 3


def plain(text: str) -> Markdown:
    """The person's own text inside a list line: one line, shown as typed (no HTML, no Markdown)."""
    return literal(" ".join(text.split()))


def local_time(t: Say, at: datetime, zone: ZoneInfo) -> str:
    try:
        local = at.astimezone(zone)
    except OverflowError:  # a moment in the last hours of year 9999, stored before such dates were refused
        local = at
    return t("toolbox.time.format", weekday=t(f"toolbox.weekday.{local.weekday()}"), day=local.day,
             month=t(f"toolbox.month.{local.month}"), time=local.strftime("%H:%M"))


def when_from_now(t: Say, at: datetime, zone: ZoneInfo, now: datetime) -> str:
    """"today at 18:00", "tomorrow at 08:00" when it is that close, else the full local time."""
    local, today = at.astimezone(zone), now.astimezone(zone).date()
    if local.date() == today:
        return t("toolbox.time.today", time=local.strftime("%H:%M"))
    if local.date() == today + timedelta(days=1):
        return t("toolbox.time.tomorrow", time=local.strftime("%H:%M"))
    return local_time(t, at, zone)


def local_date(t: Say, day: date) -> str:
    return t("toolbox.time.date", weekday=t(f"toolbox.weekday.{day.weekday()}"), day=day.day,
             month=t(f"toolbox.month.{day.month}"), year=day.year)


def goals(t: Say, session: Session, rows: Sequence[Goal]) -> Markdown:
    lines = []
    steps = goals_domain.steps_by_goal(session, rows)
    for n, goal in enumerate(rows, 1):
        mark = "✅ " if goal.done_at else ""
        area = f"*{t(f'toolbox.area.{goal.area}')}:* " if goal.area else ""
        lines.append(f"{n}. {mark}{area}{plain(goal.text)}")
        lines += [f"    - {plain(step.text)}" for step in steps.get(goal.id, ())]
    return Markdown("\n".join(lines))


def activities(t: Say, rows: Sequence[Activity], zone: ZoneInfo) -> Markdown:
    lines = []
    for n, a in enumerate(rows, 1):
        line = f"{n}. {local_time(t, a.due_at, zone)} — {plain(a.text)}"
        if a.done_at:
            line += " ✅"
            if a.importance or a.enjoyment:
                line += " " + t("toolbox.activity.ratings", importance=a.importance or "–",
                                enjoyment=a.enjoyment or "–")
        lines.append(line)
    return Markdown("\n".join(lines))


def moods(t: Say, rows: Sequence[MoodEntry], zone: ZoneInfo) -> Markdown:
    return Markdown("\n".join(
        f"- {local_time(t, m.created_at, zone)}: **{m.score}/10**" + (f" — {plain(m.note)}" if m.note else "")
        for m in rows
    ))


def network(t: Say, rows: Sequence[NetworkContact]) -> Markdown:
    parts: list[str] = []
    n = 0
    for circle in CIRCLES:
        lines = []
        for contact in (c for c in rows if c.circle == circle):
            n += 1
            note = f" — {plain(contact.note)}" if contact.note else ""
            lines.append(f"{n}. {plain(contact.name)}{note}")
        if lines:
            parts.append(f"**{t(f'toolbox.circle.{circle}')}**\n\n" + "\n".join(lines))
    return Markdown("\n\n".join(parts))


def crisis_plan(t: Say, plan: dict[str, list[CrisisItem]], meta: CrisisPlanMeta | None,
                today: date) -> Markdown:
    parts = []
    for section, lines in plan.items():
        body = "\n".join(f"{n}. {plain(i.text)}" for n, i in enumerate(lines, 1)) or f"*{t('toolbox.crisis.empty_section')}*"
        parts.append(f"**{t(f'toolbox.section.{section}')}** (`{t(f'toolbox.section_word.{section}')}`)\n\n{body}")
    if meta is not None and meta.review_on is not None:
        key = "toolbox.crisis.review_due" if meta.review_on <= today else "toolbox.crisis.review_on"
        parts.append(t(key, date=local_date(t, meta.review_on)))
    if meta is not None and meta.reviewed_on is not None:
        parts.append(t("toolbox.crisis.reviewed_on", date=local_date(t, meta.reviewed_on)))
    return Markdown("\n\n".join(parts))


def crisis_summary(t: Say, plan: dict[str, list[CrisisItem]]) -> Markdown:
    """What helps, a few lines each, for a hard moment (the caller gives the heading)."""
    parts = []
    for section in SUMMARY_SECTIONS:
        lines = plan.get(section, [])[:SUMMARY_LINES]
        if lines:
            parts.append(f"**{t(f'toolbox.section.{section}')}:** " + "; ".join(plain(i.text) for i in lines))
    if not parts:  # only sections outside the summary are filled in
        return Markdown(t("toolbox.crisis.summary_see_plan"))
    return Markdown("\n\n".join(parts))


def meds(t: Say, rows: Sequence[Medication]) -> Markdown:
    lines = []
    for n, med in enumerate(rows, 1):
        times = med.times.replace(",", ", ")
        line = f"{n}. **{plain(med.name)}** — {plain(med.dose)}"
        if times:
            line += f" — {times} " + t("toolbox.med.reminders_on" if med.remind else "toolbox.med.reminders_off")
        lines.append(line)
    return Markdown("\n".join(lines))


def _number(t: Say, value: float) -> str:
    """One decimal, with the reader's decimal mark (6.5 / 6,5)."""
    return f"{value:.1f}".replace(".", t("toolbox.overview.decimal"))


def overview_lines(t: Say, ov: Overview) -> Markdown:
    """The overview's figures, one paragraph per part (the person's own words never appear)."""
    lines = []
    if ov.areas:
        areas = "; ".join(t("toolbox.overview.goal_area", area=_area_label(t, a.area), goals=a.goals,
                            reached=a.reached, steps=a.steps) for a in ov.areas)
        lines.append(t("toolbox.overview.goals", areas=areas))
    else:
        lines.append(t("toolbox.overview.goals_none"))
    if ov.importance is None and ov.enjoyment is None:
        lines.append(t("toolbox.overview.activities_unrated", count=ov.activities_done))
    else:
        lines.append(t("toolbox.overview.activities", count=ov.activities_done,
                       importance=_number(t, ov.importance) if ov.importance is not None else "–",
                       enjoyment=_number(t, ov.enjoyment) if ov.enjoyment is not None else "–"))
    if ov.mood_average is not None:
        key = "toolbox.overview.mood_one" if len(ov.moods) == 1 else "toolbox.overview.mood"
        mood = t(key, count=len(ov.moods), average=_number(t, ov.mood_average))
        trend = ov.mood_trend()
        if trend is not None:
            first, last = trend
            key = ("trend_up" if last - first >= overview_domain.TREND_STEP
                   else "trend_down" if first - last >= overview_domain.TREND_STEP else "trend_same")
            mood += " " + t(f"toolbox.overview.{key}", first=_number(t, first), last=_number(t, last))
        lines.append(mood)
    else:
        lines.append(t("toolbox.overview.mood_none"))
    total = sum(n for _, n in ov.network)
    if total:
        circles = ", ".join(f"{t(f'toolbox.circle.{c}')} {n}" for c, n in ov.network if n)
        lines.append(t("toolbox.overview.network", circles=circles, total=total))
    else:
        lines.append(t("toolbox.overview.network_none"))
    key, params = _crisis_review(t, ov, "crisis_reviewed", "crisis_unknown", "crisis_none")
    crisis = t(key, **params)
    if ov.has_crisis_plan and ov.crisis_review_on is not None:
        crisis = t("toolbox.overview.crisis_next", plan=crisis, date=local_date(t, ov.crisis_review_on))
    lines.append(crisis)
    return Markdown("\n\n".join(lines))


def _area_label(t: Say, area: str | None) -> str:
    return t(f"toolbox.area.{area}") if area else t("toolbox.overview.no_area")


def _crisis_review(t: Say, ov: Overview, reviewed: str, unknown: str, none: str) -> tuple[str, dict[str, str]]:
    """The catalogue key (and its date) for the crisis plan's last review."""
    if not ov.has_crisis_plan:
        return f"toolbox.overview.{none}", {}
    if ov.crisis_reviewed is None:
        return f"toolbox.overview.{unknown}", {}
    return f"toolbox.overview.{reviewed}", {"date": local_date(t, ov.crisis_reviewed)}


def overview_labels(t: Say, ov: Overview) -> OverviewLabels:
    """Every word of the overview picture, in the reader's language."""
    key, params = _crisis_review(t, ov, "chart_reviewed", "chart_unknown", "chart_no_plan")
    return OverviewLabels(
        title=t("toolbox.overview.chart_title"),
        goals_title=t("toolbox.overview.chart_goals"),
        goals=t("toolbox.overview.chart_legend_goals"),
        reached=t("toolbox.overview.chart_legend_reached"),
        steps=t("toolbox.overview.chart_legend_steps"),
        activities_title=t("toolbox.overview.chart_activities", count=ov.activities_done),
        importance=t("toolbox.overview.chart_importance"),
        enjoyment=t("toolbox.overview.chart_enjoyment"),
        mood_title=t("toolbox.overview.chart_mood"),
        mood_axis=t("toolbox.overview.chart_mood_axis"),
        network_title=t("toolbox.overview.chart_network"),
        footer=t(key, **params),
        nothing=t("toolbox.overview.chart_nothing"),
        decimal=t("toolbox.overview.decimal"),
        areas={a.area: _area_label(t, a.area) for a in ov.areas},
        circles={c: t(f"toolbox.circle.{c}") for c in CIRCLES},
    )
