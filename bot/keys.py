"""Device-key work: the gate between key queries and claims (exclusive) and sends (shared), the
key work after each sync, and the key preparation before encrypting in a room."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator
from uuid import uuid4

import aiohttp
from nio import AsyncClient, LocalProtocolError, ToDeviceError, ToDeviceResponse
from nio.api import Api

log = logging.getLogger(__name__)


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
        Then the wave's new devices are marked ignored in one write (:func:`ignore_new_devices`;
        the wave's sends ignore unverified devices), and the rooms' new Megolm sessions go out in
        a few to-device requests (:func:`share_room_keys`); each ``room_send`` then only
        encrypts and sends."""
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

        def unshared() -> bool:
            return any(client.rooms[r].encrypted and olm.should_share_group_session(r)
                       for r in room_ids if r in client.rooms)

        if not (client.should_query_keys or client.should_claim_keys or missing_sessions() or unshared()):
            return  # nothing to do: no need to wait for the sends in flight
        async with self.gate.exclusive():  # no key query may finish while the room keys go out
            if client.should_query_keys:
                await client.keys_query()
            if client.should_claim_keys:
                await client.keys_claim(client.get_users_for_key_claiming())
            wanted = missing_sessions()
            if wanted:
                await client.keys_claim({user_id: sorted(devices) for user_id, devices in wanted.items()})
            ignore_new_devices(client, room_ids)
            await share_room_keys(client, room_ids)


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


TO_DEVICE_BATCH = 50  # to-device messages per request when sharing the room keys of a wave
TO_DEVICE_REQUESTS = 4  # such requests at a time
ToDevice = tuple[str, str, str, dict[str, Any]]  # (room, user, device, Olm-encrypted room key)


async def share_room_keys(client: AsyncClient, room_ids: list[str]) -> int:
    """Share the new Megolm sessions of many rooms in a few to-device requests, ``TO_DEVICE_BATCH``
    messages each, instead of nio's request per room in ``room_send`` (a café reminder to 2,000
    people made 2,000 requests, each a transaction on the homeserver). The sessions and the
    devices they go to are nio's own (``share_group_session_parallel`` with
    ``ignore_unverified_devices``, as ``room_send`` would call it): never a blacklisted device,
    never a device without an Olm session. A device gets at most one message per request (a
    request holds one message per device), in the order they were encrypted. A room counts as
    shared only when every one of its messages was accepted; otherwise ``room_send`` shares the
    rest itself, as before (nio marks a session shared even when its request failed). Returns
    how many rooms were shared.

    Call it with no sends in flight (the key gate held exclusively)."""
    olm = client.olm
    if olm is None:
        return 0
    rooms: list[str] = []
    for room_id in dict.fromkeys(room_ids):
        room = client.rooms.get(room_id)
        if (room is None or not room.encrypted or not room.members_synced or room_id in client.sharing_session
                or not olm.should_share_group_session(room_id)):
            continue
        rooms.append(room_id)
    if len(rooms) < 2:
        return 0  # one room: room_send's own request is as good
    gate = asyncio.Semaphore(TO_DEVICE_REQUESTS)
    for room_id in rooms:
        client.sharing_session[room_id] = asyncio.Event()  # room_send waits instead of sharing too
    batches: list[list[ToDevice]] = []
    accepted: list[bool] = []
    done = False
    try:
        batches = _to_device_batches(_encrypt_room_keys(client, rooms))
        accepted = list(await asyncio.gather(*(_send_to_device(client, b, gate) for b in batches)))
        done = True
    finally:  # also on an error or when cancelled: a room not wholly shared stays unshared
        failed_rooms = set() if done else set(rooms)
        shared_with: dict[str, set[tuple[str, str]]] = {r: set() for r in rooms}
        for batch, ok in zip(batches, accepted):
            for room_id, user_id, device_id, _ in batch:
                if ok:
                    shared_with[room_id].add((user_id, device_id))
                else:
                    failed_rooms.add(room_id)
        for room_id in rooms:
            session = olm.outbound_group_sessions.get(room_id)
            if session is not None:
                session.users_shared_with.update(shared_with[room_id])
                if room_id not in failed_rooms:
                    session.shared = True
            client.sharing_session.pop(room_id).set()
    return len(rooms) - len(failed_rooms)


def _encrypt_room_keys(client: AsyncClient, room_ids: list[str]) -> list[ToDevice]:
    """Each room's new Megolm session, encrypted for each device nio would share it with."""
    olm = client.olm
    pending: list[ToDevice] = []
    database = getattr(olm.store, "database", None)
    # nio saves the Olm session after each message it encrypts, a commit (and fsyncs) each: here
    # one transaction for the wave, committed before anything is sent.
    with database.atomic() if database is not None else contextlib.nullcontext():
        for room_id in room_ids:
            for _, to_device in olm.share_group_session_parallel(room_id, list(client.rooms[room_id].users),
                                                                 ignore_unverified_devices=True):
                for user_id, devices in to_device["messages"].items():
                    for device_id, message in devices.items():
                        pending.append((room_id, user_id, device_id, message))
    return pending


def _to_device_batches(pending: list[ToDevice]) -> list[list[ToDevice]]:
    """A request holds one message per device: a device's n-th message goes in the n-th layer of
    requests, so its messages go out in the order they were encrypted. (A device in every room,
    e.g. another login of the bot's account, makes a layer per room: nio's request count.)"""
    layers: list[list[ToDevice]] = []
    seen: dict[tuple[str, str], int] = {}
    for item in pending:
        n = seen.get((item[1], item[2]), 0)
        seen[(item[1], item[2])] = n + 1
        if n == len(layers):
            layers.append([])
        layers[n].append(item)
    return [layer[i:i + TO_DEVICE_BATCH] for layer in layers for i in range(0, len(layer), TO_DEVICE_BATCH)]


async def _send_to_device(client: AsyncClient, batch: list[ToDevice], gate: asyncio.Semaphore) -> bool:
    """One ``sendToDevice`` request; False when it failed or was refused."""
    messages: dict[str, dict[str, Any]] = {}
    for _, user_id, device_id, message in batch:
        messages.setdefault(user_id, {})[device_id] = message
    method, path, data = Api.to_device(client.access_token, "m.room.encrypted", {"messages": messages}, uuid4())
    async with gate:
        try:
            resp = await client._send(ToDeviceResponse, method, path, data, response_data=(None,))
        except (asyncio.TimeoutError, OSError, aiohttp.ClientError, LocalProtocolError) as exc:
            log.warning("sharing room keys failed (%s); each room shares its own", type(exc).__name__)
            return False
    if isinstance(resp, ToDeviceError):
        log.warning("sharing room keys refused (%s); each room shares its own", resp.status_code)
        return False
    return True


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
