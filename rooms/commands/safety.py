"""!alert: in a private room the crisis watch tells no one by itself; the person may ask a peer
consultant to reach out. The consultant room learns who asked, never what they wrote."""

from __future__ import annotations

import logging

from bot.context import Context
from bot.models import Participant, Role
from bot.notices import Notices
from bot.router import PRIVATE_ROOMS
from rooms.feature import feature

log = logging.getLogger(__name__)
commands = feature.commands


@commands.command("alert", rooms=PRIVATE_ROOMS, roles={Role.PARTICIPANT, Role.FORMER, Role.GUEST},
                  help="rooms.help.alert", safety=True)
async def alert(ctx: Context) -> None:
    p = ctx.session.get(Participant, ctx.sender)
    who = f"{p.pseudonym} ({ctx.sender})" if p is not None and p.pseudonym else ctx.sender
    Notices.from_context(ctx).to_consultants("rooms.crisis.alert_asked", alert=True, who=who)
    log.info("a consultant was asked to reach out (event %s)", ctx.event.event_id)
    ctx.reply("rooms.crisis.alert_sent")
