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
from toolbox.models import Activity, CrisisItem, CrisisPlanMeta, Goal, Medication, MoodEntry, NetworkContact
from toolbox.network import CIRCLES

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
