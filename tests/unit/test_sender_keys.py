"""The outbox sender's key work for a wave: one claim of one-time keys for every device missing an
Olm session in any of the wave's rooms, instead of one claim per room as each send comes (a café
reminder to 2,000 people made 2,000 claims, each holding up every other send)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from nio import RoomGetStateResponse, RoomSendResponse
from sqlalchemy import select

from bot.keys import KeyWork
from bot.models import OutboxMessage, SentEvent
from bot.outbox import enqueue, notice_content
from bot.roomstate import RoomState
from bot.sender import Sender
from tests.support.core import test_settings


class FakeOlm:
    def __init__(self, client: "KeyClient") -> None:
        self.client = client
        self.shared: set[str] = set()

    def should_share_group_session(self, room_id: str) -> bool:
        return room_id not in self.shared

    def update_tracked_users(self, room: Any) -> None:
        pass

    outbound_group_sessions: dict[str, Any] = {}
    store = None

    def share_group_session_parallel(self, room_id: str, users: list[str], ignore_unverified_devices: bool = False
                                     ) -> Any:
        return iter(())  # (room_send shares in this fake)


class KeyClient:
    """Encrypted rooms with one person each, whose two devices have no Olm session yet."""

    def __init__(self, rooms: list[str]) -> None:
        self.member = {r: f"@p{i}:localhost" for i, r in enumerate(rooms)}
        self.rooms = {r: SimpleNamespace(encrypted=True, members_synced=True, users={}) for r in rooms}
        self.encrypted_rooms = set(rooms)
        self.store = None
        self.user_id = "@bot:localhost"
        self.next_batch = "s1"
        self.olm = FakeOlm(self)
        self.should_query_keys = False
        self.should_claim_keys = False
        self.sessions: set[tuple[str, str]] = set()
        self.claims: list[dict[str, list[str]]] = []
        self.sent: list[str] = []
        self.sharing_session: dict[str, asyncio.Event] = {}

    async def room_get_state(self, room_id: str) -> RoomGetStateResponse:
        return RoomGetStateResponse(events=[], room_id=room_id)

    def get_missing_sessions(self, room_id: str) -> dict[str, list[str]]:
        user = self.member[room_id]
        missing = [d for d in ("PHONE", "LAPTOP") if (user, d) not in self.sessions]
        return {user: missing} if missing else {}

    async def keys_claim(self, users: dict[str, list[str]]) -> None:
        self.claims.append({u: sorted(d) for u, d in users.items()})
        self.sessions.update((u, d) for u, devices in users.items() for d in devices)

    async def room_send(self, room_id, message_type, content, tx_id=None, ignore_unverified_devices=False):
        # as nio does: the group session is shared with every device, each needing an Olm session
        if room_id not in self.olm.shared:
            assert not self.get_missing_sessions(room_id), "sent before the devices' sessions were claimed"
        self.olm.shared.add(room_id)
        self.sent.append(room_id)
        await asyncio.sleep(0)
        return RoomSendResponse(event_id=f"$ev{len(self.sent)}", room_id=room_id)


async def test_a_wave_claims_one_time_keys_for_all_its_rooms_at_once(db):
    rooms = [f"!r{i}:localhost" for i in range(6)]
    client = KeyClient(rooms)
    settings = test_settings()
    sender = Sender(db, client, settings, RoomState(client, settings), KeyWork(client), asyncio.Lock())  # type: ignore[arg-type]
    with db.session() as s:
        for room in rooms:
            enqueue(s, room, notice_content("the café is in two hours"), txn_id=f"rem-{room}")
    assert await sender.send_wave()
    assert sorted(client.sent) == sorted(rooms)
    assert client.claims == [{f"@p{i}:localhost": ["LAPTOP", "PHONE"] for i in range(6)}]
    with db.session() as s:
        assert s.scalars(select(OutboxMessage)).all() == []
        assert len(s.scalars(select(SentEvent)).all()) == 6


async def test_a_room_with_its_session_shared_claims_nothing_more(db):
    rooms = ["!a:localhost", "!b:localhost"]
    client = KeyClient(rooms)
    client.olm.shared.add("!a:localhost")  # the bot already shared a session there
    settings = test_settings()
    sender = Sender(db, client, settings, RoomState(client, settings), KeyWork(client), asyncio.Lock())  # type: ignore[arg-type]
    client.sessions.add(("@p0:localhost", "PHONE"))
    with db.session() as s:
        enqueue(s, "!a:localhost", notice_content("one"), txn_id="one")
        enqueue(s, "!b:localhost", notice_content("two"), txn_id="two")
    assert await sender.send_wave()
    assert client.claims == [{"@p1:localhost": ["LAPTOP", "PHONE"]}]
