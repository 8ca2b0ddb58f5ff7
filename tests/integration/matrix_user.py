"""A real person on the test homeserver: a matrix-nio client with its own encrypted store."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from nio import (
    AsyncClient,
    AsyncClientConfig,
    DownloadResponse,
    Event,
    InviteMemberEvent,
    LoginResponse,
    MegolmEvent,
    RoomCreateResponse,
    RoomSendResponse,
    SyncResponse,
)
from nio.crypto.attachments import decrypt_attachment

ENCRYPTION = {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


@dataclass
class Received:
    room_id: str
    event_id: str
    sender: str
    type: str
    content: dict[str, Any]
    decrypted: bool

    @property
    def body(self) -> str:
        return str(self.content.get("body", ""))


class MatrixUser:
    def __init__(self, homeserver: str, user_id: str, password: str, store_dir: Path, *, auto_join: bool = True) -> None:
        store_dir.mkdir(parents=True, exist_ok=True)
        self.user_id = user_id
        self.password = password
        self.auto_join = auto_join
        self.client = AsyncClient(homeserver, user_id, store_path=str(store_dir),
                                  config=AsyncClientConfig(store_sync_tokens=True, encryption_enabled=True))
        self.received: list[Received] = []
        self.undecryptable: list[Received] = []
        self.invites: list[str] = []
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    async def login(self) -> None:
        resp = await self.client.login(self.password, device_name="test device")
        assert isinstance(resp, LoginResponse), resp
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        self.client.add_event_callback(self._on_event, Event)
        self.client.add_event_callback(self._on_event, MegolmEvent)
        first = await self.client.sync(timeout=0, full_state=True)
        assert isinstance(first, SyncResponse), first
        self._task = asyncio.create_task(self._sync_loop())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        await self.client.close()

    async def _sync_loop(self) -> None:
        while True:
            try:
                resp = await self.client.sync(timeout=3000)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - homeserver restarts in outage tests
                await asyncio.sleep(0.5)
                continue
            if not isinstance(resp, SyncResponse):
                await asyncio.sleep(0.5)
                continue
            await self._keys()
            for room_id in resp.rooms.invite:
                if room_id not in self.invites:
                    self.invites.append(room_id)
                    if self.auto_join:
                        await self.client.join(room_id)
            async with self._changed:
                self._changed.notify_all()

    async def _keys(self) -> None:
        c = self.client
        await c.send_to_device_messages()
        if c.should_upload_keys:
            await c.keys_upload()
        if c.should_query_keys:
            await c.keys_query()
        if c.should_claim_keys:
            await c.keys_claim(c.get_users_for_key_claiming())

    async def _on_event(self, room, event) -> None:
        if isinstance(event, InviteMemberEvent):
            return
        src = event.source if isinstance(getattr(event, "source", None), dict) else {}
        item = Received(room.room_id, getattr(event, "event_id", ""), getattr(event, "sender", ""),
                        src.get("type", ""), src.get("content", {}) or {}, not isinstance(event, MegolmEvent))
        if isinstance(event, MegolmEvent):
            self.undecryptable.append(item)
        elif any(r.event_id == item.event_id for r in self.received[-50:]):
            return
        else:
            self.received.append(item)

    # --- rooms -----------------------------------------------------------------------------
    async def dm(self, other: str, timeout: float = 30) -> str:
        """An encrypted direct chat with ``other``, returned once they have joined."""
        resp = await self.client.room_create(is_direct=True, invite=[other], initial_state=[ENCRYPTION])
        assert isinstance(resp, RoomCreateResponse), resp
        await self.wait_joined(resp.room_id, other, timeout)
        return resp.room_id

    async def wait_joined(self, room_id: str, other: str, timeout: float = 30) -> None:
        await self.until(lambda: room_id in self.client.rooms and other in self.client.rooms[room_id].users
                         and other not in self.client.rooms[room_id].invited_users, timeout,
                         f"{other} to join {room_id}")

    async def wait_invite(self, predicate: Callable[[str], bool] | None = None, timeout: float = 30) -> str:
        """The next room we were invited to (and joined, with auto_join)."""
        seen = len(self.invites)

        def found() -> str | None:
            for room_id in self.invites[seen:] if predicate is None else self.invites:
                if predicate is None or predicate(room_id):
                    return room_id
            return None

        await self.until(lambda: found() is not None, timeout, "an invite")
        room_id = found()
        assert room_id is not None
        if self.auto_join:
            await self.until(lambda: room_id in self.client.rooms, timeout, f"joining {room_id}")
        return room_id

    # --- messages ----------------------------------------------------------------------------
    async def send(self, room_id: str, body: str, extra: dict[str, Any] | None = None,
                   event_type: str = "m.room.message") -> str:
        await self._keys()
        content = {"msgtype": "m.text", "body": body} if event_type == "m.room.message" else {}
        content.update(extra or {})
        resp = await self.client.room_send(room_id, event_type, content, ignore_unverified_devices=True)
        assert isinstance(resp, RoomSendResponse), resp
        return resp.event_id

    async def put_event(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        """Send an event exactly as given, bypassing the client's encryption (for hostile input)."""
        import uuid

        import aiohttp

        url = f"{self.client.homeserver}/_matrix/client/v3/rooms/{room_id}/send/{event_type}/{uuid.uuid4().hex}"
        async with aiohttp.ClientSession() as http:
            async with http.put(url, json=content, headers={"Authorization": f"Bearer {self.client.access_token}"}) as r:
                data = await r.json()
                assert r.status == 200, data
                return data["event_id"]

    async def react(self, room_id: str, event_id: str, key: str) -> str:
        return await self.send(room_id, "", {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id,
                                                              "key": key}}, event_type="m.reaction")

    async def wait_for(self, predicate: Callable[[Received], bool], timeout: float = 30, after: int = 0,
                       what: str = "a message") -> Received:
        def found() -> Received | None:
            for item in self.received[after:]:
                if predicate(item):
                    return item
            return None

        await self.until(lambda: found() is not None, timeout, what)
        item = found()
        assert item is not None
        return item

    async def ask(self, room_id: str, body: str, sender: str, timeout: float = 30) -> Received:
        """Send ``body`` and wait for the next notice from ``sender`` in that room."""
        mark = len(self.received)
        await self.send(room_id, body)
        return await self.wait_for(
            lambda r: r.room_id == room_id and r.sender == sender and r.type == "m.room.message", timeout, mark,
            what=f"a reply to a command in {room_id}")

    def notices(self, room_id: str, sender: str) -> list[Received]:
        return [r for r in self.received if r.room_id == room_id and r.sender == sender and r.type == "m.room.message"]

    async def download(self, content: dict[str, Any]) -> bytes:
        """Download and decrypt an encrypted attachment."""
        file = content["file"]
        server, media_id = file["url"][len("mxc://"):].split("/", 1)
        resp = await self.client.download(server_name=server, media_id=media_id)
        assert isinstance(resp, DownloadResponse), resp
        return decrypt_attachment(resp.body, file["key"]["k"], file["hashes"]["sha256"], file["iv"])

    async def until(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        async with self._changed:
            while not condition():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.user_id} waited {timeout:.0f} s for {what}")
                try:
                    await asyncio.wait_for(self._changed.wait(), timeout=min(left, 1.0))
                except asyncio.TimeoutError:
                    pass
