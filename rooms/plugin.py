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
from rooms.digest import digest_sections, stats_figures
from rooms.feature import feature
from rooms.lifecycle import Housekeeper
from rooms.membership import remove_from_shared_rooms

housekeeper = Housekeeper()
feature.started(housekeeper.start)
feature.exporters.append(privacy_data.export)
feature.erasers.append(privacy_data.erase)
# After every feature's data is erased: out of the space, forum, café and circle rooms.
feature.room_erasers.append(remove_from_shared_rooms)
feature.digest_sources.append(digest_sections)
feature.stats_sources.append(stats_figures)

__all__ = ["feature"]
