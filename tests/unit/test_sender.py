"""The outbox sender: honours retry_after_ms, keeps order per room, never drops a reply. Each
test builds a ``Sender`` over a real database and a fake of the few nio client methods it uses."""

from __future__ import annotations

import asyncio
import json
import time
from types import SimpleNamespace
from typing import Any

from nio import RoomGetStateError, RoomGetStateResponse, RoomSendError, RoomSendResponse
from sqlalchemy import select

from bot.config import Settings
from bot.db import Database, current_cipher
from bot.keys import KeyGate, KeyWork
from bot.models import OutboxMessage, SentEvent
from bot.outbox import enqueue, notice_content
from bot.roomstate import RoomState
from bot.sender import ROOM_TURN, Sender
from tests.support.core import test_settings


def sender_for(db: Database, client: Any, settings: Settings | None = None) -> Sender:
    settings = settings or test_settings()
    return Sender(db, client, settings, RoomState(client, settings), KeyWork(client), asyncio.Lock())


async def _state_of(self, room_id):
    """A fake ``room_get_state``: an empty state for a room the client is in, else M_FORBIDDEN."""
    if room_id in self.rooms:
        return RoomGetStateResponse(events=[], room_id=room_id)
    return RoomGetStateError("not in room", "M_FORBIDDEN", None, False, room_id)


class FlakyClient:
    """Answers the first send with M_LIMIT_EXCEEDED, then accepts."""

    def __init__(self) -> None:
        self.rooms = {"!r:localhost": SimpleNamespace(encrypted=False, members_synced=True)}
        self.olm = None
        self.next_batch = "s1"
        self.should_query_keys = False
        self.should_claim_keys = False
        self.sent: list[tuple[str, str, float]] = []
        self.limited = 1

    room_get_state = _state_of

    async def room_send(self, room_id, message_type, content, tx_id=None, ignore_unverified_devices=False):
        if self.limited:
            self.limited -= 1
            return RoomSendError("slow down", "M_LIMIT_EXCEEDED", 300, False, room_id)
        self.sent.append((tx_id, content["body"], time.monotonic()))
        return RoomSendResponse(event_id=f"$ev{len(self.sent)}", room_id=room_id)


async def test_rate_limited_send_waits_and_keeps_order(db):
    client = FlakyClient()
    sender = sender_for(db, client)
    with db.session() as s:
        for n in range(3):
            enqueue(s, "!r:localhost", notice_content(f"reply {n}"), txn_id=f"t{n}")
    started = time.monotonic()
    while True:
        with db.session() as s:
            if not s.scalars(select(OutboxMessage)).all():
                break
        await sender.send_wave()
        assert time.monotonic() - started < 10
    assert [body for _, body, _ in client.sent] == ["reply 0", "reply 1", "reply 2"]
    assert client.sent[0][2] - started >= 0.3  # waited retry_after_ms
    with db.session() as s:
        assert {e.txn_id for e in s.scalars(select(SentEvent))} == {"t0", "t1", "t2"}


async def test_a_room_the_bot_cannot_read_keeps_its_message_and_holds_up_no_other(db):
    client = FlakyClient()
    client.limited = 0
    sender = sender_for(db, client)
    with db.session() as s:
        enqueue(s, "!later:localhost", notice_content("hello"))
        enqueue(s, "!r:localhost", notice_content("elsewhere"))
    await sender.send_wave()
    assert [body for _, body, _ in client.sent] == ["elsewhere"]
    with db.session() as s:
        (row,) = s.scalars(select(OutboxMessage)).all()
        assert json.loads(row.content)["body"] == "hello" and row.attempts == 1


async def test_unreadable_row_is_set_aside_and_does_not_block_the_queue(db):
    from bot.db import FieldCipher, Token
    from bot.models import OutboxMessage as Row

    client = FlakyClient()
    client.limited = 0
    sender = sender_for(db, client)
    with db.session() as s:
        enqueue(s, "!r:localhost", notice_content("first"), txn_id="bad")
        enqueue(s, "!r:localhost", notice_content("second"), txn_id="good")
        s.flush()
        sealed_elsewhere = Token(FieldCipher(b"z" * 32).encrypt("{}"))
        s.execute(Row.__table__.update().where(Row.txn_id == "bad").values(content=sealed_elsewhere))
    await sender.send_wave()
    assert [body for _, body, _ in client.sent] == ["second"]
    with db.session() as s:
        (left,) = s.execute(select(Row.txn_id, Row.attempts)).all()  # its content does not open
        assert left.txn_id == "bad" and left.attempts >= 8


