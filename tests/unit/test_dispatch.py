"""The dispatcher, built directly over a real database with a fake of the few nio client methods
it uses: one database session per event, dedupe, the too-old skip, the encryption refusal, the
plain-text hint, one bad event answered politely, and undecryptable messages."""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from typing import Any, Iterable, Sequence

from nio import EncryptionError, Event, MegolmEvent, RoomMessageText
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import dispatch, metrics
from bot.context import Context, IncomingEvent, Services
from bot.db import Database
from bot.dispatch import Dispatcher
from bot.feature import Feature
from bot.models import HandledEvent, RoomKind, UndecryptableNotice
from bot.ratelimit import CommandLimiter
from bot.roomdir import register_room
from bot.roomstate import RoomState
from bot.speaker import Speaker
from tests.support.core import queued
from tests.support.rooms import enrol

BOT, ALICE = "@bot:localhost", "@alice:localhost"
ROOM, PLAIN_ROOM = "!toolbox-alice:localhost", "!plain:localhost"


class FakeClient:
    """The nio client as the dispatcher and the room state use it."""

    def __init__(self) -> None:
        self.user_id = BOT
        self.rooms = {ROOM: SimpleNamespace(encrypted=True, member_count=2),
                      PLAIN_ROOM: SimpleNamespace(encrypted=False, member_count=2)}
        self.key_requests: list[str] = []
        self.keys_arrived: dict[str, Any] = {}  # event id -> the event as decrypted

    async def request_room_key(self, event: MegolmEvent) -> None:
        self.key_requests.append(event.event_id)

    def decrypt_event(self, event: MegolmEvent) -> Any:
        if event.event_id not in self.keys_arrived:
            raise EncryptionError("no key yet")
        return self.keys_arrived[event.event_id]


class FakeOutbox:
    def __init__(self) -> None:
        self.wakes = 0
        self.causes: dict[str, float] = {}

    def wake(self) -> None:
        self.wakes += 1

    def note_cause(self, txn_ids: Iterable[str], received_at: float) -> None:
        for txn_id in txn_ids:
            self.causes[txn_id] = received_at


