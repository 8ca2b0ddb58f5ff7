"""In process: the CPU one planner run costs at a national population (issue 13).

A database is filled with ``--people`` participants (``bench.dispatch.seed_population``: toolbox
rooms, goals, moods, activities, ledger, café RSVPs…) and the rows the reminder sources read: each
person 1–2 medicines with reminders at 1–3 local times, half a daily check-in, a quarter a crisis
plan review date, a fifth the monthly overview, a tenth an activity in the last hours. The scheduler
then runs once as if the bot had been up (the sweep mark 20 s back: the 6-hour sweep window's
reminders are sent and noted in the ledger), and from there the measured runs follow 20 s apart,
as the bot's do. Measured (CPU time of this process, ``time.process_time``, ``--repeat`` times):

* ``due_reminders`` — the toolbox's reminder source over the sweep window [now − grace − 1 min,
  now] and over the planner's horizon [now, now + 10 min];
* ``planner run`` — what ``Scheduler.plan`` does in its worker threads: ``_pictures_wanted`` then
  ``_plan`` (series, reactions, the sweep, what falls due within the horizon).

    .venv/bin/python -m bench.planner [--people 2500] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

from bench.common import print_table, quiet_logs, write_result
from bench.dispatch import pop_user, seed_population
from bot.context import Services
from bot.db import Database, FieldCipher, install_cipher, utcnow
from bot.features import load_features
from bot.migrate import upgrade
from tests.support.core import FakePort, FakeRuntime, catalogue_for, router_for, test_settings

CLOCKS = [f"{h:02d}:{m:02d}" for h in range(6, 23) for m in (0, 15, 30, 45)]


def seed_reminders(db: Database, n: int, now: Any) -> dict[str, int]:
    from bot.models import UserPref
    from toolbox.models import Activity, CheckinSetting, CrisisPlanMeta, Medication, OverviewMonthly

    rng = random.Random(13)
    long_ago = now - timedelta(days=30)
    counts = {"medicines": 0, "medicine_times": 0, "checkins": 0, "review_dates": 0, "monthly_overviews": 0}
    for start in range(0, n, 100):
        with db.session() as s:
            for i in range(start, min(n, start + 100)):
                user = pop_user(i)
                if i % 7 == 0:
                    pref = s.get(UserPref, user)
                    if pref is not None:
                        pref.timezone = "Europe/London"
                for m in range(rng.randint(1, 2)):
                    clocks = sorted(rng.sample(CLOCKS, rng.randint(1, 3)))
                    s.add(Medication(user_id=user, name=f"Medicine {m}", dose=f"{rng.choice((5, 10, 50))} mg",
                                     times=",".join(clocks), remind=True, zone="Europe/Oslo", created_at=long_ago))
                    counts["medicines"] += 1
                    counts["medicine_times"] += len(clocks)
                if i % 2 == 0:
                    s.add(CheckinSetting(user_id=user, clock=rng.choice(CLOCKS), zone="Europe/Oslo", since=long_ago))
                    counts["checkins"] += 1
                if i % 4 == 0:
                    s.add(CrisisPlanMeta(user_id=user, review_on=(now + timedelta(days=rng.randint(-20, 60))).date(),
                                         reviewed_on=(now - timedelta(days=30)).date(), updated_at=long_ago))
                    counts["review_dates"] += 1
                if i % 5 == 0:
                    s.add(OverviewMonthly(user_id=user, zone="Europe/Oslo", since=long_ago))
                    counts["monthly_overviews"] += 1
                if i % 10 == 0:
                    s.add(Activity(user_id=user, text="a walk in the park",
                                   due_at=now - timedelta(minutes=rng.randint(1, 360)), importance=3, enjoyment=4))
    return counts


def cpu(work: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.process_time()
    out = work()
    return time.process_time() - t0, out


def run(people: int, repeat: int) -> dict[str, Any]:
    from schedules.delivery import SWEEP_MARK
    from schedules.jobs import HORIZON, PLAN_EVERY, Scheduler
    from schedules.models import SchedulerMark
    from toolbox.reminders import due_reminders

    install_cipher(FieldCipher(os.urandom(32)))
    features = load_features()
    settings = test_settings()
    services = Services(settings=settings, catalogue=catalogue_for(features), port=FakePort(),
                        router=router_for(features, settings.bot.command_prefix), features=features)
    now = utcnow()
    results: dict[str, Any] = {"people": people, "repeat": repeat}
    with tempfile.TemporaryDirectory(prefix="reconnect-planner-") as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(db.engine, features)
        t0 = time.monotonic()
        seed_population(db, people)
        results["rows"] = seed_reminders(db, people, now)
        results["seed_s"] = round(time.monotonic() - t0, 1)
        with db.session() as s:
            s.add(SchedulerMark(name=SWEEP_MARK, at=now - PLAN_EVERY))
        runtime = FakeRuntime(db=db, port=FakePort(), settings=settings, services=services)
        scheduler = Scheduler(runtime)  # type: ignore[arg-type]
        scheduler.online_since = now - timedelta(days=1)
        grace = timedelta(hours=settings.schedules.grace_period_hours)

        # The run that finds the bot's sweep 20 s back: the window's reminders are sent and noted.
        first, (_, upcoming) = cpu(lambda: (scheduler._pictures_wanted(now), scheduler._plan(now, {})))
        results["first_run_cpu_s"] = round(first, 3)

        sweep_s, horizon_s, plan_s = [], [], []
        found: dict[str, int] = {}
        for k in range(1, repeat + 1):
            at = now + k * PLAN_EVERY
            with db.session() as s:
                t, listed = cpu(lambda: due_reminders(s, at - grace - timedelta(minutes=1), at))
                sweep_s.append(t)
                found["sweep_window"] = len(listed)
                t, listed = cpu(lambda: due_reminders(s, at, at + HORIZON))
                horizon_s.append(t)
                found["horizon"] = len(listed)
            t, _ = cpu(lambda: (scheduler._pictures_wanted(at), scheduler._plan(at, {})))
            plan_s.append(t)
        results["due_in"] = found
        results["due_reminders_sweep_window_cpu_s"] = [round(x, 3) for x in sweep_s]
        results["due_reminders_horizon_cpu_s"] = [round(x, 3) for x in horizon_s]
        results["planner_run_cpu_s"] = [round(x, 3) for x in plan_s]
        db.dispose()
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=2500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default="planner", help="the results file's name in bench/results/")
    args = parser.parse_args(argv)
    quiet_logs()
    results = run(args.people, args.repeat)
    rows = [(what, ", ".join(f"{x:.3f}" for x in results[key]), f"{statistics.median(results[key]):.3f}")
            for what, key in (("due_reminders, sweep window", "due_reminders_sweep_window_cpu_s"),
                              ("due_reminders, horizon", "due_reminders_horizon_cpu_s"),
                              ("planner run (pictures_wanted + _plan)", "planner_run_cpu_s"))]
    print_table(f"Planner at {args.people} people ({results['rows']['medicines']} medicines, "
                f"{results['rows']['medicine_times']} medicine times): CPU seconds",
                ("what", "runs", "median"), rows)
    path = write_result(args.out, results)
    print(f"written {path}")
    return results


if __name__ == "__main__":
    main()
