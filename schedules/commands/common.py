"""What the schedules command modules share: who may run them where, and how a café is named,
dated and told about privately."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.context import Context
from bot.db import utcnow
from bot.models import Role, RoomKind
from bot.people import participant
from bot.timephrase import WhenKeys
from bot.zones import community_zone
from schedules import cafes
from schedules.announcements import tell_privately
from schedules.feature import feature
from schedules.models import Cafe
from schedules.wording import when_text

commands = feature.commands
# How café scheduling refuses a time phrase.
WHEN_KEYS = WhenKeys(unknown="schedules.when.bad", need_time="schedules.when.bad_time", past="schedules.when.past",
                     bad_date="schedules.when.bad_date", need_date="schedules.when.bad")
MEMBERS = frozenset({Role.PARTICIPANT, Role.CONSULTANT, Role.ADMIN})
PARTICIPANTS = frozenset({Role.PARTICIPANT})
# Someone who left keeps their own time: a break from reminders is theirs to take.
OWN_TIME = frozenset({Role.PARTICIPANT, Role.FORMER})
PRIVATE = frozenset({RoomKind.TOOLBOX})
STAFF_ROOMS = frozenset({RoomKind.CONSULTANT, RoomKind.DIRECT})
DEFAULT_STATS_MONTHS = 6


def note_sent(ctx: Context, room_id: str, txn_id: str) -> None:
    """Note a message the domain queued (shared with jobs) so the bot sends it right after the commit."""
    ctx.sent.append({"room_id": room_id, "type": "m.room.message", "content": {}, "txn_id": txn_id})


def tell(ctx: Context, user_id: str, key: str, cafe: Cafe, **params: object) -> None:
    """A private note in the person's toolbox room, in their language."""
    lang = ctx.speaker.lang_of(ctx.session, user_id)
    text = ctx.t(key, lang=lang, when=cafe_when(ctx, cafe, lang), place=cafe.place, **params)
    row = tell_privately(ctx.session, user_id, text)
    if row is not None:
        note_sent(ctx, row.room_id, row.txn_id)


def cafe_zone(ctx: Context, cafe: Cafe) -> ZoneInfo:
    return community_zone(ctx.settings, cafe.community)


def cafe_when(ctx: Context, cafe: Cafe, lang: str | None = None) -> str:
    return when_text(ctx.speaker.say(lang or ctx.lang), cafe.starts_at, cafe_zone(ctx, cafe))


def name_of(ctx: Context, user_id: str, lang: str | None = None) -> str:
    """How a peer is named to another (in a buddy or ride room, or privately): their pseudonym.
    Never their Matrix id (the community is pseudonymous); without a pseudonym, a neutral word in
    ``lang`` (the reader's language)."""
    p = participant(ctx.session, user_id)
    if p is not None and p.pseudonym:
        return p.pseudonym
    return ctx.t("schedules.companion.unnamed", lang=lang or ctx.lang)


def mine(ctx: Context, n: int | None) -> Cafe:
    return cafes.pick(cafes.upcoming_for(ctx.session, ctx.settings, ctx.sender, ctx.role, utcnow()), n)
