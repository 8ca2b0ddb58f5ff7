"""Device-key work: the gate between key queries and claims (exclusive) and sends (shared), the
key work after each sync, and the key preparation before encrypting in a room."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from nio import AsyncClient


class KeyGate:
    """Device-key work (queries, claims) is exclusive; sends are shared. A key query that
    finishes while a room's group session is being shared would invalidate nothing (the session
    is not marked shared yet) and the new device would never get the key, so no query runs while
    a send is in flight. Waiting queries go before new sends."""

    def __init__(self) -> None:
        self._cond = asyncio.Condition()
        self._senders = 0
        self._exclusive = False
        self._waiting = 0

    @asynccontextmanager
    async def shared(self) -> AsyncIterator[None]:
        async with self._cond:
            await self._cond.wait_for(lambda: not self._exclusive and not self._waiting)
            self._senders += 1
        try:
            yield
        finally:
            async with self._cond:
                self._senders -= 1
                self._cond.notify_all()

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        async with self._cond:
            self._waiting += 1
            try:
                await self._cond.wait_for(lambda: not self._exclusive and self._senders == 0)
            finally:
                self._waiting -= 1
            self._exclusive = True
        try:
            yield
        finally:
            async with self._cond:
                self._exclusive = False
                self._cond.notify_all()


class KeyWork:
    """The bot's key queries and claims, all behind one :class:`KeyGate`."""

    def __init__(self, client: AsyncClient, gate: KeyGate | None = None) -> None:
        self.client = client
        self.gate = gate or KeyGate()

    async def after_sync(self) -> None:
        """To-device messages out, one-time keys up, then queries and claims (the gate only
        when there is key work)."""
        client = self.client
        await client.send_to_device_messages()
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys or client.should_claim_keys:
            async with self.gate.exclusive():
                if client.should_query_keys:
                    await client.keys_query()
                if client.should_claim_keys:
                    await client.keys_claim(client.get_users_for_key_claiming())

    async def prepare_room(self, room_id: str) -> None:
        """Before encrypting in a room: its members known, their devices queried, an Olm session
        with each. Key work is exclusive: rooms sent to side by side often share people, and two
        claims for one device would waste one-time keys."""
        client = self.client
        room = client.rooms[room_id]
        if room.encrypted and not room.members_synced:
            await client.joined_members(room_id)

        def missing_sessions() -> dict[str, Any]:
            if room.encrypted and client.olm is not None and client.olm.should_share_group_session(room_id):
                missing: dict[str, Any] = client.get_missing_sessions(room_id)
                return missing
            return {}

        if not (client.should_query_keys or client.should_claim_keys or missing_sessions()):
            return  # nothing to do: no need to wait for the sends in flight
        async with self.gate.exclusive():
            if client.should_query_keys:
                await client.keys_query()
            if client.should_claim_keys:
                await client.keys_claim(client.get_users_for_key_claiming())
            missing = missing_sessions()
            if missing:
                await client.keys_claim(missing)

    async def prepare_rooms(self, room_ids: list[str]) -> None:
        """Before a wave of sends: one key query and one claim for every device missing an Olm
        session in any of these rooms (those whose members nio holds), instead of a claim per
        room as each send comes (a café reminder to 2,000 people made 2,000 claims, each holding
        up every other send). ``prepare_room`` before each send then finds nothing missing.
        Then the wave's new devices are marked ignored in one write (:func:`ignore_new_devices`):
        the wave's sends ignore unverified devices."""
        client = self.client
        olm = client.olm
        if olm is None:
            return

        def missing_sessions() -> dict[str, set[str]]:
            wanted: dict[str, set[str]] = {}
            for room_id in room_ids:
                room = client.rooms.get(room_id)
                if (room is None or not room.encrypted or not room.members_synced
                        or not olm.should_share_group_session(room_id)):
                    continue
                for user_id, devices in client.get_missing_sessions(room_id).items():
                    wanted.setdefault(user_id, set()).update(devices)
            return wanted

        if client.should_query_keys or client.should_claim_keys or missing_sessions():
            async with self.gate.exclusive():
                if client.should_query_keys:
                    await client.keys_query()
                if client.should_claim_keys:
                    await client.keys_claim(client.get_users_for_key_claiming())
                wanted = missing_sessions()
                if wanted:
                    await client.keys_claim({user_id: sorted(devices) for user_id, devices in wanted.items()})
        ignore_new_devices(client, room_ids)  # no await: nothing changes the devices meanwhile


def ignore_new_devices(client: AsyncClient, room_ids: list[str]) -> int:
    """Mark ignored, in one write of nio's trust files, every device that nio's
    ``room_send(..., ignore_unverified_devices=True)`` would mark ignored when it shares a room key
    in these rooms: an active device of a member, not this device, not blacklisted, not verified,
    not yet ignored, with an Olm session. nio does it once per room, rewriting and fsyncing its
    trust files each time (2,000 times for a café reminder to 2,000 people); its sharing then finds
    them ignored and writes nothing. The same devices end up in the same state, and a blacklisted
    or verified device is never touched. Only for sends that ignore unverified devices (the
    outbox's). Returns how many devices were marked."""
    olm = client.olm
    if olm is None:
        return 0
    fresh: dict[tuple[str, str], Any] = {}
    for room_id in room_ids:
        room = client.rooms.get(room_id)
        if (room is None or not room.encrypted or not room.members_synced
                or not olm.should_share_group_session(room_id)):
            continue
        for user_id in room.users:
            for device in olm.device_store.active_user_devices(user_id):
                if (device.id == olm.device_id or (user_id, device.id) in fresh
                        or olm.is_device_blacklisted(device) or olm.is_device_verified(device)
                        or olm.is_device_ignored(device) or not olm.session_store.get(device.curve25519)):
                    continue
                fresh[(user_id, device.id)] = device
    if fresh:
        olm.store.ignore_devices(list(fresh.values()))
    return len(fresh)


def forget_room_keys(client: AsyncClient, room_id: str) -> int:
    """Drop every megolm session of a room the bot left for good (``!forget-me``), from memory and
    from the crypto store, so its history cannot be read with the bot's keys (not even with a copy
    of the store and the homeserver's stored events). Returns how many inbound sessions went.

    nio has no call for this: it reaches into the in-memory group-session store and the store's
    ``MegolmInboundSessions`` table, both by room id."""
    from nio.store.models import MegolmInboundSessions

    dropped = 0
    olm = getattr(client, "olm", None)
    if olm is not None:
        entries: dict[str, Any] = getattr(olm.inbound_group_store, "_entries", {})
        dropped = sum(len(sessions) for sessions in entries.pop(room_id, {}).values())
        olm.outbound_group_sessions.pop(room_id, None)
    store = getattr(client, "store", None)
    if store is not None and MegolmInboundSessions in store.models:
        with store.database.bind_ctx(store.models):
            dropped = max(dropped, MegolmInboundSessions.delete().where(
                MegolmInboundSessions.room_id == room_id).execute())
        store.delete_encrypted_room(room_id)
    return dropped
