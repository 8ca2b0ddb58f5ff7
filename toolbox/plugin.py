"""The private recovery toolbox feature: commands, reminders, its personal data (exporter and
eraser), and the crisis-plan summary the crisis response adds."""

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

# Imported after ``feature`` exists: these modules declare their commands on it.
from toolbox import commands, guide_commands, sharing_commands  # noqa: E402,F401
from toolbox.crisis_plan import crisis_reply_extra  # noqa: E402
from toolbox.export import erase_toolbox, toolbox_export  # noqa: E402
from toolbox.reminders import due_reminders  # noqa: E402

feature.reminder_sources.append(due_reminders)
feature.exporters.append(toolbox_export)
feature.erasers.append(erase_toolbox)
feature.crisis_extras.append(crisis_reply_extra)
