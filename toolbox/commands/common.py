"""What every toolbox command module shares: the declaration helper, where the commands run, the
person's zone and how a time phrase is refused."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from bot.context import Context
from bot.models import Role, RoomKind
from bot.timephrase import WhenKeys
from bot.zones import person_zone
from toolbox.feature import feature
from toolbox.limits import TEXT_MAX

command = feature.commands.command
# Room for "AREA:" or a WHEN phrase in front of the text; the domain checks the text's own limit.
PREFIXED_MAX = TEXT_MAX + 40

# How the toolbox refuses a time phrase.
WHEN_KEYS = WhenKeys(unknown="toolbox.when.unknown", need_time="toolbox.when.need_time", past="toolbox.when.past",
                     bad_date="toolbox.when.unknown", need_date="toolbox.when.need_date")

# Every personal command: only the participant (also after they left: the toolbox stays theirs),
# only in their own toolbox room.
PRIVATE: dict[str, Any] = {"rooms": {RoomKind.TOOLBOX}, "roles": {Role.PARTICIPANT, Role.FORMER}}


def zone_of(ctx: Context) -> ZoneInfo:
    return person_zone(ctx.session, ctx.settings, ctx.sender)
