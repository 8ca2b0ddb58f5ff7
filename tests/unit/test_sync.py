"""The sync loop alone, over a real database and a fake of the nio client calls it makes: the
token is saved only after the sync was handed on, invites are accepted only from served servers,
and a refused sync changes nothing."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

from nio import ReceiptEvent, RoomGetStateResponse, RoomSendResponse, SyncError, SyncResponse

from bot import sender as sender_module
from bot.keys import KeyWork
from bot.models import BotState
from bot.outbox import enqueue, notice_content
from bot.roomstate import RoomState
from bot.sender import Sender
from bot.sync import Syncer
from tests.support.core import test_settings

BOT, ALICE = "@bot:localhost", "@alice:localhost"
ROOM = "!r:localhost"


def sync_response(next_batch: str, *, invites: dict[str, str] | None = None) -> SyncResponse:
    timeline = {"events": [{"type": "m.room.message", "event_id": f"$in-{next_batch}", "sender": ALICE,
                            "origin_server_ts": 1, "content": {"msgtype": "m.text", "body": "!whoami"}}],
                "limited": False, "prev_batch": "p"}
    invite = {room_id: {"invite_state": {"events": [{"type": "m.room.member", "state_key": BOT, "sender": inviter,
                                                     "content": {"membership": "invite"}}]}}
              for room_id, inviter in (invites or {}).items()}
    return SyncResponse.from_dict({"next_batch": next_batch, "rooms": {
        "join": {ROOM: {"timeline": timeline, "state": {"events": []}, "ephemeral": {"events": []},
                        "account_data": {"events": []}}},
        "invite": invite, "leave": {}}})


class FakeClient:
    def __init__(self, responses: list[Any]) -> None:
        self.user_id = BOT
        self.rooms = {ROOM: SimpleNamespace(encrypted=True, member_count=2)}
        self.next_batch = None
        self.should_upload_keys = self.should_query_keys = self.should_claim_keys = False
        self.responses = responses
        self.since: list[str | None] = []
        self.joined: list[str] = []
        self.left: list[str] = []

    async def sync(self, timeout: int, since: str | None, sync_filter: dict[str, Any]) -> Any:
        self.since.append(since)
        return self.responses.pop(0)

    async def send_to_device_messages(self) -> None:
        pass

    async def join(self, room_id: str) -> Any:
        self.joined.append(room_id)
        return SimpleNamespace()

    async def room_leave(self, room_id: str) -> None:
        self.left.append(room_id)


class RecordingDispatcher:
    """Notes each event, and whether a sync token was saved by the time it was handed on."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.seen: list[tuple[str, str, str | None]] = []
        self.awaiting_keys = False

    async def timeline_event(self, room_id: str, event: Any) -> None:
        with self.db.session() as s:
            token = s.get(BotState, "sync_token")
            self.seen.append((room_id, event.event_id, token.value if token else None))

    async def receipts(self, room_id: str, eph: ReceiptEvent) -> None:
        pass


def syncer_for(db: Any, client: FakeClient) -> tuple[Syncer, RecordingDispatcher]:
    settings = test_settings()
    dispatcher = RecordingDispatcher(db)
    syncer = Syncer(db, client, settings, RoomState(client, settings), KeyWork(client),  # type: ignore[arg-type]
                    dispatcher, asyncio.Lock())  # type: ignore[arg-type]
    return syncer, dispatcher


async def test_the_token_is_saved_only_after_the_sync_was_handed_on(db) -> None:
    client = FakeClient([sync_response("s1", invites={"!ours:localhost": "@dave:localhost",
                                                      "!theirs:elsewhere.org": "@carol:elsewhere.org"}),
                         sync_response("s2")])
    syncer, dispatcher = syncer_for(db, client)
    assert await syncer.sync_once(first=True)
    assert client.joined == ["!ours:localhost"] and client.left == ["!theirs:elsewhere.org"]
    assert await syncer.sync_once()
    assert client.since == [None, "s1"]
    assert dispatcher.seen == [(ROOM, "$in-s1", None), (ROOM, "$in-s2", "s1")]
    with db.session() as s:
        assert s.get(BotState, "sync_token").value == "s2"
    assert syncer.last_sync_at is not None


