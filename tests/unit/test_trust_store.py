"""Marking devices ignored before a wave of sends, with a real nio Olm machine and its trust files:
nio's ``ignore_unverified_devices`` sharing rewrites (and fsyncs) its trust files once per room, so
a café reminder to 2,000 people wrote them 6,000 times; the wave now writes them once, and every
device ends in the state nio would have put it in (a blacklisted or verified one untouched)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from nio import AsyncClient, AsyncClientConfig, MatrixRoom, ToDeviceError, ToDeviceResponse
from nio.crypto import OlmAccount, OlmDevice
from nio.store import file_trustdb
from nio.store.file_trustdb import Ed25519Key, KeyStore

from bot.keys import TO_DEVICE_BATCH, KeyWork
from bot.matrix import client_config

BOT = "@bot:localhost"


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every write of a trust file (nio writes one with ``atomic_write``)."""
    written: list[str] = []
    real = file_trustdb.atomic_write

    def counting(path: str, **kwargs: Any) -> Any:
        written.append(Path(path).name.rsplit(".", 1)[1])
        return real(path, **kwargs)

    monkeypatch.setattr(file_trustdb, "atomic_write", counting)
    return written


def bot_client(store: Path) -> AsyncClient:
    config: AsyncClientConfig = client_config("pickle key")
    client = AsyncClient("http://localhost:1", BOT, device_id="BOTDEVICE", store_path=str(store), config=config)
    client.restore_login(BOT, "BOTDEVICE", "token")  # loads the crypto store

    async def no_one_time_keys(users: dict[str, list[str]]) -> None:
        pass  # the homeserver has none left: the device stays without an Olm session

    client.keys_claim = no_one_time_keys
    client.to_device_requests = []

    async def homeserver(response_class: Any, method: str, path: str, data: str, response_data: Any = None,
                         **_: Any) -> Any:
        assert "/sendToDevice/m.room.encrypted/" in path
        client.to_device_requests.append(json.loads(data)["messages"])
        return ToDeviceResponse(None)

    client._send = homeserver
    return client


def add_person(client: AsyncClient, n: int, devices: int = 2, session: bool = True) -> MatrixRoom:
    """A toolbox room with person ``n`` and the bot; the person's devices known, each with an
    Olm session (as after the wave's claim) unless ``session`` is false."""
    user = f"@p{n}:localhost"
    for d in range(devices):
        peer = OlmAccount()
        peer.generate_one_time_keys(1)
        keys = peer.identity_keys
        device = OlmDevice(user, f"D{d}", {"ed25519": keys["ed25519"], "curve25519": keys["curve25519"]})
        client.olm.device_store.add(device)
        client.olm.store.save_device_keys({user: {device.id: device}})  # as after a key query
        if session:
            client.olm.create_session(next(iter(peer.one_time_keys["curve25519"].values())), keys["curve25519"])
    room = MatrixRoom(f"!r{n}:localhost", BOT, encrypted=True)
    room.add_member(BOT, None, None)
    room.add_member(user, None, None)
    room.members_synced = True
    client.rooms[room.room_id] = room
    return room


def share(client: AsyncClient, room: MatrixRoom) -> set[tuple[str, str]]:
    """What ``room_send(..., ignore_unverified_devices=True)`` does to share the room key,
    without the network: who gets it."""
    shared: set[tuple[str, str]] = set()
    for with_whom, _ in client.olm.share_group_session_parallel(room.room_id, list(room.users),
                                                                ignore_unverified_devices=True):
        shared |= with_whom
    client.olm.outbound_group_sessions[room.room_id].shared = True
    return shared


def recipients(requests: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(user, device) for messages in requests for user, devices in messages.items() for device in devices}


