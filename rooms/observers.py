"""What the bot notices without being asked: identifying details and crisis language in
messages, forum activity, display names, redactions and read receipts. Never logs bodies."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from bot.config import Settings
from bot.context import Context
from bot.contracts import TextScan, crisis_watch_exempt
from bot.db import utcnow
from bot.models import EnrolmentStatus, Participant, Role, RoomKind
from bot.notices import Notices
from bot.people import on_break, pseudonym_key
from bot.roomdir import toolbox_room_of
from bot.router import SHARED_ROOMS, STAFF
from bot.speaker import Say
from bot.weekhours import parse_hours, said_at
from bot.zones import person_zone
from rooms import activity, consent, moderation
from rooms.admission import help_lines
from rooms.crisis import PhraseList
from rooms.directchat import answerable_pseudonym
from rooms.feature import feature
from rooms.privacy import detect_kinds
from rooms.targets import event_link, sender_of

log = logging.getLogger(__name__)
POST_ROOMS = {RoomKind.FORUM, RoomKind.CAFE}
NOT_WATCHED_FOR_CRISIS = {RoomKind.CONSULTANT}
PRIVATE_CRISIS_ROOMS = {RoomKind.TOOLBOX, RoomKind.DIRECT, RoomKind.PROVIDER}
AT_RISK_ROLES = {Role.PARTICIPANT, Role.FORMER, Role.GUEST}  # someone who left is no less at risk


def _edited(ctx: Context) -> str | None:
    """The event an edit (``m.replace``) changes, if this message is an edit."""
    rel = ctx.event.relates_to
    target = rel.get("event_id")
    return target if rel.get("rel_type") == "m.replace" and isinstance(target, str) else None


async def _own_original(ctx: Context, event_id: str) -> bool:
    """Whether the sender of this edit wrote the message it claims to change. Anyone can send an
    ``m.replace`` naming anyone's event; clients ignore such an edit, and so does the bot."""
    return await sender_of(ctx.session, ctx.port, ctx.room_id, event_id) == ctx.sender


# --- privacy guard ------------------------------------------------------------------------------

def _identifying_details(settings: Settings, body: str) -> list[str]:
    return detect_kinds(body, ignore=tuple(n.number for n in settings.crisis.numbers))


# Both scans are linear in the text and capped (rooms.privacy, rooms.crisis); for a long body the
# dispatcher runs them in a worker thread before it takes the database lock.
PRIVACY_SCAN = TextScan("rooms.privacy", _identifying_details)


@feature.observe("m.room.message")
async def privacy_guard(ctx: Context) -> None:
    if ctx.room_kind not in SHARED_ROOMS or ctx.role is not Role.PARTICIPANT:
        return
    kinds = ctx.scan(PRIVACY_SCAN)
    if not kinds:
        return
    # For an edit, flag the original (removing it removes the edits with it), but only an edit
    # by the original's own sender: a forged edit must never mark someone else's message.
    edited = _edited(ctx)
    if edited is not None and not await _own_original(ctx, edited):
        log.info("ignored an edit %s of %s in %s: not by the original's sender", ctx.event.event_id, edited,
                 ctx.room_id)
        return
    target = edited or ctx.event.event_id
    activity.flag(ctx.session, "privacy", ctx.room_id, target, ctx.sender, kinds)
    if on_break(ctx.session, ctx.sender):
        # !break pauses every nudge; the flag stays, so the consultants see it in the digest and
        # the person can still remove the message with !redact-mine.
        log.info("privacy flag in a %s room (nudge paused: on a break)", ctx.room_kind.value)
        return
    notify = Notices.from_context(ctx)
    lang = notify.lang_of(ctx.sender)
    names = ", ".join(notify.t(lang, f"rooms.privacy.kind.{k}") for k in kinds)
    where = notify.t(lang, f"room_kind.{ctx.room_kind.value}")
    notify.to_person(ctx.sender, "rooms.privacy.nudge", alert=True, kinds=names, where=where)
    # Neither the room nor the event: a toolbox or direct room is one person's, so its id in the log
    # would say who was flagged (the flag itself is in the database for the digest).
    log.info("privacy flag in a %s room", ctx.room_kind.value)


# --- crisis response ----------------------------------------------------------------------------

@lru_cache(maxsize=4)
def phrases(directory: Path | None) -> PhraseList:
    return PhraseList.load(directory)


def _crisis_language(settings: Settings, body: str) -> bool:
    return phrases(settings.crisis.phrases_dir).matches(body)


CRISIS_SCAN = TextScan("rooms.crisis", _crisis_language)
feature.text_scans += [PRIVACY_SCAN, CRISIS_SCAN]