async def test_a_refused_sync_changes_nothing(db) -> None:
    client = FakeClient([SyncError("server trouble", "M_UNKNOWN")])
    syncer, dispatcher = syncer_for(db, client)
    assert not await syncer.sync_once()
    assert dispatcher.seen == [] and syncer.last_sync_at is None
    with db.session() as s:
        assert s.get(BotState, "sync_token") is None


async def test_rooms_take_turns_so_a_busy_room_does_not_hold_up_another(db) -> None:
    busy, quiet = "!busy:localhost", "!quiet:localhost"

    def timeline(room: str, count: int) -> dict[str, Any]:
        return {"timeline": {"events": [{"type": "m.room.message", "event_id": f"${room[1:5]}{n}", "sender": ALICE,
                                         "origin_server_ts": 1, "content": {"msgtype": "m.text", "body": "!whoami"}}
                                        for n in range(count)], "limited": False, "prev_batch": "p"},
                "state": {"events": []}, "ephemeral": {"events": []}, "account_data": {"events": []}}

    resp = SyncResponse.from_dict({"next_batch": "s1", "rooms": {
        "join": {busy: timeline(busy, 100), quiet: timeline(quiet, 2)}, "invite": {}, "leave": {}}})
    client = FakeClient([resp])
    client.rooms = {r: SimpleNamespace(encrypted=True, member_count=2) for r in (busy, quiet)}
    syncer, dispatcher = syncer_for(db, client)
    assert await syncer.sync_once(first=True)
    order = [event_id for _, event_id, _ in dispatcher.seen]
    assert order[:4] == ["$busy0", "$quie0", "$busy1", "$quie1"]
    assert [e for e in order if e.startswith("$busy")] == [f"$busy{n}" for n in range(100)]  # each in order
    assert len(order) == 102


async def test_a_reply_queued_in_a_sync_may_go_out_before_the_token_is_saved(db) -> None:
    """After handing the events on, the sync loop gives the outbox a turn of the event loop before
    it saves the token and sets up the next long poll: the reply is not kept waiting for them."""
    client = FakeClient([sync_response("s1")])
    syncer, dispatcher = syncer_for(db, client)
    woken = asyncio.Event()
    token_when_sent: list[str | None] = []

    async def outbox() -> None:
        await woken.wait()
        with db.session() as s:
            token = s.get(BotState, "sync_token")
            token_when_sent.append(token.value if token else None)

    sending = asyncio.create_task(outbox())
    await asyncio.sleep(0)
    handed_on = dispatcher.timeline_event

    async def wake_outbox(room_id: str, event: Any) -> None:
        await handed_on(room_id, event)
        woken.set()  # as the dispatcher does when a reply is queued

    dispatcher.timeline_event = wake_outbox  # type: ignore[method-assign]
    assert await syncer.sync_once(first=True)
    await sending
    assert token_when_sent == [None]
    with db.session() as s:
        assert s.get(BotState, "sync_token").value == "s1"


class SendingClient(FakeClient):
    """Also sends (for a real :class:`Sender`): each PUT waits until the test lets it be answered,
    and every request is noted in order."""

    def __init__(self, responses: list[Any]) -> None:
        super().__init__(responses)
        self.rooms = {ROOM: SimpleNamespace(encrypted=False, member_count=2, members_synced=True)}
        self.olm = None
        self.requests: list[str] = []
        self.answer = asyncio.Event()

    async def sync(self, timeout: int, since: str | None, sync_filter: dict[str, Any]) -> Any:
        self.requests.append("sync")
        return await super().sync(timeout, since, sync_filter)

    async def room_get_state(self, room_id: str) -> Any:
        return RoomGetStateResponse(events=[], room_id=room_id)

    async def room_send(self, room_id: str, message_type: str, content: dict[str, Any], tx_id: str | None = None,
                        ignore_unverified_devices: bool = False) -> Any:
        self.requests.append("put")
        await self.answer.wait()
        self.requests.append("put answered")
        return RoomSendResponse(event_id="$reply", room_id=room_id)


class ReplyingDispatcher(RecordingDispatcher):
    """Queues a reply to each event and wakes the sender, as the real dispatcher does."""

    def __init__(self, db: Any, sender: Sender) -> None:
        super().__init__(db)
        self.sender = sender

    async def timeline_event(self, room_id: str, event: Any) -> None:
        await super().timeline_event(room_id, event)
        with self.db.session() as s:
            row = enqueue(s, room_id, notice_content("the reply"))
            txn_id = row.txn_id
        self.sender.note_cause([txn_id], time.time())
        self.sender.wake()


