"""Personal reminders the scheduler sends: planned activities at their time, daily
medication reminders at each of the person's local times, and the monthly recovery overview."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy.orm import Session

from bot.contracts import DueReminder, Picture
from bot.people import on_break
from bot.recurrence import local_to_utc
from bot.speaker import Say
from bot.zones import preferred_zone
from toolbox import activities, charts, meds, overview, render
from toolbox.render import plain


def activity_reminders(session: Session, start: datetime, end: datetime) -> list[DueReminder]:
    return [
        DueReminder(key=f"toolbox.activity:{a.id}:{a.due_at.isoformat()}", user_id=a.user_id, due_at=a.due_at,
                    message_key="toolbox.reminder.activity", params={"text": plain(a.text)})
        for a in activities.due_between(session, start, end)
    ]


def medication_reminders(session: Session, start: datetime, end: datetime) -> list[DueReminder]:
    due: list[DueReminder] = []
    for med in meds.with_reminders(session):
        zone = preferred_zone(session, med.user_id, med.zone)
        day = start.astimezone(zone).date() - timedelta(days=1)
        last = end.astimezone(zone).date()
        while day <= last:
            for clock in meds.times_of(med):
                at = local_to_utc(day, clock, zone)
                # A time that had already passed when the medicine was added is not owed today.
                if start <= at < end and at >= med.created_at:
                    due.append(DueReminder(
                        key=f"toolbox.med:{med.id}:{day.isoformat()}T{clock.strftime('%H:%M')}",
                        user_id=med.user_id, due_at=at, message_key="toolbox.reminder.med",
                        params={"name": plain(med.name), "dose": plain(med.dose)}))
            day += timedelta(days=1)
    return due


def overview_reminders(session: Session, start: datetime, end: datetime) -> list[DueReminder]:
    """The monthly overview of everyone who opted in: its figures and its picture are gathered
    only when it is sent, as the toolbox is then."""
    due: list[DueReminder] = []
    for row, month, at in overview.monthly_due(session, start, end):
        user_id, fallback = row.user_id, row.zone

        def details(s: Session, say: Say, user_id: str = user_id, at: datetime = at) -> dict[str, Any]:
            ov = overview.build(s, user_id, at)
            return {"lines": say("toolbox.overview.empty") if ov.is_empty else render.overview_lines(say, ov)}

        def picture(s: Session, say: Say, user_id: str = user_id, at: datetime = at,
                    fallback: str = fallback) -> Callable[[], Picture] | None:
            ov = overview.build(s, user_id, at)
            if ov.is_empty:
                return None  # the text says what to start with; no empty chart
            zone = preferred_zone(s, user_id, fallback)
            labels, alt = render.overview_labels(say, ov), say("toolbox.overview.alt")

            def draw() -> Picture:
                png = charts.overview_chart(ov, zone, labels)
                return Picture(png.data, png.width, png.height, "overview.png", alt)

            return draw

        due.append(DueReminder(key=overview.monthly_key(user_id, month), user_id=user_id, due_at=at,
                               message_key="toolbox.overview.monthly", details=details, picture=picture))
    return due


def due_reminders(session: Session, start: datetime, end: datetime) -> list[DueReminder]:
    """The feature's reminder source: everything due in [start, end), except reminders for people
    on a break. The monthly overview stays listed: the ledger notes it paused, so a break that ends
    later that day does not bring that month's overview late."""
    found = [r for r in activity_reminders(session, start, end) + medication_reminders(session, start, end)
             if not on_break(session, r.user_id, r.due_at)]
    return sorted(found + overview_reminders(session, start, end), key=lambda r: r.due_at)
