"""Time: cafés (RSVP, buddies, rides), reminders, the consultant digest and research figures."""

from __future__ import annotations

from schedules import jobs, models  # noqa: F401  (tables on the shared metadata)

# Importing a command module declares its commands (and observers) on the feature: ``!help`` lists them in this order.
# isort: off
from schedules.commands import cafes, rsvp, companions, followup, breaks, reports  # noqa: F401
# isort: on
from schedules.digest import cafe_section, followup_section
from schedules.feature import feature
from schedules.personal_data import erase_person, export_person
from schedules.stats import cafe_stats

feature.started(jobs.start_for)
feature.exporters.append(export_person)
feature.erasers.append(erase_person)
feature.digest_sources.append(cafe_section)
feature.digest_sources.append(followup_section)
feature.stats_sources.append(cafe_stats)

__all__ = ["feature"]
