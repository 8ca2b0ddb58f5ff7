"""Time: cafés (RSVP, buddies, rides), reminders, the consultant digest and research figures."""

from __future__ import annotations

from pathlib import Path

from bot.feature import Feature

feature = Feature(
    name="schedules",
    locales=Path(__file__).parent / "locales",
    migrations=Path(__file__).parent / "migrations",
)

from schedules import commands as _commands  # noqa: E402,F401  (registers the commands and observers)
from schedules import jobs, models as _models  # noqa: E402,F401  (tables on the shared metadata)
from schedules.personal_data import erase_person, export_person  # noqa: E402

feature.started(jobs.start_for)
feature.exporters.append(export_person)
feature.erasers.append(erase_person)