async def wave(client: AsyncClient, rooms: list[MatrixRoom]) -> set[tuple[str, str]]:
    """The sender's preparation of a wave, then each room's own sharing (nothing left to share
    when the wave shared it): who got a room key."""
    client.to_device_requests.clear()
    await KeyWork(client).prepare_rooms([r.room_id for r in rooms])
    shared = recipients(client.to_device_requests)
    for room in rooms:
        if client.olm.should_share_group_session(room.room_id):
            shared |= share(client, room)
    return shared


@pytest.mark.parametrize("people", [5, 20])
async def test_a_wave_writes_the_trust_files_once_however_many_devices(tmp_path, writes, people):
    client = bot_client(tmp_path)
    try:
        rooms = [add_person(client, n) for n in range(people)]
        writes.clear()
        shared = await wave(client, rooms)
        assert len(shared) == 2 * people  # every device got the room key
        assert writes == ["ignored_devices"]  # one write, not three per room
        for room in rooms:
            for device in client.olm.device_store.active_user_devices(list(room.users)[1]):
                assert client.olm.is_device_ignored(device)
        # a later wave with nobody new writes nothing
        for room in rooms:
            client.olm.outbound_group_sessions[room.room_id].shared = False
            del client.olm.outbound_group_sessions[room.room_id]
        writes.clear()
        assert len(await wave(client, rooms)) == 2 * people
        assert writes == []
    finally:
        await client.close()


async def test_blacklisted_verified_and_sessionless_devices_keep_their_state(tmp_path, writes):
    client = bot_client(tmp_path)
    try:
        olm = client.olm
        bad, good, plain = (add_person(client, n, devices=1) for n in range(3))
        later = add_person(client, 3, devices=1, session=False)
        bad_device = olm.device_store["@p0:localhost"]["D0"]
        good_device = olm.device_store["@p1:localhost"]["D0"]
        olm.blacklist_device(bad_device)
        olm.verify_device(good_device)
        writes.clear()
        shared = await wave(client, [bad, good, plain, later])
        assert shared == {("@p1:localhost", "D0"), ("@p2:localhost", "D0")}  # never the blacklisted one
        assert olm.is_device_blacklisted(bad_device) and not olm.is_device_ignored(bad_device)
        assert olm.is_device_verified(good_device) and not olm.is_device_ignored(good_device)
        assert olm.is_device_ignored(olm.device_store["@p2:localhost"]["D0"])
        assert not olm.is_device_ignored(olm.device_store["@p3:localhost"]["D0"])  # no session: as nio leaves it
        assert writes == ["ignored_devices"]
    finally:
        await client.close()
    # the files say the same after a restart
    client = bot_client(tmp_path)
    try:
        olm = client.olm
        assert olm.device_store["@p0:localhost"]["D0"].trust_state.name == "blacklisted"
        assert olm.device_store["@p1:localhost"]["D0"].trust_state.name == "verified"
        assert olm.device_store["@p2:localhost"]["D0"].trust_state.name == "ignored"
        assert olm.device_store["@p3:localhost"]["D0"].trust_state.name == "unset"
    finally:
        await client.close()


async def test_a_wave_shares_its_room_keys_in_few_to_device_requests(tmp_path, writes):
    client = bot_client(tmp_path)
    try:
        people = TO_DEVICE_BATCH  # two devices each: two requests' worth of room keys
        rooms = [add_person(client, n) for n in range(people)]
        statements: list[str] = []
        client.olm.store.database.connection().set_trace_callback(statements.append)
        shared = await wave(client, rooms)
        assert len(client.to_device_requests) == 2  # nio made one per room
        # the Olm sessions' ratchets saved in one transaction, not a commit per message
        saves = [i for i, sql in enumerate(statements) if "olmsessions" in sql and sql.startswith("INSERT")]
        assert len(saves) == 2 * people
        begin = max(i for i, sql in enumerate(statements[:saves[0]]) if sql.startswith("BEGIN"))
        commits = [i for i, sql in enumerate(statements) if sql.startswith("COMMIT") and i > begin]
        assert commits and commits[0] > saves[-1]
        assert sum(len(devices) for m in client.to_device_requests for devices in m.values()) == 2 * people
        assert shared == {(f"@p{n}:localhost", f"D{d}") for n in range(people) for d in range(2)}
        for room in rooms:
            session = client.olm.outbound_group_sessions[room.room_id]
            assert session.shared and session.users_shared_with == {(list(room.users)[1], "D0"),
                                                                    (list(room.users)[1], "D1")}
    finally:
        await client.close()


