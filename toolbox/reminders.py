"""Personal reminders the scheduler sends: planned activities at their time, daily medication
reminders at each of the person's local times, the daily check-in prompt (unless the mood was
already logged that day), the crisis plan's review date, in the morning, and the monthly
recovery overview."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any, Callable, Generic, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, load_only

from bot.contracts import DueReminder, Picture
from bot.people import breaks_of, on_break_then
from bot.recurrence import local_to_utc
from bot.speaker import Say
from bot.zones import DEFAULT_ZONE, preferred_zone, with_own_zone, zone_or
from toolbox import activities, charts, checkin, meds, overview, render
from toolbox.models import CheckinSetting, CrisisPlanMeta, Medication
from toolbox.render import plain

T = TypeVar("T")


def activity_reminders(session: Session, start: datetime, end: datetime) -> list[DueReminder]:
    """The texts are opened only when one is sent, those of all the window's activities at once."""
    due = activities.due_between(session, start, end)
    texts = _Once(lambda s: activities.texts_of(s, [a.id for a in due]))

    def details(s: Session, say: Say, activity_id: int) -> dict[str, Any]:
        return {"text": plain(texts.get(s)[activity_id])}

    return [DueReminder(key=f"toolbox.activity:{a.id}:{a.due_at.isoformat()}", user_id=a.user_id, due_at=a.due_at,
                        message_key="toolbox.reminder.activity", details=partial(details, activity_id=a.id))
            for a in due]


def medication_reminders(session: Session, start: datetime, end: datetime) -> list[DueReminder]:
    """What is due is worked out from the times alone. The names and doses are opened only when a
    reminder is sent, those of all the medicines due in the window at once: a sweep looks back
    hours, and nearly all it lists were sent by earlier sweeps (the planner looks every 20 s)."""
    due: list[tuple[Medication, date, time, datetime]] = []
    for med, zone in meds.with_reminders_and_zones(session):
        day = start.astimezone(zone).date() - timedelta(days=1)
        last = end.astimezone(zone).date()
        while day <= last:
            for clock in meds.times_of(med):
                at = local_to_utc(day, clock, zone)
                # A time that had already passed when the medicine was added is not owed today.
                if start <= at < end and at >= med.created_at:
                    due.append((med, day, clock, at))
            day += timedelta(days=1)
    names = _Once(lambda s: meds.names_and_doses(s, [med.id for med, *_ in due]))

    def details(s: Session, say: Say, med_id: int) -> dict[str, Any]:
        name, dose = names.get(s)[med_id]  # a medicine removed since: not rendered, so not sent
        return {"name": plain(name), "dose": plain(dose)}

    return [DueReminder(key=f"toolbox.med:{med.id}:{day.isoformat()}T{clock.strftime('%H:%M')}",
                        user_id=med.user_id, due_at=at, message_key="toolbox.reminder.med",
                        details=partial(details, med_id=med.id))
            for med, day, clock, at in due]


class _Once(Generic[T]):
    """A value made the first time it is asked for (with the session of that moment), then kept."""

    def __init__(self, make: Callable[[Session], T]) -> None:
        self._make: Callable[[Session], T] | None = make
        self._value: T | None = None

    def get(self, session: Session) -> T:
        if self._make is not None:
            self._value, self._make = self._make(session), None
        return self._value  # type: ignore[return-value]


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


# The crisis-plan review reminder comes in the morning of the review date, local time.
REVIEW_REMINDER_AT = time(9, 0)


def _days(start: datetime, end: datetime, zone: ZoneInfo) -> list[date]:
    """The local days [start, end) touches (and the day before, for a zone change)."""
    day, last = start.astimezone(zone).date() - timedelta(days=1), end.astimezone(zone).date()
    return [day + timedelta(days=n) for n in range((last - day).days + 1)]


def checkin_prompts(session: Session, start: datetime, end: datetime) -> list[DueReminder]:
    """One prompt a day at the chosen time, with the 1–10 reaction row; none on a day the mood
    was already logged, none owed from before the check-in was turned on."""
    # The settings and their zones in one statement; the moods only of those whose prompt falls
    # in the window, in one more: the cost does not grow with everyone who has a check-in.
    prompts: list[tuple[str, date, ZoneInfo, datetime]] = []
    for row, own in session.execute(with_own_zone(select(CheckinSetting), CheckinSetting.user_id)):
        zone = zone_or(own, row.zone)
        clock = checkin.clock_of(row)
        for day in _days(start, end, zone):
            at = local_to_utc(day, clock, zone)
            if start <= at < end and at >= row.since:
                prompts.append((row.user_id, day, zone, at))
    logged = checkin.moods_logged(session, [(user_id, day, zone) for user_id, day, zone, _ in prompts])
    return [DueReminder(key=checkin.prompt_key(user_id, day), user_id=user_id, due_at=at,
                        message_key="toolbox.checkin.prompt", reactions=checkin.KEYCAPS)
            for user_id, day, _, at in prompts if (user_id, day) not in logged]


def crisis_review_reminders(session: Session, start: datetime, end: datetime) -> list[DueReminder]:
    """On the review date, in the morning: one reminder per date (a new date gets its own); none
    when the date was set after that morning had passed."""
    due: list[DueReminder] = []
    # The dates are sealed, so which fall in the window is worked out here; the zones come with the
    # rows (one statement, however many plans). The date of the last review is not needed: not opened.
    q = with_own_zone(select(CrisisPlanMeta).options(load_only(
        CrisisPlanMeta.user_id, CrisisPlanMeta.review_on, CrisisPlanMeta.updated_at)).where(
        CrisisPlanMeta.review_on.is_not(None)), CrisisPlanMeta.user_id)
    for meta, own in session.execute(q):
        if meta.review_on is None:
            continue
        zone = zone_or(own, DEFAULT_ZONE)
        at = local_to_utc(meta.review_on, REVIEW_REMINDER_AT, zone)
        if start <= at < end and at >= meta.updated_at:
            key = f"toolbox.crisis-review:{checkin.person_tag(meta.user_id)}:{meta.review_on.isoformat()}"
            due.append(DueReminder(key=key,
                                   user_id=meta.user_id, due_at=at, message_key="toolbox.reminder.crisis_review"))
    return due


def due_reminders(session: Session, start: datetime, end: datetime) -> list[DueReminder]:
    """The feature's reminder source: everything due in [start, end), except reminders for people
    on a break. The monthly overview stays listed: the ledger notes it paused, so a break that ends
    later that day does not bring that month's overview late."""
    listed = (activity_reminders(session, start, end) + medication_reminders(session, start, end)
              + checkin_prompts(session, start, end) + crisis_review_reminders(session, start, end))
    breaks = breaks_of(session, [r.user_id for r in listed])  # one look, not one per reminder
    found = [r for r in listed if not on_break_then(breaks, r.user_id, r.due_at)]
    return sorted(found + overview_reminders(session, start, end), key=lambda r: r.due_at)
