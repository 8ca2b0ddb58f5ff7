"""!alert: in a private room the crisis watch tells no one by itself; the person may ask a peer
consultant to reach out. The consultant room learns who asked, never what they wrote."""

from __future__ import annotations

import logging

from bot.context import Context
from bot.models import Role
from bot.notices import Notices
from bot.router import PRIVATE_ROOMS
from rooms.directchat import answerable_pseudonym, remember
from rooms.feature import feature

log = logging.getLogger(__name__)
commands = feature.commands


@commands.command("alert", rooms=PRIVATE_ROOMS, roles={Role.PARTICIPANT, Role.FORMER, Role.GUEST},
                  help="rooms.help.alert", safety=True)
async def alert(ctx: Context) -> None:
    # The consultant answers with ``!answer``, which reaches a direct chat only once it is known.
    remember(ctx.session, ctx.sender, ctx.room_id, ctx.room_kind)
    pseudonym = answerable_pseudonym(ctx.session, ctx.sender)
    notify = Notices.from_context(ctx)
    if pseudonym is not None:
        # The notice names the pseudonym only, with the command to copy: no Matrix id (it may be a
        # real name) goes where every consultant reads.
        notify.to_consultants("rooms.crisis.alert_asked", alert=True, pseudonym=pseudonym)
    else:
        # Not enrolled yet: no pseudonym, and ``!answer`` cannot reach them; the Matrix id is the
        # only way to reach out, and they asked for it.
        notify.to_consultants("rooms.crisis.alert_asked_unenrolled", alert=True, user=ctx.sender)
    log.info("a consultant was asked to reach out (event %s)", ctx.event.event_id)
    ctx.reply("rooms.crisis.alert_sent")
