"""Answering a café: ``!rsvp`` and the reactions under an announcement."""

from __future__ import annotations

from bot.context import Context
from bot.db import utcnow
from bot.models import RoomKind
from bot.router import STAFF, choice, integer
from schedules import polls, rsvp
from schedules.commands.common import MEMBERS, cafe_when, commands, mine
from schedules.feature import feature
from schedules.jobs import plan_soon


@commands.command("rsvp", choice("answer", rsvp.ANSWERS, aliases=rsvp.NORWEGIAN), integer("n", min=1, optional=True),
                  roles=MEMBERS,
                  rooms={RoomKind.CAFE, RoomKind.TOOLBOX}, help="schedules.help.rsvp")
async def rsvp_command(ctx: Context, answer: str, n: int | None) -> None:
    cafe = mine(ctx, n)
    rsvp.set_answer(ctx.session, cafe, ctx.sender, answer, utcnow())
    ctx.reply(f"schedules.rsvp.{answer}", when=cafe_when(ctx, cafe), place=cafe.place)
    plan_soon(ctx.services.runtime)


async def rsvp_by_poll(ctx: Context) -> None:
    """An answer to the announcement's poll, in either the unstable or the stable form."""
    if ctx.role not in MEMBERS:
        return
    found = polls.response_of(ctx.event.type, ctx.event.content)
    if found is None:
        return
    start, answer = found
    poll = polls.cafe_for_poll(ctx.session, start)
    now = utcnow()
    if poll is None:
        return
    cafe, room_id = poll
    if room_id != ctx.room_id or cafe.cancelled_at is not None or cafe.starts_at <= now:
        return
    rsvp.set_answer(ctx.session, cafe, ctx.sender, answer, now)
    plan_soon(ctx.services.runtime)


for _type in polls.RESPONSE_TYPES:
    feature.observe(_type)(rsvp_by_poll)


@feature.observe("m.reaction")
async def rsvp_by_reaction(ctx: Context) -> None:
    relation = ctx.event.relates_to
    if relation.get("rel_type") != "m.annotation" or ctx.role not in MEMBERS:
        return
    answer = rsvp.answer_for_reaction(str(relation.get("key", "")))
    target = relation.get("event_id")
    if answer is None or not isinstance(target, str):
        return
    cafe = rsvp.cafe_for_announcement(ctx.session, target, room_id=ctx.room_id)
    now = utcnow()
    if cafe is None or cafe.cancelled_at is not None or cafe.starts_at <= now:
        return
    rsvp.react(ctx.session, cafe, ctx.sender, ctx.event.event_id, answer, now)
    plan_soon(ctx.services.runtime)


@feature.observe("m.room.redaction")
async def rsvp_reaction_removed(ctx: Context) -> None:
    """A removed RSVP reaction: only a redaction in the café's room, in clear, by the person who
    reacted (or staff). The homeserver keeps, but does not apply, anyone else's redaction."""
    redacts = ctx.event.redacts
    if not redacts or ctx.event.encrypted:
        return
    reaction = rsvp.reaction_of(ctx.session, redacts)
    if reaction is None or (reaction.user_id != ctx.sender and ctx.role not in STAFF):
        return
    if rsvp.announcement_room(ctx.session, reaction.cafe_id) != ctx.room_id:
        return
    if rsvp.unreact(ctx.session, redacts, utcnow()) is not None:
        plan_soon(ctx.services.runtime)
