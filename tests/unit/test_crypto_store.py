"""The bot's crypto store (``bot.cryptostore``): it loads what nio's ``DefaultStore`` loads, the
same devices with the same keys and trust and the same inbound group sessions, in a number of
SQL statements that does not grow with the devices or sessions, and its indexed trust files
answer as nio's lists do."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from nio.crypto import (
    InboundGroupSession,
    OlmAccount,
    OlmDevice,
    OutboundGroupSession,
    OutboundSession,
    TrustState,
)
from nio.exceptions import OlmTrustError
from nio.store import DefaultStore
from nio.store.file_trustdb import Ed25519Key, KeyStore

import bot.matrix  # noqa: F401 - the bot's DeviceStore.add, as the bot runs
from bot.cryptostore import BatchedLoads, CryptoStore
from bot.truststore import IndexedKeyStore

USER, DEVICE, PICKLE = "@bot:x", "BOTDEVICE", "pickle-key"


def fill(store_dir: Path, devices: int, sessions: int) -> None:
    """A real nio store: ``devices`` devices of devices/2 people (some deleted, some renamed),
    a few verified and blacklisted, the rest ignored as the bot's sends mark them; and
    ``sessions`` inbound group sessions, some with a forwarding chain."""
    store_dir.mkdir(exist_ok=True)
    store = DefaultStore(USER, DEVICE, str(store_dir), PICKLE)
    with store.database.atomic():  # one commit: the test's speed, not the store's
        _fill(store, devices, sessions)
    store.database.close()


def _fill(store: DefaultStore, devices: int, sessions: int) -> None:
    account, peer = OlmAccount(), OlmAccount()
    store.save_account(account)
    keys: dict[str, dict[str, OlmDevice]] = {}
    for i in range(devices):
        user, device_id = f"@p{i // 2}:x", f"D{i % 2}"
        keys.setdefault(user, {})[device_id] = OlmDevice(
            user, device_id, {"ed25519": f"ed{i}", "curve25519": f"cu{i}"},
            display_name=f"phone {i}" if i % 3 == 0 else "", deleted=i % 7 == 0)
    store.save_device_keys(keys)
    everyone = [d for per_user in keys.values() for d in per_user.values()]
    for d in everyone[:5]:
        store.verify_device(d)
    for d in everyone[5:8]:
        store.blacklist_device(d)
    store.ignore_devices(everyone[8:])
    peer.generate_one_time_keys(1)
    one_time_key = next(iter(peer.one_time_keys["curve25519"].values()))
    for i in range(sessions):
        store.save_session(f"cu{i // 2}", OutboundSession(account, peer.identity_keys["curve25519"], one_time_key))
        outbound = OutboundGroupSession()
        chain = [f"fwd{i}a", f"fwd{i}b"] if i % 4 == 0 else []
        store.save_inbound_group_session(InboundGroupSession(
            outbound.session_key, f"ed{i}", f"cu{i}", f"!room{i % 10}:x", chain))


def statements(store: DefaultStore, load: Callable[[], Any]) -> tuple[Any, int]:
    """What ``load`` returns, and how many SQL statements it ran."""
    seen: list[str] = []
    store.database.connection().set_trace_callback(seen.append)
    try:
        return load(), len(seen)
    finally:
        store.database.connection().set_trace_callback(None)


def devices(device_store: Any) -> list[OlmDevice]:
    return list(device_store)  # OlmDevice is a dataclass: == compares keys, name, deleted, trust


def olm_sessions(session_store: Any) -> list[tuple[Any, ...]]:
    return [(sender_key, [(s.id, s.creation_time, s.use_time) for s in per_key])
            for sender_key, per_key in session_store._entries.items()]


def sessions(group_store: Any) -> list[tuple[Any, ...]]:
    return [(s.id, s.room_id, s.sender_key, s.ed25519, s.forwarding_chain, s.first_known_index)
            for s in group_store]


@pytest.fixture
def filled(tmp_path: Path) -> Path:
    fill(tmp_path, devices=300, sessions=40)
    return tmp_path


@pytest.mark.parametrize("store_class", [CryptoStore, BatchedLoads])  # indexed trust files or nio's
def test_it_loads_what_nio_loads(filled: Path, store_class: type[DefaultStore]) -> None:
    nio = DefaultStore(USER, DEVICE, str(filled), PICKLE)
    ours = store_class(USER, DEVICE, str(filled), PICKLE)
    loaded = devices(ours.load_device_keys())
    assert loaded == devices(nio.load_device_keys())
    assert len(loaded) == 300
    states = [d.trust_state for d in loaded]
    assert states.count(TrustState.verified) == 5 and states.count(TrustState.blacklisted) == 3
    assert states.count(TrustState.ignored) == 292
    assert any(d.deleted for d in loaded) and any(d.display_name for d in loaded)
    assert sessions(ours.load_inbound_group_sessions()) == sessions(nio.load_inbound_group_sessions())
    assert any(s.forwarding_chain for s in ours.load_inbound_group_sessions())
    loaded_olm = olm_sessions(ours.load_sessions())
    assert loaded_olm == olm_sessions(nio.load_sessions())
    assert sum(len(per_key) for _, per_key in loaded_olm) == 40


def test_an_empty_store_loads_as_nio(tmp_path: Path) -> None:
    ours = CryptoStore(USER, DEVICE, str(tmp_path), PICKLE)  # no account yet
    assert devices(ours.load_device_keys()) == []
    assert olm_sessions(ours.load_sessions()) == []
    assert sessions(ours.load_inbound_group_sessions()) == []


def test_the_number_of_queries_does_not_grow_with_devices_or_sessions(tmp_path: Path) -> None:
    counts = {}
    for n in (50, 500):
        fill(tmp_path / str(n), devices=n, sessions=n // 10)
        store = CryptoStore(USER, DEVICE, str(tmp_path / str(n)), PICKLE)
        loaded, device_queries = statements(store, store.load_device_keys)
        assert len(devices(loaded)) == n
        loaded, session_queries = statements(store, store.load_inbound_group_sessions)
        assert len(sessions(loaded)) == n // 10
        loaded, olm_queries = statements(store, store.load_sessions)
        assert sum(len(per_key) for _, per_key in olm_sessions(loaded)) == n // 10
        counts[n] = (device_queries, session_queries, olm_queries)
    assert counts[50] == counts[500], counts
    assert max(counts[500]) <= 4, counts


def test_trust_lookups_at_load_do_not_scan_the_trust_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every device the bot sent to is in the ignored file; nio found each device's trust by
    comparing it with the file's entries one by one (devices² comparisons at every start)."""
    fill(tmp_path, devices=400, sessions=0)
    store = CryptoStore(USER, DEVICE, str(tmp_path), PICKLE)
    compared = 0
    nio_eq = Ed25519Key.__eq__

    def counting_eq(self: Ed25519Key, other: object) -> bool:
        nonlocal compared
        compared += 1
        return bool(nio_eq(self, other))

    monkeypatch.setattr(Ed25519Key, "__eq__", counting_eq)
    assert len(devices(store.load_device_keys())) == 400
    assert compared <= 400, compared  # nio's loader: about 400²/2


