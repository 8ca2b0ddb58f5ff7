"""Cafés: ``!cafe`` (the list), ``!cafe schedule``, ``!cafe cancel``, ``!cafe prompt``, ``!cafe attended``."""

from __future__ import annotations

from datetime import timedelta

from bot.context import Context
from bot.db import utcnow
from bot.errors import Invalid
from bot.recurrence import Recurrence
from bot.router import STAFF, choice, integer, rest
from bot.timephrase import split_rule
from bot.zones import community_zone
from schedules import cafes, rsvp
from schedules.announcements import announce
from schedules.commands.common import MEMBERS, WHEN_KEYS, cafe_when, cafe_zone, commands, mine, note_sent, tell
from schedules.jobs import plan_soon
from schedules.wording import cafe_line, when_text


@commands.command("cafe", roles=MEMBERS, help="schedules.help.cafe", private=True)
async def cafe_list(ctx: Context) -> None:
    now = utcnow()
    upcoming = cafes.upcoming_for(ctx.session, ctx.settings, ctx.sender, ctx.role, now)
    staff = ctx.role in STAFF
    lines: list[str] = []
    if upcoming:
        counts = rsvp.counts(ctx.session, [c.id for c in upcoming]) if staff else {}
        lines.append(ctx.t("schedules.cafe.list_title"))
        for i, cafe in enumerate(upcoming, 1):
            lines.append(cafe_line(ctx.t, i, cafe, cafe_zone(ctx, cafe), counts=counts.get(cafe.id),
                                   answer=None if staff else rsvp.answer_of(ctx.session, cafe, ctx.sender)))
        lines.append(ctx.t("schedules.cafe.list_staff_hint" if staff else "schedules.cafe.list_hint"))
    else:
        lines.append(ctx.t("schedules.cafe.none_upcoming"))
    if staff:
        past = cafes.recent(ctx.session, now)
        if past:
            lines.append(ctx.t("schedules.cafe.recent_title"))
            lines += [cafe_line(ctx.t, i, c, cafe_zone(ctx, c)) + " " + (
                ctx.t("schedules.cafe.attended", count=c.attended) if c.attended is not None else "")
                for i, c in enumerate(past, 1)]
    ctx.reply_text("\n".join(line.rstrip() for line in lines))


@commands.command("cafe schedule", rest("details", max_len=600), roles=STAFF, help="schedules.help.cafe_schedule",
                  usage="COMMUNITY WHEN PLACE [— topic]")
async def cafe_schedule(ctx: Context, details: str) -> None:
    community, after = cafes.split_community(ctx.settings, details)
    tz = community_zone(ctx.settings, community)
    now = utcnow()
    rule, remainder = split_rule(after, tz, now, WHEN_KEYS)
    place, topic = cafes.split_place(remainder)
    if cafes.cafe_room_of(ctx.session, community) is None:
        raise Invalid("schedules.cafe.no_room", community=community)
    cafe = cafes.schedule(ctx.session, community=community, rule=rule, tz=tz, place=place, topic=topic,
                          by=ctx.sender, now=now)
    room_id = announce(ctx.session, ctx.settings, cafe, ctx.speaker.say())
    assert room_id is not None and cafe.announce_txn is not None
    note_sent(ctx, room_id, cafe.announce_txn)
    key = "schedules.cafe.scheduled_series" if isinstance(rule, Recurrence) else "schedules.cafe.scheduled"
    ctx.reply(key, community=community, when=cafe_when(ctx, cafe), place=place)
    plan_soon(ctx.services.runtime)


@commands.command("cafe cancel", integer("n", min=1), choice("scope", ("series",), optional=True),
                  roles=STAFF, help="schedules.help.cafe_cancel")
async def cafe_cancel(ctx: Context, n: int, scope: str | None) -> None:
    cafe = mine(ctx, n)
    whole = scope == "series"
    if whole and cafe.series_id is None:
        raise Invalid("schedules.cafe.not_a_series", n=n)
    told = cafes.cancel(ctx.session, cafe, utcnow(), whole_series=whole)
    room = cafes.cafe_room_of(ctx.session, cafe.community)
    if room is not None:
        lang = ctx.settings.language
        ctx.send_text(room.room_id, ctx.t("schedules.cafe.cancelled_notice", lang=lang,
                                        when=cafe_when(ctx, cafe, lang), place=cafe.place))
    for user_id in told:
        tell(ctx, user_id, "schedules.cafe.cancelled_private", cafe)
    ctx.reply("schedules.cafe.cancelled_series" if whole else "schedules.cafe.cancelled",
              when=cafe_when(ctx, cafe), told=len(told))
    plan_soon(ctx.services.runtime)


@commands.command("cafe prompt", rest("text", max_len=1000), roles=STAFF, help="schedules.help.cafe_prompt")
async def cafe_prompt(ctx: Context, text: str) -> None:
    now = utcnow()
    cafe = cafes.pick(cafes.upcoming(ctx.session, now), 1)
    prompt = cafes.set_prompt(ctx.session, cafe, text, ctx.sender, now)
    at = max(cafe.starts_at - timedelta(days=ctx.settings.schedules.prompt_days_before), prompt.created_at)
    ctx.reply("schedules.cafe.prompt_set", cafe_when=cafe_when(ctx, cafe), community=cafe.community,
              when=when_text(ctx.t, at, cafe_zone(ctx, cafe)))
    plan_soon(ctx.services.runtime)


@commands.command("cafe attended", integer("n", min=1), integer("count", min=0, max=10000), roles=STAFF,
                  help="schedules.help.cafe_attended")
async def cafe_attended(ctx: Context, n: int, count: int) -> None:
    past = cafes.recent(ctx.session, utcnow())
    if not past:
        raise Invalid("schedules.cafe.none_recent")
    if n > len(past):
        raise Invalid("schedules.cafe.no_such_recent", n=n, count=len(past))
    cafe = past[n - 1]
    cafes.mark_attended(cafe, count)
    ctx.reply("schedules.cafe.attended_set", when=cafe_when(ctx, cafe), count=count)
