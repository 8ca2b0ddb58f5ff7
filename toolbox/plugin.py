"""The private recovery toolbox feature: commands, reminders, its personal data (exporter and
eraser), and the crisis-plan summary the crisis response adds."""

from __future__ import annotations

from toolbox import models  # noqa: F401  (tables on the shared metadata)

# Importing a command module declares its commands on the feature: ``!help`` lists them in this order.
# isort: off
from toolbox.commands import goals, activities, mood, network, crisis, meds  # noqa: F401
from toolbox.commands import overview  # noqa: F401
from toolbox.commands import guide, sharing  # noqa: F401
from toolbox.commands import checkin  # noqa: F401
# isort: on
from toolbox.crisis_plan import crisis_reply_extra
from toolbox.feature import feature
from toolbox.personal_data import erase_toolbox, toolbox_export
from toolbox.reminders import due_reminders

feature.reminder_sources.append(due_reminders)
feature.exporters.append(toolbox_export)
feature.erasers.append(erase_toolbox)
feature.crisis_extras.append(crisis_reply_extra)

__all__ = ["feature"]