class SlowClient:
    """Accepts every send after a short delay; records how many sends overlapped."""

    def __init__(self, rooms: list[str], refuse_in: str | None = None) -> None:
        self.rooms = {r: SimpleNamespace(encrypted=False, members_synced=True) for r in rooms}
        self.olm = None
        self.next_batch = "s1"
        self.should_query_keys = False
        self.should_claim_keys = False
        self.refuse_in = refuse_in
        self.sent: list[tuple[str, str]] = []
        self.in_flight = 0
        self.most_in_flight = 0

    room_get_state = _state_of

    async def room_send(self, room_id, message_type, content, tx_id=None, ignore_unverified_devices=False):
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.02)
        finally:
            self.in_flight -= 1
        if room_id == self.refuse_in:
            return RoomSendError("server error", "M_UNKNOWN_ERROR", None, False, room_id)
        self.sent.append((room_id, content["body"]))
        return RoomSendResponse(event_id=f"$ev{len(self.sent)}", room_id=room_id)


def queued_in_rooms(db, client: SlowClient, concurrency: int, per_room: int) -> Sender:
    """A sender whose outbox holds ``per_room`` messages for each of the client's rooms."""
    settings = test_settings()
    settings.bot.send_concurrency = concurrency
    sender = sender_for(db, client, settings)
    with db.session() as s:
        for n in range(per_room):
            for room in client.rooms:
                enqueue(s, room, notice_content(f"{room} {n}"), txn_id=f"{room}-{n}")
    return sender


async def test_rooms_are_sent_to_side_by_side_each_in_order(db):
    rooms = [f"!r{i}:localhost" for i in range(6)]
    client = SlowClient(rooms)
    sender = queued_in_rooms(db, client, concurrency=3, per_room=4)
    assert await sender.send_wave()
    assert 2 <= client.most_in_flight <= 3
    for room in rooms:
        assert [body for r, body in client.sent if r == room] == [f"{room} {n}" for n in range(4)]
    with db.session() as s:
        assert s.scalars(select(OutboxMessage)).all() == []
        assert len(s.scalars(select(SentEvent)).all()) == 24


async def test_an_outage_in_one_room_ends_the_wave_and_keeps_what_was_sent(db):
    settings = test_settings()
    settings.bot.send_concurrency = 1
    client = SlowClient(["!a:localhost", "!b:localhost"], refuse_in="!b:localhost")
    sender = sender_for(db, client, settings)
    with db.session() as s:
        enqueue(s, "!a:localhost", notice_content("a"), txn_id="a")
        enqueue(s, "!b:localhost", notice_content("b"), txn_id="b")
        enqueue(s, "!a:localhost", notice_content("a2"), txn_id="a2")
    await sender.send_wave()
    with db.session() as s:
        assert {e.txn_id for e in s.scalars(select(SentEvent))} == {"a", "a2"}
        assert [r.txn_id for r in s.scalars(select(OutboxMessage))] == ["b"]


async def test_a_room_quiet_since_the_last_run_gets_its_state_once_before_sending():
    """The first sync after start is incremental, so a quiet room is unknown to nio until the
    bot needs it: its state is fetched once, and it is known as encrypted, with its members."""
    room_id, bot_id = "!quiet:localhost", "@bot:localhost"

    def state(event_type: str, state_key: str, content: dict, n: int) -> dict:
        return {"type": event_type, "state_key": state_key, "content": content, "sender": bot_id,
                "event_id": f"$s{n}", "origin_server_ts": 1, "room_id": room_id}

    class StateClient:
        def __init__(self) -> None:
            self.rooms: dict = {}
            self.encrypted_rooms: set[str] = set()
            self.user_id, self.store, self.olm, self.next_batch = bot_id, None, None, "s1"
            self.fetched = 0

        async def room_get_state(self, rid):
            self.fetched += 1
            return RoomGetStateResponse(events=[
                state("m.room.create", "", {"creator": bot_id, "room_version": "10"}, 1),
                state("m.room.member", bot_id, {"membership": "join"}, 2),
                state("m.room.member", "@alice:localhost", {"membership": "join"}, 3),
                state("m.room.encryption", "", {"algorithm": "m.megolm.v1.aes-sha2"}, 4),
            ], room_id=rid)

    client = StateClient()
    rooms = RoomState(client, test_settings())  # type: ignore[arg-type]
    assert await rooms.ensure_room(room_id)
    assert await rooms.ensure_room(room_id)
    room = client.rooms[room_id]
    assert client.fetched == 1
    assert room.encrypted and room_id in client.encrypted_rooms and room.members_synced
    assert set(room.users) == {bot_id, "@alice:localhost"}


