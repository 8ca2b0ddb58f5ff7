"""The ``toolbox`` feature object; its command modules declare their commands on it and
``plugin.py`` wires its contributions."""

from __future__ import annotations

from pathlib import Path

from bot.contracts import PERSONAL_DATA, REMINDER_DELIVERY
from bot.feature import Feature

feature = Feature(
    name="toolbox",
    locales=Path(__file__).parent / "locales",
    migrations=Path(__file__).parent / "migrations",
    # Activities and medications promise reminders; what people write here must be exportable
    # and erasable.
    requires=(REMINDER_DELIVERY, PERSONAL_DATA),
)