class CountingDatabase:
    """The real database, counting the sessions opened on it."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.opened = 0

    def session(self) -> AbstractContextManager[Session]:
        self.opened += 1
        return self.db.session()


@dataclass
class Rig:
    dispatcher: Dispatcher
    db: CountingDatabase
    client: FakeClient
    outbox: FakeOutbox

    def replies(self, room_id: str = ROOM) -> list[str]:
        with self.db.db.session() as s:
            return [c["body"] for r, c in queued(s) if r == room_id]

    def handled(self, event_id: str) -> bool:
        with self.db.db.session() as s:
            return s.get(HandledEvent, event_id) is not None


def rig(db: Database, services: Services, extra: Sequence[Feature] = ()) -> Rig:
    if extra:
        services = Services(settings=services.settings, catalogue=services.catalogue, port=services.port,
                            router=services.router, features=[*services.features, *extra])
    with db.session() as s:
        register_room(s, ROOM, RoomKind.TOOLBOX, owner=ALICE)
    client, outbox, counting = FakeClient(), FakeOutbox(), CountingDatabase(db)
    assert services.router is not None
    dispatcher = Dispatcher(counting, client, services, services.router,  # type: ignore[arg-type]
                            RoomState(client, services.settings),  # type: ignore[arg-type]
                            Speaker(services.catalogue, services.settings), outbox, asyncio.Lock())
    return Rig(dispatcher, counting, client, outbox)


_ids = iter(range(1, 1_000_000))


def message(body: str, *, room_id: str = ROOM, event_id: str | None = None, msgtype: str = "m.text",
            age_s: float = 0, sender: str = ALICE) -> IncomingEvent:
    return IncomingEvent(event_id=event_id or f"$m{next(_ids)}", room_id=room_id, sender=sender,
                         type="m.room.message", content={"msgtype": msgtype, "body": body},
                         origin_server_ts=int((time.time() - age_s) * 1000))


async def test_a_command_is_answered_in_one_session_and_marked_handled(db, services) -> None:
    r = rig(db, services)
    before = metrics.REGISTRY.get_sample_value("reconnect_commands_total", {"command": "whoami"}) or 0
    event = message("!whoami")
    await r.dispatcher.handle_event(event)
    (reply,) = r.replies()
    assert f"You are {ALICE}." in reply
    assert r.db.opened == 1
    assert r.handled(event.event_id)
    assert r.outbox.wakes == 1 and len(r.outbox.causes) == 1
    assert metrics.REGISTRY.get_sample_value("reconnect_commands_total", {"command": "whoami"}) == before + 1


async def test_an_event_seen_again_is_not_handled_twice(db, services) -> None:
    r = rig(db, services)
    event = message("!whoami")
    await r.dispatcher.handle_event(event)
    await r.dispatcher.handle_event(event)
    assert len(r.replies()) == 1
    assert r.db.opened == 2  # one per delivery, the second only to find it handled
    assert r.outbox.wakes == 1


async def test_an_event_older_than_the_limit_is_skipped_and_marked_handled(db, services) -> None:
    r = rig(db, services)
    event = message("!whoami", age_s=services.settings.bot.max_event_age_seconds + 60)
    await r.dispatcher.handle_event(event)
    assert r.replies() == []
    assert r.handled(event.event_id)
    assert r.db.opened == 1 and r.outbox.wakes == 0


async def test_a_late_crisis_message_gets_a_late_reply_a_late_alert_and_a_digest_line(db, services) -> None:
    """Issue 12, item 3: a crisis message first seen after an outage is not silently skipped."""
    from datetime import timedelta

    from bot.db import utcnow
    from rooms.api import recent_flags
    from rooms.digest import render_sections
    from tests.support.rooms import enrol

    r = rig(db, services)
    forum, consultants = "!forum:localhost", "!consultants:localhost"
    with db.session() as s:
        enrol(s, ALICE, "Alice")
        register_room(s, forum, RoomKind.FORUM)
        register_room(s, consultants, RoomKind.CONSULTANT)
    r.client.rooms[forum] = SimpleNamespace(encrypted=True, member_count=5)
    old = services.settings.bot.max_event_age_seconds + 3600
    crisis = message("I want to die", room_id=forum, age_s=old)
    await r.dispatcher.handle_event(crisis)
    (reply,) = r.replies()
    assert "only saw your message from" in reply and "113" in reply
    (alert,) = r.replies(consultants)
    assert "(late)" in alert and f"https://matrix.to/#/{forum}/{crisis.event_id}" in alert
    assert r.handled(crisis.event_id) and r.outbox.wakes == 1
    await r.dispatcher.handle_event(message("!whoami", age_s=old))  # an old command is still not run
    assert len(r.replies()) == 1
    with db.session() as s:
        flags = recent_flags(s, utcnow() - timedelta(days=1))
    sections = render_sections(services.speaker.say("en"), 24, [], [], flags, [])
    assert any("crisis (seen late" in section.text for section in sections)


async def test_notices_from_other_bots_are_never_answered(db, services) -> None:
    r = rig(db, services)
    event = message("!whoami", msgtype="m.notice")
    await r.dispatcher.handle_event(event)
    assert r.replies() == [] and not r.handled(event.event_id)


async def test_a_command_in_an_unencrypted_room_gets_only_the_refusal(db, services) -> None:
    r = rig(db, services)
    event = message("!whoami", room_id=PLAIN_ROOM)
    await r.dispatcher.handle_event(event)
    (reply,) = r.replies(PLAIN_ROOM)
    assert "not end-to-end encrypted" in reply and ALICE not in reply
    assert r.handled(event.event_id) and r.db.opened == 1 and r.outbox.wakes == 1


async def test_a_plain_message_gets_the_hint_at_most_every_half_hour_per_room(db, services) -> None:
    r = rig(db, services)
    await r.dispatcher.handle_event(message("hi, can you help me?"))
    await r.dispatcher.handle_event(message("hello?"))
    (hint,) = r.replies()
    assert "I answer commands that start with `!`" in hint
    r.dispatcher._hinted_at[ROOM] -= 31 * 60  # as if half an hour had passed
    await r.dispatcher.handle_event(message("still there?"))
    assert len(r.replies()) == 2


async def test_a_provider_writing_to_me_is_pointed_to_what_providers_do_not_to_start(db, services) -> None:
    """The newcomer trial: a provider was greeted with "`!start` if you are new" (a participant's
    enrolment)."""
    from bot.models import Provider, UserPref
    doctor, dm = "@doctor:localhost", "!dm-doctor:localhost"
    r = rig(db, services)
    r.client.rooms[dm] = SimpleNamespace(encrypted=True, member_count=2)
    with db.session() as s:
        s.add(Provider(user_id=doctor, added_by="@consultant:localhost"))
        register_room(s, dm, RoomKind.DIRECT, owner=doctor)  # as the room state would know it
    await r.dispatcher.handle_event(message("hello, how does this work?", room_id=dm, sender=doctor))
    (hint,) = r.replies(dm)
    assert "I answer commands that start with `!`" in hint and "`!start`" not in hint
    assert "`!hours mon-fri 08:00-15:30`" in hint and "`!view ITEM`" in hint and "`!help`" in hint
    with db.session() as s:
        s.merge(UserPref(user_id=doctor, language="nb"))
    r.dispatcher._hinted_at[dm] -= 31 * 60
    await r.dispatcher.handle_event(message("hei?", room_id=dm, sender=doctor))
    assert "Som helsearbeider" in r.replies(dm)[-1] and "`!start`" not in r.replies(dm)[-1]
    # A newcomer still hears of !start.
    await r.dispatcher.handle_event(message("hi, can you help me?"))
    assert "`!start` if you are new" in r.replies()[-1]


async def test_consultants_and_admins_writing_to_me_are_pointed_to_their_own_commands(db, services) -> None:
    """The newcomer trial: a consultant or admin writing plain text was greeted with "`!start` if
    you are new" (a participant's enrolment)."""
    from bot.models import UserPref
    r = rig(db, services)
    for person in (services.settings.people.consultants[0], services.settings.people.admins[0]):
        dm = f"!dm-{person[1:].split(':')[0]}:localhost"
        r.client.rooms[dm] = SimpleNamespace(encrypted=True, member_count=2)
        with db.session() as s:
            register_room(s, dm, RoomKind.DIRECT, owner=person)
        await r.dispatcher.handle_event(message("hello, what do I do here?", room_id=dm, sender=person))
        (hint,) = r.replies(dm)
        assert "I answer commands that start with `!`" in hint and "`!start`" not in hint
        assert "`!pending`" in hint and "`!approve PSEUDONYM`" in hint and "`!help`" in hint
        with db.session() as s:
            s.merge(UserPref(user_id=person, language="nb"))
        r.dispatcher._hinted_at[dm] -= 31 * 60
        await r.dispatcher.handle_event(message("hei?", room_id=dm, sender=person))
        assert "Som erfaringskonsulent" in r.replies(dm)[-1] and "`!start`" not in r.replies(dm)[-1]