async def _sync_with_a_reply(db: Any, client: SendingClient) -> tuple[Syncer, Sender]:
    settings = test_settings()
    rooms, keys = RoomState(client, settings), KeyWork(client)  # type: ignore[arg-type]
    sender = Sender(db, client, settings, rooms, keys, asyncio.Lock())  # type: ignore[arg-type]
    syncer = Syncer(db, client, settings, rooms, keys, ReplyingDispatcher(db, sender),  # type: ignore[arg-type]
                    asyncio.Lock(), replies_out=sender.replies_out)
    return syncer, sender


async def test_the_next_long_poll_waits_until_the_replies_put_is_answered(db) -> None:
    """The echo bot sends its reply and only then syncs again; the bot did too little of that: its
    next long poll went out while the reply's PUT was on its way, so the homeserver handled both at
    once (the PUT measured ≈ 5 ms longer than the echo's in ``bench.latency``)."""
    client = SendingClient([sync_response("s1"), sync_response("s2")])
    syncer, sender = await _sync_with_a_reply(db, client)
    stopping = asyncio.Event()
    sending = asyncio.create_task(sender.run(stopping))
    try:
        await asyncio.sleep(0.01)  # the sender's first (empty) wave
        polling = asyncio.create_task(syncer.run(stopping))
        await asyncio.sleep(0.2)
        assert client.requests == ["sync", "put"]  # no second sync while the PUT is unanswered
        client.answer.set()
        await asyncio.sleep(0.05)
        assert client.requests[:4] == ["sync", "put", "put answered", "sync"]
    finally:
        stopping.set()
        for task in (sending, polling):
            task.cancel()
        await asyncio.gather(sending, polling, return_exceptions=True)


async def test_a_reply_that_is_not_answered_holds_up_the_sync_loop_only_so_long(db, monkeypatch) -> None:
    client = SendingClient([sync_response("s1"), sync_response("s2")])
    syncer, sender = await _sync_with_a_reply(db, client)
    monkeypatch.setattr(sender_module, "REPLIES_WAIT_S", 0.1)
    stopping = asyncio.Event()
    sending = asyncio.create_task(sender.run(stopping))
    try:
        await asyncio.sleep(0.01)
        started = time.monotonic()
        assert await syncer.sync_once()
        assert 0.08 < time.monotonic() - started < 2
        assert client.requests == ["sync", "put"]
    finally:
        stopping.set()
        sending.cancel()
        await asyncio.gather(sending, return_exceptions=True)


async def test_without_a_running_sender_a_sync_does_not_wait_for_its_replies(db) -> None:
    """At start the first sync comes before the sender runs: its replies wait for the sender."""
    client = SendingClient([sync_response("s1")])
    syncer, _ = await _sync_with_a_reply(db, client)
    started = time.monotonic()
    assert await syncer.sync_once(first=True)
    assert time.monotonic() - started < 0.5 and client.requests == ["sync"]


async def test_a_reply_behind_a_wave_already_on_its_way_does_not_hold_up_the_sync_loop(db, monkeypatch) -> None:
    """A reply queued while the sender is in the middle of a wave (a fan-out of reminders, say)
    goes out in the next wave; the sync loop does not wait for that wave to end."""
    client = SendingClient([sync_response("s1")])
    syncer, sender = await _sync_with_a_reply(db, client)
    monkeypatch.setattr(sender_module, "REPLIES_WAIT_S", 1.0)
    stopping = asyncio.Event()
    sending = asyncio.create_task(sender.run(stopping))
    try:
        await asyncio.sleep(0.01)
        with db.session() as s:
            enqueue(s, ROOM, notice_content("a reminder"))
        sender.wake()
        await asyncio.sleep(0.01)
        assert client.requests == ["put"]  # the reminder's PUT, not answered yet
        started = time.monotonic()
        assert await syncer.sync_once()
        assert time.monotonic() - started < 0.5
        assert client.requests == ["put", "sync"]
    finally:
        stopping.set()
        sending.cancel()
        await asyncio.gather(sending, return_exceptions=True)