async def test_a_refused_request_leaves_its_rooms_to_share_their_own(tmp_path, writes):
    client = bot_client(tmp_path)
    accept = client._send

    async def refuse_the_first(response_class: Any, method: str, path: str, data: str, response_data: Any = None,
                               **kw: Any) -> Any:
        if not client.to_device_requests:
            client.to_device_requests.append({})
            return ToDeviceError("M_LIMIT_EXCEEDED")
        return await accept(response_class, method, path, data, response_data, **kw)

    client._send = refuse_the_first
    try:
        rooms = [add_person(client, n) for n in range(TO_DEVICE_BATCH)]
        client.to_device_requests.clear()
        await KeyWork(client).prepare_rooms([r.room_id for r in rooms])
        unshared = [r for r in rooms if client.olm.should_share_group_session(r.room_id)]
        assert len(unshared) == TO_DEVICE_BATCH // 2  # the refused request's rooms
        got = recipients(client.to_device_requests)
        for room in unshared:  # room_send shares the same session with the devices still without it
            session_id = client.olm.outbound_group_sessions[room.room_id].id
            again = share(client, room)
            assert again and not again & got
            assert client.olm.outbound_group_sessions[room.room_id].id == session_id
    finally:
        await client.close()


def test_the_indexed_trust_file_answers_and_writes_as_nios(tmp_path):
    from bot.truststore import IndexedKeyStore

    ops: list[tuple[str, Any]] = [
        ("add", Ed25519Key("@a:x", "D1", "k1")), ("add", Ed25519Key("@b:x", "D1", "k2")),
        ("add_many", [Ed25519Key("@c:x", "D1", "k3"), Ed25519Key("@a:x", "D2", "k4")]),
        ("add", Ed25519Key("@a:x", "D1", "k1")),  # nio appends an equal key again
        ("remove", Ed25519Key("@b:x", "D1", "k2")), ("remove", Ed25519Key("@b:x", "D1", "k2")),
        ("remove_many", [Ed25519Key("@a:x", "D1", "k1"), Ed25519Key("@z:x", "D1", "k9")]),
    ]
    nio_store, ours = KeyStore(str(tmp_path / "nio")), IndexedKeyStore(str(tmp_path / "ours"))
    for op, arg in ops:
        assert getattr(nio_store, op)(arg) == getattr(ours, op)(arg)
        for probe in (Ed25519Key("@a:x", "D1", "k1"), Ed25519Key("@a:x", "D1", "other"), Ed25519Key("@b:x", "D1", "k2"),
                      Ed25519Key("@c:x", "D1", "k3")):
            assert (probe in nio_store) == (probe in ours)
            assert nio_store.check(probe) == ours.check(probe)
        for user, device in (("@a:x", "D1"), ("@a:x", "D2"), ("@b:x", "D1"), ("@q:x", "D1")):
            assert repr(nio_store.get_key(user, device) and nio_store.get_key(user, device).to_line()) == \
                repr(ours.get_key(user, device) and ours.get_key(user, device).to_line())
        assert (tmp_path / "nio").read_text() == (tmp_path / "ours").read_text()
    with pytest.raises(Exception, match="mismatching fingerprint"):  # a changed key is refused, as nio does
        ours.add(Ed25519Key("@c:x", "D1", "changed"))
    assert [k.to_line() for k in IndexedKeyStore(str(tmp_path / "ours"))] == [k.to_line() for k in nio_store]
