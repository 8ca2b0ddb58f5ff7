"""Company on the way: ``!cafe buddy`` and ``!cafe ride offer/need/cancel``.

Someone banned or muted is refused (they may reach nobody), and nobody is matched with a person
who blocked them or whom they blocked: both asked through ``bot.contracts`` (rooms decides)."""

from __future__ import annotations

from bot.context import Context
from bot.contracts import may_pair, peer_refusal
from bot.db import utcnow
from bot.errors import Invalid
from bot.models import RoomKind
from bot.port import RoomSpec
from bot.roomdir import register_room
from bot.router import integer, rest
from schedules import matching
from schedules.commands.common import PARTICIPANTS, PRIVATE, cafe_when, commands, mine, name_of, tell
from schedules.matching import MayPair
from schedules.models import Cafe


def _pairable(ctx: Context) -> MayPair:
    return lambda first, second: may_pair(ctx.services.features, ctx.session, first, second)


def _may_ask(ctx: Context) -> MayPair:
    """Refuse a banned or muted person politely; else the pairing test for this command."""
    reason = peer_refusal(ctx.services.features, ctx.session, ctx.sender)
    if reason is not None:
        raise Invalid(f"schedules.companion.{reason}")
    return _pairable(ctx)


async def _introduce(ctx: Context, cafe: Cafe, kind: str, first: str, second: str) -> None:
    """Make the small encrypted room for a match and introduce the two there. Whoever of them did
    not send this command (they were waiting) is also told privately."""
    lang = ctx.settings.language
    room_id = await ctx.port.create_room(RoomSpec(name=ctx.t(f"schedules.{kind}.room_name", lang=lang),
                                                  invite=(first, second)))
    register_room(ctx.session, room_id, RoomKind.BUDDY, community=cafe.community, owner=first, partner=second)
    matching.record_match(ctx.session, cafe.id, "buddy" if kind == "buddy" else "ride", first, second, room_id,
                          utcnow())
    # Only what both named when asking for company; nothing of what either named alone.
    shared = ", ".join(matching.shared_interests(ctx.session, cafe.id, first, second)) if kind == "buddy" else ""
    # In each member's language (both, one after the other, when they differ).
    ctx.send_text(room_id, "\n\n".join(
        ctx.t(f"schedules.{kind}.intro", lang=each, first=name_of(ctx, first, each),
              second=name_of(ctx, second, each),
              when=cafe_when(ctx, cafe, each), place=cafe.place)
        + (" " + ctx.t("schedules.buddy.shared", lang=each, interests=shared) if shared else "")
        for each in ctx.speaker.langs_of(ctx.session, (first, second))), alert=True, mentions=(first, second))
    for waiting, other in ((first, second), (second, first)):
        if waiting != ctx.sender:
            tell(ctx, waiting, f"schedules.{kind}.matched_private", cafe,
                 other=name_of(ctx, other, ctx.speaker.lang_of(ctx.session, waiting)))


async def _withdraw(ctx: Context, cafe: Cafe, kind: str, kinds: tuple[str, ...]) -> None:
    """Withdraw, tell the rooms of undone matches, and find the ones left behind someone new."""
    for match in matching.withdraw(ctx.session, cafe.id, ctx.sender, kinds):
        ctx.send_text(match.room_id, ctx.speaker.say_to_all(ctx.session, (match.first_user, match.second_user))(
            f"schedules.{kind}.withdrawn_room", name=name_of(ctx, ctx.sender)))
        left = match.second_user if match.first_user == ctx.sender else match.first_user
        if kind == "buddy":
            partner = matching.buddy_for(ctx.session, cafe.id, left, _pairable(ctx))
            pairs = [(partner, left)] if partner else []
        elif left == match.first_user:  # the driver lost a passenger
            pairs = [(left, p) for p in matching.passengers_for(ctx.session, cafe.id, left, _pairable(ctx))]
        else:
            driver = matching.driver_for(ctx.session, cafe.id, left, _pairable(ctx))
            pairs = [(driver, left)] if driver else []
        for first, second in pairs:
            await _introduce(ctx, cafe, kind, first, second)
    ctx.reply(f"schedules.{kind}.cancelled", when=cafe_when(ctx, cafe))


@commands.command("cafe buddy", integer("n", min=1, optional=True),
                  rest("interests", max_len=matching.MAX_INTERESTS * (matching.MAX_INTEREST_CHARS + 2), optional=True),
                  roles=PARTICIPANTS, rooms=PRIVATE, help="schedules.help.cafe_buddy")
async def cafe_buddy(ctx: Context, n: int | None, interests: str | None) -> None:
    wanted = matching.parse_interests(interests)
    cafe = mine(ctx, n)
    partner = matching.ask_buddy(ctx.session, cafe.id, ctx.sender, utcnow(), _may_ask(ctx), wanted)
    if partner is None:
        ctx.reply("schedules.buddy.waiting", when=cafe_when(ctx, cafe))
        return
    await _introduce(ctx, cafe, "buddy", partner, ctx.sender)
    ctx.reply("schedules.buddy.matched", other=name_of(ctx, partner), when=cafe_when(ctx, cafe))


@commands.command("cafe buddy cancel", integer("n", min=1, optional=True), roles=PARTICIPANTS, rooms=PRIVATE,
                  help="schedules.help.cafe_buddy_cancel")
async def cafe_buddy_cancel(ctx: Context, n: int | None) -> None:
    await _withdraw(ctx, mine(ctx, n), "buddy", (matching.BUDDY,))


@commands.command("cafe ride offer", integer("seats", min=1, max=matching.MAX_SEATS),
                  integer("n", min=1, optional=True), roles=PARTICIPANTS, rooms=PRIVATE,
                  help="schedules.help.cafe_ride_offer")
async def cafe_ride_offer(ctx: Context, seats: int, n: int | None) -> None:
    cafe = mine(ctx, n)
    passengers = matching.offer_ride(ctx.session, cafe.id, ctx.sender, seats, utcnow(), _may_ask(ctx))
    for passenger in passengers:
        await _introduce(ctx, cafe, "ride", ctx.sender, passenger)
    if passengers:
        ctx.reply("schedules.ride.offer_matched", count=len(passengers), when=cafe_when(ctx, cafe))
    else:
        ctx.reply("schedules.ride.offer_waiting", seats=seats, when=cafe_when(ctx, cafe))


@commands.command("cafe ride need", integer("n", min=1, optional=True), roles=PARTICIPANTS, rooms=PRIVATE,
                  help="schedules.help.cafe_ride_need")
async def cafe_ride_need(ctx: Context, n: int | None) -> None:
    cafe = mine(ctx, n)
    driver = matching.need_ride(ctx.session, cafe.id, ctx.sender, utcnow(), _may_ask(ctx))
    if driver is None:
        ctx.reply("schedules.ride.need_waiting", when=cafe_when(ctx, cafe))
        return
    await _introduce(ctx, cafe, "ride", driver, ctx.sender)
    ctx.reply("schedules.ride.need_matched", other=name_of(ctx, driver), when=cafe_when(ctx, cafe))


@commands.command("cafe ride cancel", integer("n", min=1, optional=True), roles=PARTICIPANTS, rooms=PRIVATE,
                  help="schedules.help.cafe_ride_cancel")
async def cafe_ride_cancel(ctx: Context, n: int | None) -> None:
    await _withdraw(ctx, mine(ctx, n), "ride", (matching.RIDE_OFFER, matching.RIDE_NEED))