async def test_a_failing_observer_is_rolled_back_and_the_command_gets_an_apology(db, services, caplog) -> None:
    broken = Feature(name="broken")

    @broken.observe("m.room.message")
    async def write_then_fail(ctx: Context) -> None:
        ctx.send_text("!elsewhere:localhost", "half-done work")
        raise ValueError(ctx.event.body)  # an exception message may carry what was typed

    r = rig(db, services, [broken])
    event = message("!whoami my secret words")
    with caplog.at_level(logging.INFO):
        await r.dispatcher.handle_event(event)
    (reply,) = r.replies()
    assert "something went wrong on my side" in reply
    assert r.replies("!elsewhere:localhost") == []  # the failed attempt's queued message is gone
    assert r.handled(event.event_id) and r.db.opened == 1 and r.outbox.wakes == 1
    assert "ValueError" in caplog.text and "secret words" not in caplog.text  # never a body in the log


async def test_the_bots_own_events_are_skipped(db, services) -> None:
    r = rig(db, services)
    own = RoomMessageText.from_dict({"type": "m.room.message", "event_id": "$own", "sender": BOT,
                                     "origin_server_ts": int(time.time() * 1000),
                                     "content": {"msgtype": "m.text", "body": "!whoami"}})
    await r.dispatcher.timeline_event(ROOM, own)
    assert r.db.opened == 0 and r.replies() == []


def encrypted(event_id: str, session_id: str = "S1") -> MegolmEvent:
    return MegolmEvent.from_dict({
        "type": "m.room.encrypted", "event_id": event_id, "sender": ALICE, "room_id": ROOM,
        "origin_server_ts": int(time.time() * 1000),
        "content": {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgA", "sender_key": "key",
                    "device_id": "DEVICE", "session_id": session_id}})


