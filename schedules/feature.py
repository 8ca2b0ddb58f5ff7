"""The ``schedules`` feature object; its command modules declare their commands on it and
``plugin.py`` wires its contributions."""

from __future__ import annotations

from pathlib import Path

from bot.contracts import PEER_STANDING, PERSONAL_DATA, REMINDER_DELIVERY
from bot.feature import Feature

feature = Feature(
    name="schedules",
    locales=Path(__file__).parent / "locales",
    migrations=Path(__file__).parent / "migrations",
    # Every feature's reminder sources are swept and sent here; none is required (cafés,
    # confidentiality reminders and the digest are this package's own).
    provides=(REMINDER_DELIVERY,),
    # Café answers and companion requests must be exportable and erasable; buddy and ride matches
    # must respect bans, mutes and blocks.
    requires=(PERSONAL_DATA, PEER_STANDING),
)