async def test_a_key_query_waits_for_sends_in_flight_and_goes_before_new_ones():
    gate, order = KeyGate(), []

    async def send(name: str, hold: float) -> None:
        async with gate.shared():
            order.append(f"{name} start")
            await asyncio.sleep(hold)
            order.append(f"{name} end")

    async def query() -> None:
        async with gate.exclusive():
            order.append("query")

    first = asyncio.create_task(send("a", 0.05))
    await asyncio.sleep(0.01)
    waiting = asyncio.create_task(query())
    await asyncio.sleep(0.01)
    later = asyncio.create_task(send("b", 0))
    await asyncio.gather(first, waiting, later)
    assert order == ["a start", "a end", "query", "b start", "b end"]


async def test_an_unexpected_error_in_one_room_ends_the_wave_with_nothing_left_running(db):
    rooms = [f"!r{i}:localhost" for i in range(4)]
    client = SlowClient(rooms)
    original = client.room_send

    async def room_send(room_id, *args, **kwargs):
        if room_id == "!r0:localhost":
            await asyncio.sleep(0.01)  # the other rooms' first sends are in flight by now
            raise KeyError("a bug")
        return await original(room_id, *args, **kwargs)

    client.room_send = room_send  # type: ignore[method-assign]
    sender = queued_in_rooms(db, client, concurrency=4, per_room=3)
    try:
        await sender.send_wave()
    except KeyError:
        pass
    assert client.in_flight == 0
    with db.session() as s:
        recorded = {e.txn_id for e in s.scalars(select(SentEvent))}
        queued = {r.txn_id for r in s.scalars(select(OutboxMessage))}
    assert recorded  # the sends already in flight in other rooms finished and were recorded
    assert recorded | queued == {f"{room}-{n}" for room in rooms for n in range(3)} and not recorded & queued
    assert {t for t in queued if t.startswith("!r0")} == {"!r0:localhost-0", "!r0:localhost-1", "!r0:localhost-2"}
    sent_bodies = [body for _, body in client.sent]
    assert len(sent_bodies) == len(recorded)


async def test_a_state_snapshot_older_than_a_sync_is_read_again():
    room_id = "!moving:localhost"

    class MovingClient:
        def __init__(self) -> None:
            self.rooms: dict = {}
            self.encrypted_rooms: set[str] = set()
            self.user_id, self.store, self.olm, self.next_batch = "@bot:localhost", None, None, "s1"
            self.fetched = 0

        async def room_get_state(self, rid):
            self.fetched += 1
            if self.fetched == 1:
                self.next_batch = "s2"  # a sync was handled while this request was on its way
            return RoomGetStateResponse(events=[], room_id=rid)

    client = MovingClient()
    rooms = RoomState(client, test_settings())  # type: ignore[arg-type]
    assert await rooms.ensure_room(room_id)
    assert client.fetched == 2


async def test_each_row_is_unsealed_and_decoded_once_on_its_way_out(db, content_cipher, monkeypatch):
    import bot.sender

    # The cipher in force (an in-process bot of an integration test may have installed its own).
    cipher = current_cipher()
    unsealed: list[str] = []
    decoded: list[str] = []
    real_decrypt = cipher.decrypt

    def decrypt(token: str, aad: bytes = b"") -> str:
        unsealed.append(token)
        return real_decrypt(token, aad)

    def loads(text: str) -> Any:
        decoded.append(text)
        return json.loads(text)

    client = FlakyClient()
    client.limited = 0
    sender = sender_for(db, client)
    with db.session() as s:
        for n in range(3):
            enqueue(s, "!r:localhost", notice_content(f"reply {n}"), txn_id=f"t{n}")
    monkeypatch.setattr(cipher, "decrypt", decrypt)
    monkeypatch.setattr(bot.sender, "json", SimpleNamespace(loads=loads))
    assert await sender.send_wave()
    assert [body for _, body, _ in client.sent] == ["reply 0", "reply 1", "reply 2"]
    assert len(unsealed) == 3 and len(decoded) == 3


async def test_a_row_whose_content_is_not_an_object_is_set_aside(db, caplog):
    client = FlakyClient()
    client.limited = 0
    sender = sender_for(db, client)
    with db.session() as s:
        enqueue(s, "!r:localhost", notice_content("first"), txn_id="list")
        enqueue(s, "!r:localhost", notice_content("second"), txn_id="fine")
        s.flush()
        s.scalar(select(OutboxMessage).where(OutboxMessage.txn_id == "list")).content = "[1, 2]"
        # (sealed on flush: JSON, but not an object)
    await sender.send_wave()
    assert "cannot be read (TypeError)" in caplog.text
    assert [body for _, body, _ in client.sent] == ["second"]
    with db.session() as s:
        (left,) = s.scalars(select(OutboxMessage)).all()
        assert left.txn_id == "list" and left.attempts >= 8