def trust_file(path: Path, cls: type[KeyStore]) -> KeyStore:
    store = cls(str(path))
    store.add_many([Ed25519Key("@a:x", "A", "ka"), Ed25519Key("@b:x", "B", "kb")])
    store.add(Ed25519Key("@a:x", "A", "ka"))  # nio keeps a duplicate
    store.add(Ed25519Key("@c:x", "C", "kc"))
    store.remove(Ed25519Key("@a:x", "A", "ka"))  # one of the two
    store.remove_many([Ed25519Key("@b:x", "B", "kb"), Ed25519Key("@z:x", "Z", "kz")])
    assert not store.remove(Ed25519Key("@z:x", "Z", "kz"))
    with pytest.raises(OlmTrustError):
        store.add(Ed25519Key("@c:x", "C", "another fingerprint"))
    return store


def test_the_indexed_trust_file_answers_as_nio(tmp_path: Path) -> None:
    nio = trust_file(tmp_path / "nio", KeyStore)
    ours = trust_file(tmp_path / "ours", IndexedKeyStore)
    assert (tmp_path / "ours").read_text() == (tmp_path / "nio").read_text()
    probes = [Ed25519Key(u, d, k) for u, d, k in [("@a:x", "A", "ka"), ("@b:x", "B", "kb"), ("@c:x", "C", "kc"),
                                                  ("@c:x", "C", "kx"), ("@z:x", "Z", "kz")]]
    assert [p in ours for p in probes] == [p in nio for p in probes] == [True, False, True, False, False]
    assert [ours.check(p) for p in probes] == [nio.check(p) for p in probes]
    for user, device in [("@a:x", "A"), ("@b:x", "B"), ("@c:x", "C")]:
        mine, theirs = ours.get_key(user, device), nio.get_key(user, device)
        assert (mine and (mine.user_id, mine.key)) == (theirs and (theirs.user_id, theirs.key))
    reread = IndexedKeyStore(str(tmp_path / "ours"))
    assert [p in reread for p in probes] == [p in nio for p in probes]
