"""Time: cafés (RSVP, buddies, rides), reminders, the consultant digest and research figures."""

from __future__ import annotations

from pathlib import Path

from bot.contracts import PERSONAL_DATA, REMINDER_DELIVERY
from bot.feature import Feature

feature = Feature(
    name="schedules",
    locales=Path(__file__).parent / "locales",
    migrations=Path(__file__).parent / "migrations",
    # Every feature's reminder sources are swept and sent here; none is required (cafés,
    # confidentiality reminders and the digest are this package's own).
    provides=(REMINDER_DELIVERY,),
    requires=(PERSONAL_DATA,),  # café answers and companion requests must be exportable and erasable
)

from schedules import commands as _commands  # noqa: E402,F401  (registers the commands and observers)
from schedules import jobs, models as _models  # noqa: E402,F401  (tables on the shared metadata)
from schedules.digest import cafe_section  # noqa: E402
from schedules.personal_data import erase_person, export_person  # noqa: E402
from schedules.stats import cafe_stats  # noqa: E402

feature.started(jobs.start_for)
feature.exporters.append(export_person)
feature.erasers.append(erase_person)
feature.digest_sources.append(cafe_section)
feature.stats_sources.append(cafe_stats)