def crisis_extras(ctx: Context, lang: str) -> list[str]:
    """What other features add to the person's crisis reply (their own crisis plan, say)."""
    found = []
    for f in ctx.services.features:
        for extra in f.crisis_extras:
            try:
                text = extra(ctx.session, ctx.sender, ctx.speaker.say(lang))
            except Exception:  # noqa: BLE001 - the help-line numbers must go out whatever happens here
                log.exception("a crisis-reply extra of %s failed; replying without it", f.name)
                continue
            if text:
                found.append(text)
    return found


@feature.observe("m.room.message")
async def crisis_watch(ctx: Context) -> None:
    await _crisis_reply(ctx, late=False)


async def late_crisis_watch(ctx: Context) -> None:
    """A message first seen after an outage, older than ``bot.max_event_age_seconds``: no other
    observer or command sees it, but a crisis message still gets its reply, marked late."""
    await _crisis_reply(ctx, late=True)


feature.late_observers.append(late_crisis_watch)


async def _crisis_reply(ctx: Context, *, late: bool) -> None:
    if ctx.room_kind in NOT_WATCHED_FOR_CRISIS or ctx.role not in AT_RISK_ROLES:
        return
    if crisis_watch_exempt(ctx.services.features, ctx.prefix, ctx.event.body) or not ctx.scan(CRISIS_SCAN):
        return
    now = utcnow()
    period = timedelta(minutes=ctx.settings.crisis.alert_period_minutes)
    # In a private room nobody else reads along: the consultants are told only if the person asks
    # (!alert). Elsewhere, at most one alert per person and period.
    private = ctx.room_kind in PRIVATE_CRISIS_ROOMS
    due = not private and activity.crisis_alert_due(ctx.session, ctx.sender, period, now)
    activity.flag(ctx.session, "crisis", ctx.room_id, ctx.event.event_id, ctx.sender,
                  details=[activity.LATE] if late else None, alerted=due)
    log.info("crisis match in a %s room (alert: %s, late: %s)", ctx.room_kind.value, due, late)  # no ids: see above
    # Every crisis message gets the private reply; only the consultant alert is limited per period.
    notify = Notices.from_context(ctx)
    lang = notify.lang_of(ctx.sender)
    written = _written_at(ctx)
    parts = [notify.t(lang, "rooms.crisis.late", when=written)] if late else []
    parts.append(notify.t(lang, "rooms.crisis.reply", numbers=help_lines(ctx.settings, lang)))
    # A private command typed in a shared room (``!mood 2 …`` in the forum) is removed from it by
    # the router: a link would lead the consultant to nothing, so the alert names the person instead.
    removed = _removed_from_room(ctx)
    parts.append(notify.t(lang, "rooms.crisis.offer_alert") if private else _told(ctx, lang, now, removed))
    text = "\n\n".join([*parts, *crisis_extras(ctx, lang)])
    room = toolbox_room_of(ctx.session, ctx.sender)
    if room is None and ctx.room_kind is RoomKind.DIRECT:
        room = ctx.room_id
    if room is not None:
        ctx.send_text(room, text, alert=True, mentions=(ctx.sender,))
    if due:
        where = notify.t(ctx.settings.language, f"room_kind.{ctx.room_kind.value}")
        link = event_link(ctx.room_id, ctx.event.event_id)
        if removed:
            pseudonym = answerable_pseudonym(ctx.session, ctx.sender)
            if pseudonym is not None:  # the pseudonym and the command to copy, not the Matrix id
                notify.to_consultants("rooms.crisis.alert_removed", alert=True, pseudonym=pseudonym, where=where)
            else:
                notify.to_consultants("rooms.crisis.alert_removed_unenrolled", alert=True, user=ctx.sender,
                                      where=where)
        elif late:
            notify.to_consultants("rooms.crisis.late_alert", alert=True, link=link, where=where, when=written)
        else:
            notify.to_consultants("rooms.crisis.alert", alert=True, link=link, where=where)


def _removed_from_room(ctx: Context) -> bool:
    """Whether the router will remove this message from its shared room (a discreet command)."""
    router = ctx.services.router
    if router is None or ctx.room_kind not in SHARED_ROOMS or not router.is_command(ctx.event.body.strip()):
        return False
    command = router.match(ctx.event.body.strip()).command
    return command is not None and command.discreet


def _told(ctx: Context, lang: str, now: datetime, removed: bool = False) -> str:
    """That a consultant has been told, and, outside staffed hours, when one next reads along (so
    the reply never suggests someone is on it right now when nobody is)."""
    suffix = "_removed" if removed else ""
    if moderation.staffed(ctx.settings, now):
        return ctx.speaker.t(lang, f"rooms.crisis.told{suffix}")
    zone_name = ctx.settings.moderation.staffed_timezone
    opens = parse_hours(ctx.settings.moderation.staffed_hours).next_opening(now, zone_name)
    return ctx.speaker.t(lang, f"rooms.crisis.told_later{suffix}", when=said_at(ctx.speaker.say(lang), opens, zone_name))


