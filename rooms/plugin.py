"""The community feature: rooms, enrolment, moderation, privacy guard, crisis response, circles,
provider rooms. Importing the command and observer modules registers them on ``feature``."""

from __future__ import annotations

from rooms import (  # noqa: F401  (modules register commands and observers on import)
    commands_enrolment,
    commands_moderation,
    commands_peers,
    commands_providers,
    models,
    observers,
    privacy_data,
)
from rooms.feature import feature
from rooms.lifecycle import Housekeeper

housekeeper = Housekeeper()
feature.started(housekeeper.start)
feature.exporters.append(privacy_data.export)
feature.erasers.append(privacy_data.erase)

__all__ = ["feature"]
