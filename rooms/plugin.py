"""The community feature: rooms, enrolment, moderation, privacy guard, crisis response, circles,
provider rooms. Importing the command and observer modules registers them on ``feature``."""

from __future__ import annotations

from rooms import (
    models,  # noqa: F401  (tables on the shared metadata)
    personal_data,
    standing,
)

# Importing a command module declares its commands (and observers) on the feature: ``!help`` lists
# them in this order, and the observers run in it.
# isort: off
from rooms.commands import enrolment, moderation, peers, contact, providers, safety  # noqa: F401
from rooms import observers  # noqa: F401
# isort: on
from rooms.digest import digest_sections, stats_figures
from rooms.feature import feature
from rooms.lifecycle import Housekeeper
from rooms.membership import remove_from_shared_rooms
from rooms.observers import public_crisis_reply

housekeeper = Housekeeper()
feature.started(housekeeper.start)
feature.exporters.append(personal_data.export)
feature.erasers.append(personal_data.erase)
# After every feature's data is erased: out of the space, forum, café and circle rooms.
feature.room_erasers.append(remove_from_shared_rooms)
feature.digest_sources.append(digest_sections)
feature.public_crisis_replies.append(public_crisis_reply)
feature.stats_sources.append(stats_figures)
feature.peer_checks.append(standing.peer_check)

__all__ = ["feature"]
