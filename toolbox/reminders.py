"""Personal reminders the scheduler sends: planned activities at their time and daily
medication reminders at each of the person's local times."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.contracts import DueReminder
from bot.people import on_break
from bot.recurrence import local_to_utc
from bot.zones import preferred_zone
from toolbox import activities, meds
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


def due_reminders(session: Session, start: datetime, end: datetime) -> list[DueReminder]:
    """The feature's reminder source: everything due in [start, end), except for people on a break."""
    found = activity_reminders(session, start, end) + medication_reminders(session, start, end)
    return sorted((r for r in found if not on_break(session, r.user_id, r.due_at)), key=lambda r: r.due_at)