def _written_at(ctx: Context) -> str:
    """When the message was sent, in the person's time zone."""
    ts = ctx.event.origin_server_ts
    at = datetime.fromtimestamp(ts / 1000, timezone.utc) if ts else utcnow()
    zone = person_zone(ctx.session, ctx.settings, ctx.sender)
    return f"{at.astimezone(zone):%Y-%m-%d %H:%M}"


def public_crisis_reply(settings: Settings, say: Say, body: str) -> str | None:
    """For a room without encryption: the help-line numbers, nothing personal (see the core)."""
    if not phrases(settings.crisis.phrases_dir).matches(body):
        return None
    return say("rooms.crisis.public_reply", numbers=help_lines(settings))


# --- forum activity -----------------------------------------------------------------------------

@feature.observe("m.room.message")
async def forum_activity(ctx: Context) -> None:
    if ctx.room_kind not in POST_ROOMS or ctx.room is None:
        return
    if ctx.event.body.startswith(ctx.prefix) or _edited(ctx):
        return  # commands and edits are not posts
    if ctx.room_kind is RoomKind.CAFE:
        community = ctx.room.community
    else:
        p = ctx.session.get(Participant, ctx.sender)
        community = p.community if p is not None else None
    activity.record_post(ctx.session, ctx.room_id, ctx.room_kind.value, ctx.event.event_id, ctx.sender,
                         community, ctx.event.thread_root, ctx.event.reply_to)


def _receipts(ctx: Context) -> list[tuple[str, str]]:
    """(event id, reader) pairs: one receipt as the dispatcher gives it (``event_id`` in the
    content, the reader as sender), or a whole receipt map as Matrix sends it."""
    content = ctx.event.content
    if isinstance(content.get("event_id"), str):
        return [(content["event_id"], ctx.sender)]
    pairs = []
    for event_id, kinds in content.items():
        readers = kinds.get("m.read", {}) if isinstance(kinds, dict) else {}
        pairs += [(event_id, reader) for reader in readers]
    return pairs


@feature.observe("m.receipt")
async def read_receipts(ctx: Context) -> None:
    if ctx.room_kind not in POST_ROOMS:
        return
    for event_id, reader in _receipts(ctx):
        if reader != ctx.port.bot_user_id:
            activity.record_receipt(ctx.session, ctx.room_id, event_id, reader)


@feature.observe("m.room.redaction")
async def redactions(ctx: Context) -> None:
    """A message removed by its author or by staff no longer counts. The dispatcher gives only
    unencrypted redactions (with ``redacts`` from either place room versions put it); the
    homeserver keeps but does not apply a redaction by someone without the power to make it,
    so the sender must be the author (or staff), and the message must be in this room."""
    redacts = ctx.event.redacts
    if ctx.event.encrypted or not isinstance(redacts, str):
        return
    author = activity.author_in_room(ctx.session, ctx.room_id, redacts)
    if author is None or (author != ctx.sender and ctx.role not in STAFF):
        return
    activity.forget_event(ctx.session, redacts, room_id=ctx.room_id)


# --- display names and membership ---------------------------------------------------------------

@feature.observe("m.room.member")
async def member_changes(ctx: Context) -> None:
    user_id = ctx.event.state_key
    if not user_id or ctx.event.encrypted or ctx.room_kind not in SHARED_ROOMS:
        return  # membership is state: it counts only unencrypted (the dispatcher drops the rest)
    membership = ctx.event.content.get("membership")
    if membership in ("leave", "ban"):
        activity.note_name(ctx.session, user_id, ctx.room_id, matches=True)
        if ctx.room_kind is RoomKind.CIRCLE:
            consent.note_left(ctx.session, ctx.room_id, user_id)
        return
    if membership != "join" or ctx.sender != user_id:
        return  # only a person's own join carries the name they chose
    p = ctx.session.get(Participant, user_id)
    if p is None or p.status != EnrolmentStatus.ACTIVE.value or not p.pseudonym:
        return
    shown = ctx.event.content.get("displayname")
    fits = isinstance(shown, str) and pseudonym_key(shown) == pseudonym_key(p.pseudonym)  # stored key is hashed
    if activity.note_name(ctx.session, user_id, ctx.room_id, fits) and not on_break(ctx.session, user_id):
        notify = Notices.from_context(ctx)
        where = notify.t(notify.lang_of(user_id), f"room_kind.{ctx.room_kind.value}")
        notify.to_person(user_id, "rooms.name.mismatch", alert=True, pseudonym=p.pseudonym, where=where)
