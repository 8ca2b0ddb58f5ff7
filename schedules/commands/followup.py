"""After the café: ``!cafe followup on|off``, and the answers to "How was it?" — a reaction
under the question or a reply to it, in the person's own toolbox room, by that person only."""

from __future__ import annotations

from bot.context import Context
from bot.db import utcnow
from bot.models import RoomKind
from bot.router import choice
from schedules import followup
from schedules.announcements import followup_cafe_for
from schedules.commands.common import PARTICIPANTS, PRIVATE, commands
from schedules.feature import feature

ON_OFF = {"på": "on", "av": "off"}


@commands.command("cafe followup", choice("switch", ("on", "off"), aliases=ON_OFF), roles=PARTICIPANTS,
                  rooms=PRIVATE, help="schedules.help.cafe_followup")
async def cafe_followup(ctx: Context, switch: str) -> None:
    followup.set_followup(ctx.session, ctx.sender, switch == "on", utcnow())
    ctx.reply(f"schedules.followup.{switch}")


@feature.observe("m.reaction")
async def followup_by_reaction(ctx: Context) -> None:
    relation = ctx.event.relates_to
    if relation.get("rel_type") != "m.annotation" or ctx.room_kind is not RoomKind.TOOLBOX:
        return
    answer = followup.answer_for_reaction(str(relation.get("key", "")))
    target = relation.get("event_id")
    if answer is None or not isinstance(target, str):
        return
    cafe = followup_cafe_for(ctx.session, target, ctx.room_id, ctx.sender)
    if cafe is None:
        return
    followup.record_reaction(ctx.session, cafe.id, ctx.sender, answer, utcnow())
    ctx.reply("schedules.followup.thanks")


@feature.observe("m.room.message")
async def followup_by_reply(ctx: Context) -> None:
    target = ctx.event.reply_to
    if target is None or ctx.room_kind is not RoomKind.TOOLBOX:
        return
    text = ctx.event.body.strip()
    if not text or text.startswith(ctx.prefix):
        return  # a command given as a reply is just a command
    cafe = followup_cafe_for(ctx.session, target, ctx.room_id, ctx.sender)
    if cafe is None:
        return
    followup.record_note(ctx.session, cafe.id, ctx.sender, text, utcnow())
    ctx.reply("schedules.followup.thanks_note")