async def test_undecryptable_messages_get_one_notice_a_key_request_and_a_retry_when_keys_come(db, services):
    r = rig(db, services)
    await r.dispatcher.timeline_event(ROOM, encrypted("$e1"))
    await r.dispatcher.timeline_event(ROOM, encrypted("$e2"))
    (notice,) = r.replies()
    assert "couldn't read your last message" in notice
    assert r.client.key_requests == ["$e1", "$e2"]
    await r.dispatcher.retry_undecrypted()  # no key yet: both wait
    assert r.dispatcher.awaiting_keys and len(r.replies()) == 1
    r.client.keys_arrived["$e1"] = RoomMessageText.from_dict({
        "type": "m.room.message", "event_id": "$e1", "sender": ALICE, "origin_server_ts": int(time.time() * 1000),
        "content": {"msgtype": "m.text", "body": "!whoami"}})
    await r.dispatcher.retry_undecrypted()
    assert f"You are {ALICE}." in r.replies()[-1]
    assert r.dispatcher.awaiting_keys  # $e2 still waits for its key



FORUM_ROOM, BOB = "!forum:localhost", "@bob:localhost"


def encrypted_from(sender: str, event_id: str, session_id: str, room_id: str = ROOM) -> MegolmEvent:
    event = encrypted(event_id, session_id)
    event.sender, event.room_id = sender, room_id
    return event


async def test_undecryptable_notices_at_most_hourly_per_person_and_never_in_a_shared_room(db, services) -> None:
    r = rig(db, services)
    with db.session() as s:
        register_room(s, FORUM_ROOM, RoomKind.FORUM)
        register_room(s, "!toolbox-bob:localhost", RoomKind.TOOLBOX, owner=BOB)
    r.client.rooms[FORUM_ROOM] = SimpleNamespace(encrypted=True, member_count=40)
    # Each new megolm session of Alice's (a new device, a rotation) within the hour: one notice.
    for n in range(3):
        await r.dispatcher.timeline_event(ROOM, encrypted_from(ALICE, f"$a{n}", f"S{n}"))
    (notice,) = r.replies()
    assert "couldn't read your last message" in notice and "asked your device" not in notice
    # In the forum: nothing there; Bob hears of it privately, once.
    for n in range(2):
        await r.dispatcher.timeline_event(FORUM_ROOM, encrypted_from(BOB, f"$b{n}", f"T{n}", FORUM_ROOM))
    assert r.replies(FORUM_ROOM) == []
    (private,) = r.replies("!toolbox-bob:localhost")
    assert "in another room" in private
    # An hour later Alice may hear of it again.
    with db.session() as s:
        for row in s.scalars(select(UndecryptableNotice).where(UndecryptableNotice.sender == ALICE)):
            row.noticed_at -= timedelta(hours=1, minutes=1)
    await r.dispatcher.timeline_event(ROOM, encrypted_from(ALICE, "$a9", "S0"))
    assert len(r.replies()) == 2


async def test_undecryptable_events_kept_for_a_retry_are_bounded(db, services, monkeypatch) -> None:
    monkeypatch.setattr(dispatch, "MAX_AWAITING_KEYS", 5)
    r = rig(db, services)
    for n in range(12):
        await r.dispatcher.timeline_event(ROOM, encrypted_from(ALICE, f"$k{n}", "S1"))
    assert list(r.dispatcher._pending_undecrypted) == [f"$k{n}" for n in range(7, 12)]  # the newest five
    # An event kept past its time goes first, whatever the count.
    first = next(iter(r.dispatcher._pending_undecrypted))
    room_id, event, _ = r.dispatcher._pending_undecrypted[first]
    r.dispatcher._pending_undecrypted[first] = (room_id, event, time.time() - dispatch.UNDECRYPTABLE_KEPT_S - 1)
    await r.dispatcher.timeline_event(ROOM, encrypted_from(ALICE, "$k12", "S1"))
    assert first not in r.dispatcher._pending_undecrypted and len(r.dispatcher._pending_undecrypted) == 5


