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
        for cafe in upcoming:
            lines.append(cafe_line(ctx.t, cafe.number or 0, cafe, cafe_zone(ctx, cafe), counts=counts.get(cafe.id),
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


ANYWAY = ("anyway", "likevel")


def _insisting(details: str) -> tuple[str, bool]:
    """``… anyway`` (``… likevel``) at the end: schedule even over another café."""
    words = details.rstrip().rsplit(None, 1)
    if len(words) == 2 and words[1].casefold() in ANYWAY:
        return words[0], True
    return details, False


@commands.command("cafe schedule", rest("details", max_len=600), roles=STAFF, help="schedules.help.cafe_schedule",
                  usage="COMMUNITY WHEN PLACE [— topic] [anyway]")
async def cafe_schedule(ctx: Context, details: str) -> None:
    details, insist = _insisting(details)
    community, after = cafes.split_community(ctx.settings, details)
    tz = community_zone(ctx.settings, community)
    now = utcnow()
    rule, remainder = split_rule(after, tz, now, WHEN_KEYS)
    place, topic = cafes.split_place(remainder)
    if cafes.cafe_room_of(ctx.session, community) is None:
        raise Invalid("schedules.cafe.no_room", community=community)
    starts_at = rule.next_after(now, tz) if isinstance(rule, Recurrence) else rule.at
    other = cafes.overlapping(ctx.session, community, starts_at)
    if other is not None and not insist:
        ctx.reply("schedules.cafe.overlaps", community=community, when=cafe_when(ctx, other), place=other.place,
                  again=f"{ctx.prefix}cafe schedule {details.strip()} {ctx.t('schedules.cafe.anyway_word')}")
        return
    cafe = cafes.schedule(ctx.session, community=community, rule=rule, tz=tz, place=place, topic=topic,
                          by=ctx.sender, now=now)
    room_id = announce(ctx.session, ctx.settings, cafe, ctx.speaker.say())
    assert room_id is not None and cafe.announce_txn is not None
    note_sent(ctx, room_id, cafe.announce_txn)
    key = "schedules.cafe.scheduled_series" if isinstance(rule, Recurrence) else "schedules.cafe.scheduled"
    ctx.reply(key, community=community, when=cafe_when(ctx, cafe), place=place)
    plan_soon(ctx.services.runtime)


@commands.command("cafe cancel", integer("n", min=1), choice("scope", ("series",), aliases={"serie": "series"}, optional=True),
                  choice("confirm", ("yes",), aliases={"ja": "yes"}, optional=True),
                  roles=STAFF, help="schedules.help.cafe_cancel")
async def cafe_cancel(ctx: Context, n: int, scope: str | None, confirm: str | None) -> None:
    cafe = mine(ctx, n)
    whole = scope == "series"
    if whole and cafe.series_id is None:
        raise Invalid("schedules.cafe.not_a_series", n=n)
    if confirm is None:
        # Name the café and how many would be told, and ask once more: a cancel cannot be undone.
        coming = rsvp.counts(ctx.session, [cafe.id]).get(cafe.id, {})
        told = coming.get("yes", 0) + coming.get("maybe", 0)
        again = f"{ctx.prefix}cafe cancel {n}" + (f" {ctx.t('core.arg.series')}" if whole else "") + \
            f" {ctx.t('core.arg.yes')}"
        key = ("schedules.cafe.cancel_confirm_nobody" if not told else
               "schedules.cafe.cancel_confirm_series" if whole else "schedules.cafe.cancel_confirm")
        ctx.reply(key, community=cafe.community, when=cafe_when(ctx, cafe), place=cafe.place, told=told, again=again)
        return
    told_people = cafes.cancel(ctx.session, cafe, utcnow(), whole_series=whole)
    room = cafes.cafe_room_of(ctx.session, cafe.community)
    if room is not None:
        lang = ctx.settings.language
        ctx.send_text(room.room_id, ctx.t("schedules.cafe.cancelled_notice", lang=lang,
                                        when=cafe_when(ctx, cafe, lang), place=cafe.place))
    for user_id in told_people:
        tell(ctx, user_id, "schedules.cafe.cancelled_private", cafe)
    ctx.reply("schedules.cafe.cancelled_nobody" if not told_people and not whole else
              "schedules.cafe.cancelled_series" if whole else "schedules.cafe.cancelled",
              when=cafe_when(ctx, cafe), told=len(told_people))
    plan_soon(ctx.services.runtime)


@commands.command("cafe prompt", integer("n", min=1, optional=True), rest("text", max_len=1000), roles=STAFF,
                  help="schedules.help.cafe_prompt", usage="[N] TEXT")
async def cafe_prompt(ctx: Context, n: int | None, text: str) -> None:
    now = utcnow()
    cafe = cafes.pick(cafes.upcoming(ctx.session, now), n or 1)
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