async def test_a_rate_limit_ends_the_wave_for_every_room_and_costs_no_attempt(db):
    class LimitedClient(SlowClient):
        async def room_send(self, room_id, message_type, content, tx_id=None, ignore_unverified_devices=False):
            if room_id == "!a:localhost":
                return RoomSendError("slow down", "M_LIMIT_EXCEEDED", 10, False, room_id)
            return await super().room_send(room_id, message_type, content, tx_id, ignore_unverified_devices)

    client = LimitedClient(["!a:localhost", "!b:localhost"])
    sender = queued_in_rooms(db, client, concurrency=1, per_room=2)
    assert not await sender.send_wave()
    assert client.sent == []  # the other room waited for the next wave
    with db.session() as s:
        rows = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [r.txn_id for r in rows] == ["!a:localhost-0", "!b:localhost-0", "!a:localhost-1", "!b:localhost-1"]
    assert all(r.attempts == 0 for r in rows)


async def test_a_flooded_room_does_not_hold_up_another_rooms_reply(db):
    """300 messages queued for one room, then one for another: the other room's message goes out
    in the first wave, even with one room at a time, and the flooded room keeps its order."""
    settings = test_settings()
    settings.bot.send_concurrency = 1
    client = SlowClient(["!flood:localhost", "!quiet:localhost"])

    async def fast_send(room_id, message_type, content, tx_id=None, ignore_unverified_devices=False):
        await asyncio.sleep(0)
        client.sent.append((room_id, content["body"]))
        return RoomSendResponse(event_id=f"$ev{len(client.sent)}", room_id=room_id)

    client.room_send = fast_send  # type: ignore[method-assign]
    sender = sender_for(db, client, settings)
    with db.session() as s:
        for n in range(300):
            enqueue(s, "!flood:localhost", notice_content(f"flood {n}"), txn_id=f"flood-{n}")
        enqueue(s, "!quiet:localhost", notice_content("your reply"), txn_id="quiet")
    assert await sender.send_wave()
    assert ("!quiet:localhost", "your reply") in client.sent
    assert client.sent.index(("!quiet:localhost", "your reply")) <= ROOM_TURN  # behind one turn at most
    while await sender.send_wave():
        pass
    assert [body for r, body in client.sent if r == "!flood:localhost"] == [f"flood {n}" for n in range(300)]
    with db.session() as s:
        assert s.scalars(select(OutboxMessage)).all() == []
        txns = [e.txn_id for e in s.scalars(select(SentEvent))]
    assert sorted(txns) == sorted([f"flood-{n}" for n in range(300)] + ["quiet"])  # each once, none lost


async def test_rooms_take_turns_wave_by_wave_each_in_order(db):
    rooms = ["!a:localhost", "!b:localhost", "!c:localhost"]
    client = SlowClient(rooms)
    sender = queued_in_rooms(db, client, concurrency=1, per_room=2 * ROOM_TURN + 2)
    with db.session() as s:
        enqueue(s, "!late:localhost", notice_content("late"), txn_id="late")
    client.rooms["!late:localhost"] = SimpleNamespace(encrypted=False, members_synced=True)
    waves = 0
    while await sender.send_wave():
        waves += 1
    assert waves == 3
    a, b, c = rooms
    turn = [a] * ROOM_TURN + [b] * ROOM_TURN + [c] * ROOM_TURN
    # Each wave a turn of every room, in the order they have waited (the late room after them).
    assert [room for room, _ in client.sent] == turn + ["!late:localhost"] + turn + [a] * 2 + [b] * 2 + [c] * 2
    for room in rooms:
        assert [body for r, body in client.sent if r == room] == [f"{room} {n}" for n in range(2 * ROOM_TURN + 2)]



async def test_a_reply_is_on_its_way_one_turn_of_the_loop_after_the_wake(db):
    """A woken sender sends a one-room wave at once: no task of its own for the wait, none for
    the room (each would be another turn of the event loop before the reply leaves)."""
    client = FlakyClient()
    client.limited = 0
    sender = sender_for(db, client)
    stopping = asyncio.Event()
    running = asyncio.create_task(sender.run(stopping))
    try:
        for _ in range(5):  # the first, empty wave; then it waits
            await asyncio.sleep(0)
        assert client.sent == []
        with db.session() as s:
            enqueue(s, "!r:localhost", notice_content("your reply"), txn_id="reply")
        sender.wake()
        await asyncio.sleep(0)
        assert [body for _, body, _ in client.sent] == ["your reply"]
    finally:
        stopping.set()
        running.cancel()
        try:
            await running
        except asyncio.CancelledError:
            pass
