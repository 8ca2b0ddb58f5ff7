"""Commands: cafés, RSVP, buddies and rides, breaks, the digest and research figures."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.context import Context
from bot.db import utcnow
from bot.errors import Invalid
from bot.models import Role, RoomKind

from bot.people import participant
from bot.port import RoomSpec
from bot.recurrence import Recurrence
from bot.roomdir import register_room
from bot.router import STAFF, choice, integer, rest
from bot.durations import parse_duration
from bot.timephrase import WhenKeys, split_rule
from bot.zones import community_zone, person_zone
from schedules import breaks, cafes, matching, rsvp
from schedules.announcements import announce, tell_privately
from schedules.digest import digest_text
from schedules.jobs import plan_soon
from schedules.models import Cafe
from schedules.plugin import feature
from schedules.stats import stats_text
from schedules.wording import cafe_line, when_text

commands = feature.commands
# How café scheduling refuses a time phrase.
WHEN_KEYS = WhenKeys(unknown="schedules.when.bad", need_time="schedules.when.bad_time", past="schedules.when.past",
                     bad_date="schedules.when.bad_date", need_date="schedules.when.bad")
MEMBERS = frozenset({Role.PARTICIPANT, Role.CONSULTANT, Role.ADMIN})
PARTICIPANTS = frozenset({Role.PARTICIPANT})
PRIVATE = frozenset({RoomKind.TOOLBOX})
STAFF_ROOMS = frozenset({RoomKind.CONSULTANT, RoomKind.DIRECT})
DEFAULT_STATS_MONTHS = 6


def _sent(ctx: Context, room_id: str, txn_id: str) -> None:
    """Note a message the domain queued (shared with jobs) so the bot sends it right after the commit."""
    ctx.sent.append({"room_id": room_id, "type": "m.room.message", "content": {}, "txn_id": txn_id})


def _tell(ctx: Context, user_id: str, key: str, cafe: Cafe, **params: object) -> None:
    """A private note in the person's toolbox room, in their language."""
    lang = ctx.speaker.lang_of(ctx.session, user_id)
    text = ctx.t(key, lang=lang, when=_when(ctx, cafe, lang), place=cafe.place, **params)
    row = tell_privately(ctx.session, user_id, text)
    if row is not None:
        _sent(ctx, row.room_id, row.txn_id)


def _zone(ctx: Context, cafe: Cafe) -> ZoneInfo:
    return community_zone(ctx.settings, cafe.community)


def _when(ctx: Context, cafe: Cafe, lang: str | None = None) -> str:
    return when_text(ctx.speaker.say(lang or ctx.lang), cafe.starts_at, _zone(ctx, cafe))


def _name(ctx: Context, user_id: str) -> str:
    p = participant(ctx.session, user_id)
    return p.pseudonym if p is not None and p.pseudonym else user_id


def _mine(ctx: Context, n: int | None) -> Cafe:
    return cafes.pick(cafes.upcoming_for(ctx.session, ctx.settings, ctx.sender, ctx.role, utcnow()), n)


# --- listing and scheduling -------------------------------------------------------------------


