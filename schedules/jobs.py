"""The running scheduler. The tables say what is due; APScheduler only says *when to look*.

At start (and every ``PLAN_EVERY``) the planner gives recurring cafés their next meeting,
delivers whatever is due (late, after downtime), and adds one job per reminder falling due
within ``HORIZON`` under a deterministic id (``due:<key>``, replace_existing), so a reminder
never has two jobs. A job runs a sweep, which sends what the ledger has not seen yet. Before
each sweep, the pictures of the reminders it will send (the monthly recovery overview) are
rendered in a worker thread and uploaded with no transaction open; the sweep then queues each
picture with its text, under the reminder's ledger key.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import traceback
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Callable, TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot import metrics
from bot.contracts import DigestSource, Picture, ReminderSource
from bot.db import utcnow
from bot.runtime import Slot
from schedules.announcements import announce, seed_reactions
from schedules.cafes import materialise_series
from schedules.delivery import Pictures, ReadyPicture, pictures_wanted, sweep_and_look_ahead
from schedules.reminders import Due

if TYPE_CHECKING:
    from bot.feature import Stop
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

PLAN_EVERY = timedelta(seconds=20)
HORIZON = timedelta(minutes=10)
SOON = timedelta(seconds=1)
# A sweep that sent something looks again this much later, when the homeserver has most likely given
# the messages their event ids, to put reactions under those that have them (a check-in's 1–10 row).
AFTER_SEND = timedelta(seconds=3)
T = TypeVar("T")


def _log_failure(what: str, exc: BaseException) -> None:
    # The traceback's frames only: an exception message could carry personal text.
    log.error("%s failed with %s\n%s", what, type(exc).__name__, "".join(traceback.format_tb(exc.__traceback__)))


class Scheduler:
    def __init__(self, runtime: "Runtime") -> None:
        self.runtime = runtime
        self.online_since = utcnow()
        # Planning and sweeps run in worker threads; one at a time keeps them from racing for the
        # same ledger keys (the unique key would still stop a second send, at the cost of a retry).
        self._one_at_a_time = threading.Lock()
        self.aps = AsyncIOScheduler(timezone=timezone.utc,
                                    job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1})

    @property
    def sources(self) -> list[ReminderSource]:
        return [src for f in self.runtime.features for src in f.reminder_sources]

    @property
    def digest_sources(self) -> list[DigestSource]:
        return [src for f in self.runtime.features for src in f.digest_sources]

    def start(self) -> None:
        self.aps.start()
        self.aps.add_job(self.plan, IntervalTrigger(seconds=PLAN_EVERY.total_seconds()), id="schedules:plan",
                         replace_existing=True, next_run_time=utcnow())

    def stop(self) -> None:
        if self.aps.running:
            self.aps.shutdown(wait=False)

    def plan_soon(self) -> None:
        """Look again in a moment (after a command changed what is due and has committed)."""
        if self.aps.running:
            self.aps.add_job(self.plan, DateTrigger(utcnow() + SOON), id="schedules:plan-soon",
                             replace_existing=True)

    async def plan(self) -> None:
        try:
            now = utcnow()
            pictures = await self._pictures(now)
            # Database work runs in a thread: a handler may hold SQLite's write lock across an
            # await, and waiting for it on the event loop would stall that very handler.
            woke, upcoming = await asyncio.to_thread(self._serially, lambda at: self._plan(at, pictures), now)
        except asyncio.CancelledError:
            return  # the bot is stopping; the tables still say what is due
        except Exception as exc:  # noqa: BLE001 - the planner must keep running
            _log_failure("schedule planning", exc)
            return
        if woke:
            self.runtime.wake_outbox()
        # One sweep per moment, however many reminders fall due then (a café's 500 yes-people).
        for due_at in sorted({due.due_at for due in upcoming}):
            self.aps.add_job(self.run_sweep, DateTrigger(due_at), id=f"due:{due_at.isoformat()}",
                             replace_existing=True)

    async def run_sweep(self) -> None:
        try:
            now = utcnow()
            pictures = await self._pictures(now)
            woke = await asyncio.to_thread(self._serially, lambda at: self._sweep(at, pictures), now)
        except asyncio.CancelledError:
            return  # the bot is stopping; the ledger still says what was sent
        except Exception as exc:  # noqa: BLE001
            _log_failure("reminder sweep", exc)
            return
        if woke:
            self.runtime.wake_outbox()
            if self.aps.running:
                self.aps.add_job(self.run_sweep, DateTrigger(utcnow() + AFTER_SEND), id="schedules:after-send",
                                 replace_existing=True)

    def _serially(self, work: Callable[[datetime], T], now: datetime | None = None) -> T:
        with self._one_at_a_time:
            return work(now or utcnow())

    async def _pictures(self, now: datetime) -> Pictures:
        """The pictures of the reminders the sweep at ``now`` will send, rendered in a worker thread
        and uploaded with no transaction open. One whose upload fails is left out: its reminder
        waits for the next sweep."""
        wanted = await asyncio.to_thread(self._serially, self._pictures_wanted, now)
        ready: dict[str, ReadyPicture | None] = {}
        for key, render in wanted:
            if render is None:
                ready[key] = None
                continue
            try:
                picture = await asyncio.to_thread(render)
            except Exception as exc:  # noqa: BLE001 - the text still goes, without its picture
                _log_failure(f"the picture of reminder {key}", exc)
                ready[key] = None
                continue
            try:
                uploaded = await self.runtime.port.upload(picture.data, "image/png", picture.filename)
            except Exception as exc:  # noqa: BLE001
                _log_failure(f"uploading the picture of reminder {key}", exc)
                continue
            ready[key] = ReadyPicture.of(picture, uploaded)
        return ready

    def _pictures_wanted(self, now: datetime) -> list[tuple[str, Callable[[], Picture] | None]]:
        with self.runtime.session() as session:
            return pictures_wanted(session, self.runtime.settings, self.sources, now, online_since=self.online_since,
                                   speaker=self.runtime.speaker, digest_sources=self.digest_sources)

    def _plan(self, now: datetime, pictures: Pictures | None = None) -> tuple[bool, list[Due]]:
        """Materialise and announce series meetings, seed the RSVP reactions under announcements,
        deliver what is due, and list what falls due within the horizon; returns (something was
        queued, upcoming)."""
        with self.runtime.session() as session:
            created = materialise_series(session, self.runtime.settings, now)
            for cafe in created:
                announce(session, self.runtime.settings, cafe, self.runtime.speaker.say())
            seeded = seed_reactions(session, now)
        # What falls due within the horizon comes from the sweep's own look at the sources. It only
        # says when to sweep next (each sweep looks again), and a change committed after this look
        # asks for a plan of its own (``plan_soon``).
        sent, upcoming = self._sweep_and_look_ahead(now, now + HORIZON, pictures)
        return bool(created) or seeded or sent, upcoming

    def _sweep(self, now: datetime, pictures: Pictures | None = None) -> bool:
        return self._sweep_and_look_ahead(now, now, pictures)[0]

    def _sweep_and_look_ahead(self, now: datetime, until: datetime,
                              pictures: Pictures | None = None) -> tuple[bool, list[Due]]:
        with self.runtime.session() as session:
            done, coming = sweep_and_look_ahead(
                session, self.runtime.settings, self.sources, now, until, online_since=self.online_since,
                speaker=self.runtime.speaker, digest_sources=self.digest_sources, pictures=pictures)
        for _due, status in done:  # counted once committed
            metrics.REMINDERS.labels(outcome=status.value).inc()
        return bool(done), coming


# Where each running bot keeps its scheduler, so a command can ask it to look again after a change.
SCHEDULER: Slot[Scheduler] = Slot("schedules.scheduler")


async def start_for(runtime: "Runtime") -> "Stop":
    scheduler = Scheduler(runtime)
    scheduler.start()
    runtime.slots.put(SCHEDULER, scheduler)

    async def stop() -> None:
        runtime.slots.clear(SCHEDULER)
        scheduler.stop()

    return stop


def plan_soon(runtime: "Runtime | None") -> None:
    scheduler = runtime.slots.get(SCHEDULER) if runtime is not None else None
    if scheduler is not None:
        scheduler.plan_soon()