def decrypted(event_type: str, content: dict[str, Any], **fields: Any) -> Any:
    """An event as nio hands it on after decrypting a megolm plaintext that claims ``event_type``."""
    event = Event.parse_decrypted_event({"type": event_type, "content": content, "event_id": f"$d{next(_ids)}",
                                         "sender": ALICE, "origin_server_ts": int(time.time() * 1000), **fields})
    event.decrypted = True
    return event


async def test_a_decrypted_event_claiming_state_or_a_redaction_is_dropped_and_counted(db, services) -> None:
    watcher, seen = Feature(name="watcher"), []
    for event_type in ("m.room.member", "m.room.redaction", "m.room.power_levels", "m.room.message"):
        watcher.observe(event_type)(lambda ctx: _note(seen, ctx))
    r = rig(db, services, [watcher])
    before = metrics.REGISTRY.get_sample_value("reconnect_decrypted_events_dropped_total") or 0
    await r.dispatcher.timeline_event(ROOM, decrypted("m.room.member", {"membership": "leave"}, state_key=BOB))
    await r.dispatcher.timeline_event(ROOM, decrypted("m.room.redaction", {"redacts": "$x"}, redacts="$x"))
    await r.dispatcher.timeline_event(ROOM, decrypted("m.room.power_levels", {"users": {ALICE: 100}}, state_key=""))
    assert seen == []
    assert metrics.REGISTRY.get_sample_value("reconnect_decrypted_events_dropped_total") == before + 3
    # A decrypted message counts, but what it claims beyond type and content does not.
    await r.dispatcher.timeline_event(ROOM, decrypted("m.room.message", {"msgtype": "m.text", "body": "hi",
                                                                         "redacts": "$x"},
                                                      state_key=BOB, redacts="$x"))
    ((event_type, state_key, redacts, was_encrypted),) = seen
    assert (event_type, state_key, redacts, was_encrypted) == ("m.room.message", None, None, True)


async def _note(seen: list[Any], ctx: Context) -> None:
    seen.append((ctx.event.type, ctx.event.state_key, ctx.event.redacts, ctx.event.encrypted))


async def test_the_reply_fallback_is_gone_before_observers_and_the_router(db, services) -> None:
    watcher, bodies = Feature(name="watcher"), []

    @watcher.observe("m.room.message")
    async def note(ctx: Context) -> None:
        bodies.append((ctx.event.body, ctx.event.content.get("formatted_body")))

    r = rig(db, services, [watcher])
    quoted = {"m.relates_to": {"m.in_reply_to": {"event_id": "$earlier"}}, "format": "org.matrix.custom.html"}
    await r.dispatcher.handle_event(IncomingEvent(
        event_id="$reply1", room_id=ROOM, sender=ALICE, type="m.room.message",
        content={**quoted, "msgtype": "m.text", "body": "> <@kari:localhost> I want to die\n> really\n\n!whoami",
                 "formatted_body": "<mx-reply><blockquote>I want to die</blockquote></mx-reply>!whoami"}))
    assert bodies == [("!whoami", "!whoami")]
    assert f"You are {ALICE}." in r.replies()[-1]
    # Quote lines in a message that is no reply are the writer's own.
    await r.dispatcher.handle_event(message("> my own words\n\nmore"))
    assert bodies[-1][0] == "> my own words\n\nmore"


async def test_a_crisis_message_in_an_unencrypted_room_gets_only_the_public_numbers(db, services) -> None:
    r = rig(db, services)
    await r.dispatcher.handle_event(message("Some nights I just want to die", room_id=PLAIN_ROOM))
    (reply,) = r.replies(PLAIN_ROOM)
    assert "116 123" in reply and "113" in reply and "consultant" not in reply
    with db.session() as s:
        assert [room for room, _ in queued(s)] == [PLAIN_ROOM]  # no private reply, no alert
    await r.dispatcher.handle_event(message("a sunny day", room_id=PLAIN_ROOM))
    assert len(r.replies(PLAIN_ROOM)) == 1


async def test_each_read_receipt_goes_to_the_receipt_observers_in_its_own_session(db, services) -> None:
    from nio import Receipt, ReceiptEvent

    watcher, seen = Feature(name="watcher"), []

    @watcher.observe("m.receipt")
    async def note(ctx: Context) -> None:
        seen.append((ctx.event.event_id, ctx.sender, ctx.event.content["event_id"]))

    r = rig(db, services, [watcher])
    await r.dispatcher.receipts(ROOM, ReceiptEvent(receipts=[Receipt("$a", "m.read", ALICE, 1),
                                                             Receipt("$b", "m.read", BOT, 2)]))
    assert seen == [(f"receipt:$a:{ALICE}", ALICE, "$a"), (f"receipt:$b:{BOT}", BOT, "$b")]
    assert r.db.opened == 2


