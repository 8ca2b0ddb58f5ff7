"""nio's device store, as the bot uses it (``bot.matrix`` replaces ``DeviceStore.add``): the same
answers as nio's, without comparing each new device with every stored one (loading 3,000 devices
at start took 2.8 s; 20,000 took minutes)."""

from __future__ import annotations

import time

from nio.crypto.device import DeviceStore, OlmDevice

import bot.matrix  # noqa: F401 - installs the replacement


def device(user: str, device_id: str, key: str = "k", deleted: bool = False) -> OlmDevice:
    return OlmDevice(user, device_id, {"ed25519": key, "curve25519": key}, deleted=deleted)


def test_the_same_answers_as_nio() -> None:
    store = DeviceStore()
    assert store.add(device("@a:x", "PHONE"))
    assert not store.add(device("@a:x", "PHONE"))  # an equal device: already there
    assert store.add(device("@b:x", "PHONE"))  # another person's device with the same id
    assert store.add(device("@a:x", "PHONE", deleted=True))  # changed: replaces the stored one
    assert store["@a:x"]["PHONE"].deleted
    assert store.add(device("@a:x", "PHONE", key="new"))
    assert store["@a:x"]["PHONE"].keys["ed25519"] == "new"
    assert sorted((d.user_id, d.id) for d in store) == [("@a:x", "PHONE"), ("@b:x", "PHONE")]


def test_twenty_thousand_devices_load_in_well_under_a_second() -> None:
    store = DeviceStore()
    started = time.process_time()
    for i in range(20_000):
        store.add(device(f"@p{i // 2}:x", f"D{i % 2}", key=str(i)))
    assert time.process_time() - started < 2.0
    assert sum(1 for _ in store) == 20_000