@commands.command("cafe", roles=MEMBERS, help="schedules.help.cafe")
async def cafe_list(ctx: Context) -> None:
    now = utcnow()
    upcoming = cafes.upcoming_for(ctx.session, ctx.settings, ctx.sender, ctx.role, now)
    staff = ctx.role in STAFF
    lines: list[str] = []
    if upcoming:
        counts = rsvp.counts(ctx.session, [c.id for c in upcoming]) if staff else {}
        lines.append(ctx.t("schedules.cafe.list_title"))
        for i, cafe in enumerate(upcoming, 1):
            lines.append(cafe_line(ctx.t, i, cafe, _zone(ctx, cafe), counts=counts.get(cafe.id),
                                   answer=None if staff else rsvp.answer_of(ctx.session, cafe, ctx.sender)))
        lines.append(ctx.t("schedules.cafe.list_staff_hint" if staff else "schedules.cafe.list_hint"))
    else:
        lines.append(ctx.t("schedules.cafe.none_upcoming"))
    if staff:
        past = cafes.recent(ctx.session, now)
        if past:
            lines.append(ctx.t("schedules.cafe.recent_title"))
            lines += [cafe_line(ctx.t, i, c, _zone(ctx, c)) + " " + (
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
    _sent(ctx, room_id, cafe.announce_txn)
    key = "schedules.cafe.scheduled_series" if isinstance(rule, Recurrence) else "schedules.cafe.scheduled"
    ctx.reply(key, community=community, when=_when(ctx, cafe), place=place)
    plan_soon(ctx.services.runtime)


@commands.command("cafe cancel", integer("n", min=1), choice("scope", ("series",), optional=True),
                  roles=STAFF, help="schedules.help.cafe_cancel")
async def cafe_cancel(ctx: Context, n: int, scope: str | None) -> None:
    cafe = _mine(ctx, n)
    whole = scope == "series"
    if whole and cafe.series_id is None:
        raise Invalid("schedules.cafe.not_a_series", n=n)
    told = cafes.cancel(ctx.session, cafe, utcnow(), whole_series=whole)
    room = cafes.cafe_room_of(ctx.session, cafe.community)
    if room is not None:
        lang = ctx.settings.language
        ctx.send_text(room.room_id, ctx.t("schedules.cafe.cancelled_notice", lang=lang,
                                        when=_when(ctx, cafe, lang), place=cafe.place))
    for user_id in told:
        _tell(ctx, user_id, "schedules.cafe.cancelled_private", cafe)
    ctx.reply("schedules.cafe.cancelled_series" if whole else "schedules.cafe.cancelled",
              when=_when(ctx, cafe), told=len(told))
    plan_soon(ctx.services.runtime)


@commands.command("cafe prompt", rest("text", max_len=1000), roles=STAFF, help="schedules.help.cafe_prompt")
async def cafe_prompt(ctx: Context, text: str) -> None:
    now = utcnow()
    cafe = cafes.pick(cafes.upcoming(ctx.session, now), 1)
    prompt = cafes.set_prompt(ctx.session, cafe, text, ctx.sender, now)
    at = max(cafe.starts_at - timedelta(days=ctx.settings.schedules.prompt_days_before), prompt.created_at)
    ctx.reply("schedules.cafe.prompt_set", cafe_when=_when(ctx, cafe), community=cafe.community,
              when=when_text(ctx.t, at, _zone(ctx, cafe)))
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
    ctx.reply("schedules.cafe.attended_set", when=_when(ctx, cafe), count=count)


# --- RSVP ----------------------------------------------------------------------------------------


@commands.command("rsvp", choice("answer", rsvp.ANSWERS), integer("n", min=1, optional=True), roles=MEMBERS,
                  rooms={RoomKind.CAFE, RoomKind.TOOLBOX}, help="schedules.help.rsvp")
async def rsvp_command(ctx: Context, answer: str, n: int | None) -> None:
    cafe = _mine(ctx, n)
    rsvp.set_answer(ctx.session, cafe, ctx.sender, answer, utcnow())
    ctx.reply(f"schedules.rsvp.{answer}", when=_when(ctx, cafe), place=cafe.place)
    plan_soon(ctx.services.runtime)


@feature.observe("m.reaction")
async def rsvp_by_reaction(ctx: Context) -> None:
    relation = ctx.event.relates_to
    if relation.get("rel_type") != "m.annotation" or ctx.role not in MEMBERS:
        return
    answer = rsvp.answer_for_reaction(str(relation.get("key", "")))
    target = relation.get("event_id")
    if answer is None or not isinstance(target, str):
        return
    cafe = rsvp.cafe_for_announcement(ctx.session, target)
    now = utcnow()
    if cafe is None or cafe.cancelled_at is not None or cafe.starts_at <= now:
        return
    rsvp.react(ctx.session, cafe, ctx.sender, ctx.event.event_id, answer, now)
    plan_soon(ctx.services.runtime)


@feature.observe("m.room.redaction")
async def rsvp_reaction_removed(ctx: Context) -> None:
    if ctx.event.redacts and rsvp.unreact(ctx.session, ctx.event.redacts, utcnow()) is not None:
        plan_soon(ctx.services.runtime)


# --- buddies and rides -------------------------------------------------------------------------


async def _introduce(ctx: Context, cafe: Cafe, kind: str, first: str, second: str) -> None:
    """Make the small encrypted room for a match and introduce the two there. Whoever of them did
    not send this command (they were waiting) is also told privately."""
    lang = ctx.settings.language
    room_id = await ctx.port.create_room(RoomSpec(name=ctx.t(f"schedules.{kind}.room_name", lang=lang),
                                                  invite=(first, second)))
    register_room(ctx.session, room_id, RoomKind.BUDDY, community=cafe.community, owner=first, partner=second)
    matching.record_match(ctx.session, cafe.id, "buddy" if kind == "buddy" else "ride", first, second, room_id,
                          utcnow())
    ctx.send_text(room_id, ctx.t(f"schedules.{kind}.intro", lang=lang, first=_name(ctx, first),
                               second=_name(ctx, second), when=_when(ctx, cafe, lang), place=cafe.place))
    for waiting, other in ((first, second), (second, first)):
        if waiting != ctx.sender:
            _tell(ctx, waiting, f"schedules.{kind}.matched_private", cafe, other=_name(ctx, other))


async def _withdraw(ctx: Context, cafe: Cafe, kind: str, kinds: tuple[str, ...]) -> None:
    """Withdraw, tell the rooms of undone matches, and find the ones left behind someone new."""
    for match in matching.withdraw(ctx.session, cafe.id, ctx.sender, kinds):
        ctx.send_text(match.room_id, ctx.t(f"schedules.{kind}.withdrawn_room", lang=ctx.settings.language,
                                         name=_name(ctx, ctx.sender)))
        left = match.second_user if match.first_user == ctx.sender else match.first_user
        if kind == "buddy":
            partner = matching.buddy_for(ctx.session, cafe.id, left)
            pairs = [(partner, left)] if partner else []
        elif left == match.first_user:  # the driver lost a passenger
            pairs = [(left, p) for p in matching.passengers_for(ctx.session, cafe.id, left)]
        else:
            driver = matching.driver_for(ctx.session, cafe.id, left)
            pairs = [(driver, left)] if driver else []
        for first, second in pairs:
            await _introduce(ctx, cafe, kind, first, second)
    ctx.reply(f"schedules.{kind}.cancelled", when=_when(ctx, cafe))


@commands.command("cafe buddy", integer("n", min=1, optional=True), roles=PARTICIPANTS, rooms=PRIVATE,
                  help="schedules.help.cafe_buddy")
async def cafe_buddy(ctx: Context, n: int | None) -> None:
    cafe = _mine(ctx, n)
    partner = matching.ask_buddy(ctx.session, cafe.id, ctx.sender, utcnow())
    if partner is None:
        ctx.reply("schedules.buddy.waiting", when=_when(ctx, cafe))
        return
    await _introduce(ctx, cafe, "buddy", partner, ctx.sender)
    ctx.reply("schedules.buddy.matched", other=_name(ctx, partner), when=_when(ctx, cafe))


@commands.command("cafe buddy cancel", integer("n", min=1, optional=True), roles=PARTICIPANTS, rooms=PRIVATE,
                  help="schedules.help.cafe_buddy_cancel")
async def cafe_buddy_cancel(ctx: Context, n: int | None) -> None:
    await _withdraw(ctx, _mine(ctx, n), "buddy", (matching.BUDDY,))


@commands.command("cafe ride offer", integer("seats", min=1, max=matching.MAX_SEATS),
                  integer("n", min=1, optional=True), roles=PARTICIPANTS, rooms=PRIVATE,
                  help="schedules.help.cafe_ride_offer")
async def cafe_ride_offer(ctx: Context, seats: int, n: int | None) -> None:
    cafe = _mine(ctx, n)
    passengers = matching.offer_ride(ctx.session, cafe.id, ctx.sender, seats, utcnow())
    for passenger in passengers:
        await _introduce(ctx, cafe, "ride", ctx.sender, passenger)
    if passengers:
        ctx.reply("schedules.ride.offer_matched", count=len(passengers), when=_when(ctx, cafe))
    else:
        ctx.reply("schedules.ride.offer_waiting", seats=seats, when=_when(ctx, cafe))


@commands.command("cafe ride need", integer("n", min=1, optional=True), roles=PARTICIPANTS, rooms=PRIVATE,
                  help="schedules.help.cafe_ride_need")
async def cafe_ride_need(ctx: Context, n: int | None) -> None:
    cafe = _mine(ctx, n)
    driver = matching.need_ride(ctx.session, cafe.id, ctx.sender, utcnow())
    if driver is None:
        ctx.reply("schedules.ride.need_waiting", when=_when(ctx, cafe))
        return
    await _introduce(ctx, cafe, "ride", driver, ctx.sender)
    ctx.reply("schedules.ride.need_matched", other=_name(ctx, driver), when=_when(ctx, cafe))


@commands.command("cafe ride cancel", integer("n", min=1, optional=True), roles=PARTICIPANTS, rooms=PRIVATE,
                  help="schedules.help.cafe_ride_cancel")
async def cafe_ride_cancel(ctx: Context, n: int | None) -> None:
    await _withdraw(ctx, _mine(ctx, n), "ride", (matching.RIDE_OFFER, matching.RIDE_NEED))


# --- breaks ------------------------------------------------------------------------------------


@commands.command("break", rest("duration", max_len=40, optional=True, placeholder="DURATION"),
                  roles=PARTICIPANTS, rooms=PRIVATE, help="schedules.help.break")
async def break_command(ctx: Context, duration: str | None) -> None:
    length = parse_duration(duration) if duration else None
    until = breaks.take_break(ctx.session, ctx.sender, utcnow(), length)
    if until is None:
        ctx.reply("schedules.break.open")
        return
    ctx.reply("schedules.break.until", until=when_text(ctx.t, until, _person_zone(ctx)))


@commands.command("back", roles=PARTICIPANTS, rooms=PRIVATE, help="schedules.help.back")
async def back_command(ctx: Context) -> None:
    ctx.reply("schedules.break.ended" if breaks.end_break(ctx.session, ctx.sender, utcnow())
              else "schedules.break.not_on_break")


def _person_zone(ctx: Context) -> ZoneInfo:
    return person_zone(ctx.session, ctx.settings, ctx.sender)


# --- digest and figures ------------------------------------------------------------------------


@commands.command("digest", roles=STAFF, rooms=STAFF_ROOMS, help="schedules.help.digest")
async def digest_command(ctx: Context) -> None:
    sources = [src for f in ctx.services.features for src in f.digest_sources]
    ctx.reply_text(digest_text(ctx.session, ctx.settings, utcnow(), ctx.t, sources))


@commands.command("stats", integer("months", min=1, max=36, optional=True), roles=STAFF, rooms=STAFF_ROOMS,
                  help="schedules.help.stats")
async def stats_command(ctx: Context, months: int | None) -> None:
    sources = [src for f in ctx.services.features for src in f.stats_sources]
    ctx.reply_text(stats_text(ctx.session, ctx.settings, utcnow(), months or DEFAULT_STATS_MONTHS, ctx.t, sources))