# --- the per-person command limit ---------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limited_rig(db: Database, services: Services, burst: int, extra: Sequence[Feature] = ()) -> tuple[Rig, Clock]:
    r, clock = rig(db, services, extra), Clock()
    r.dispatcher.limiter = CommandLimiter(burst, per_minute=6, clock=clock)
    return r, clock


def from_(sender: str, body: str, room_id: str = ROOM) -> IncomingEvent:
    return IncomingEvent(event_id=f"$m{next(_ids)}", room_id=room_id, sender=sender, type="m.room.message",
                         content={"msgtype": "m.text", "body": body}, origin_server_ts=int(time.time() * 1000))


def test_the_dispatcher_limits_commands_by_default(db, services) -> None:
    rate = services.settings.bot.command_rate
    limiter = rig(db, services).dispatcher.limiter
    assert limiter is not None and (limiter.burst, limiter.per_second) == (rate.burst, rate.per_minute / 60)


async def test_a_flood_of_commands_gets_one_slow_down_and_the_rest_are_dropped(db, services) -> None:
    r, clock = limited_rig(db, services, burst=3)
    before = metrics.REGISTRY.get_sample_value("reconnect_commands_rate_limited_total") or 0
    flood = [message("!whoami") for _ in range(30)]
    for event in flood:
        await r.dispatcher.handle_event(event)
    replies = r.replies()
    assert len(replies) == 4
    assert all(f"You are {ALICE}." in reply for reply in replies[:3])
    assert "faster than I can answer everyone" in replies[3]
    assert all(r.handled(e.event_id) for e in flood)  # dropped, not left to be handled again
    assert metrics.REGISTRY.get_sample_value("reconnect_commands_rate_limited_total") == before + 27
    clock.now += 60  # a pause: the person is answered again
    await r.dispatcher.handle_event(message("!whoami"))
    assert f"You are {ALICE}." in r.replies()[-1] and len(r.replies()) == 5


async def test_the_slow_down_is_in_the_persons_language(db, services) -> None:
    r, _ = limited_rig(db, services, burst=1)
    await r.dispatcher.handle_event(message("!lang nb"))
    await r.dispatcher.handle_event(message("!whoami"))
    assert "raskere enn jeg rekker å svare alle" in r.replies()[-1]


async def test_observers_see_every_message_of_a_flood_and_the_crisis_watch_still_answers(db, services) -> None:
    watcher, seen = Feature(name="watcher"), []

    @watcher.observe("m.room.message")
    async def note(ctx: Context) -> None:
        seen.append(ctx.event.event_id)

    with db.session() as s:
        enrol(s, ALICE, "Alice")
    r, _ = limited_rig(db, services, burst=2, extra=[watcher])
    flood = [message(f"!goal add walk {n}") for n in range(10)] + [message("!diary I want to kill myself")]
    for event in flood:
        await r.dispatcher.handle_event(event)
    assert seen == [e.event_id for e in flood]
    crisis_replies = [reply for reply in r.replies() if "113" in reply]
    assert len(crisis_replies) == 1  # the crisis watch answered the last one, over the limit


async def test_staff_are_not_limited(db, services) -> None:
    consultant = services.settings.people.consultants[0]
    r, _ = limited_rig(db, services, burst=2)
    for _ in range(6):
        await r.dispatcher.handle_event(from_(consultant, "!whoami"))
    replies = r.replies()
    assert len(replies) == 6 and all(f"You are {consultant}." in reply for reply in replies)


async def test_the_crisis_plan_command_is_never_held_back(db, services) -> None:
    with db.session() as s:
        enrol(s, ALICE, "Alice")
    r, _ = limited_rig(db, services, burst=1)
    for _ in range(3):
        await r.dispatcher.handle_event(message("!whoami"))
    assert len(r.replies()) == 2  # one answer, one slow down
    await r.dispatcher.handle_event(message("!crisis"))
    assert "113" in r.replies()[-1] and len(r.replies()) == 3
