"""The daily check-in: ``!checkin on 20:00`` / ``!checkin off`` / ``!checkin``, and its answers —
a reply to the prompt (a number, words, or both) or a tap on its 1–10 reaction row."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from bot.context import Context
from bot.db import utcnow
from bot.errors import DomainError, Invalid
from bot.models import RoomKind
from bot.recurrence import local_to_utc
from bot.router import choice, rest
from bot.zones import preferred_zone, zone_name
from toolbox import checkin, render
from toolbox.commands.common import PRIVATE, command
from toolbox.feature import feature


@command("checkin", choice("switch", ("on", "off"), aliases={"på": "on", "av": "off"}, optional=True),
         rest("time", max_len=40, optional=True, placeholder="HH:MM"), help="toolbox.help.checkin", **PRIVATE)
async def checkin_command(ctx: Context, switch: str | None, time: str | None) -> None:
    if switch == "off":
        ctx.reply("toolbox.checkin.off" if checkin.turn_off(ctx.session, ctx.sender) else "toolbox.checkin.was_off")
        return
    if switch == "on" or time:  # "!checkin 20:00" means on, too
        if not time:
            raise Invalid("toolbox.checkin.usage")
        clock = checkin.parse_clock(time)
        now = utcnow()
        row = checkin.turn_on(ctx.session, ctx.sender, clock, zone_name(ctx.session, ctx.settings, ctx.sender), now)
        zone = preferred_zone(ctx.session, ctx.sender, row.zone)
        first = checkin.next_prompt(ctx.session, row, zone, now)
        # Today's time is still ahead but today's mood is already logged: say why it starts tomorrow.
        skipped = first.astimezone(zone).date() != now.astimezone(zone).date() and \
            local_to_utc(now.astimezone(zone).date(), checkin.clock_of(row), zone) > now
        ctx.reply("toolbox.checkin.on_after_mood" if skipped else "toolbox.checkin.on", time=row.clock, zone=zone.key,
                  first=render.when_from_now(ctx.t, first, zone, now))
        return
    current = checkin.setting(ctx.session, ctx.sender)
    if current is None:
        ctx.reply("toolbox.checkin.state_off")
    else:
        ctx.reply("toolbox.checkin.state_on", time=current.clock,
                  zone=preferred_zone(ctx.session, ctx.sender, current.zone).key)


def _prompt_day_of(ctx: Context, event_id: str) -> tuple[date, ZoneInfo] | None:
    """The day of the owner's own check-in prompt ``event_id`` in their toolbox room, else None."""
    if ctx.room_kind != RoomKind.TOOLBOX or ctx.room is None or ctx.room.owner != ctx.sender:
        return None
    row = checkin.setting(ctx.session, ctx.sender)
    zone = preferred_zone(ctx.session, ctx.sender, row.zone if row is not None else zone_name(
        ctx.session, ctx.settings, ctx.sender))
    day = checkin.prompt_day(ctx.session, ctx.sender, event_id, ctx.room_id, zone, utcnow())
    return (day, zone) if day is not None else None


def _acknowledge(ctx: Context, day_zone: tuple[date, ZoneInfo], reply: checkin.Reply) -> None:
    day, zone = day_zone
    now = utcnow()
    try:
        answered = checkin.answer(ctx.session, ctx.sender, day, reply, now)
    except DomainError as err:
        ctx.reply(err.key, **err.params)
        return
    if answered.mood is None:
        ctx.reply("toolbox.checkin.words_kept")
        return
    if reply.score is None:
        ctx.reply("toolbox.checkin.words_added")
        return
    days = checkin.streak(ctx.session, ctx.sender, zone, now.astimezone(zone).date())
    thanks = ctx.t("toolbox.checkin.changed" if answered.changed else "toolbox.checkin.thanks", score=reply.score)
    if answered.changed or days < 2:
        ctx.reply_text(thanks)
    else:
        ctx.reply_text(thanks + " " + ctx.t("toolbox.checkin.streak", days=days))


@feature.observe("m.reaction")
async def checkin_by_reaction(ctx: Context) -> None:
    """A tap on the prompt's 1–10 row, by the person it was for."""
    relation = ctx.event.relates_to
    target = relation.get("event_id")
    if relation.get("rel_type") != "m.annotation" or not isinstance(target, str):
        return
    score = checkin.score_of_reaction(str(relation.get("key", "")))
    if score is None:
        return
    found = _prompt_day_of(ctx, target)
    if found is not None:
        _acknowledge(ctx, found, checkin.Reply(score, None))


@feature.observe("m.room.message")
async def checkin_by_reply(ctx: Context) -> None:
    """A reply to the prompt, by the person it was for: a number, words, or a number and words."""
    target = ctx.event.reply_to
    body = ctx.event.body
    if target is None or body.strip().startswith(ctx.prefix) or ctx.event.content.get("msgtype") != "m.text":
        return
    found = _prompt_day_of(ctx, target)
    if found is None:
        return
    try:
        reply = checkin.read_reply(body)
    except DomainError as err:
        ctx.reply(err.key, **err.params)
        return
    if reply.score is None and reply.note is None:
        return
    _acknowledge(ctx, found, reply)
