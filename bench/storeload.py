"""Loading nio's crypto store at start (``AsyncClient.load_store``): nio's ``DefaultStore`` against
the bot's ``CryptoStore`` (``bot.cryptostore``), on the same store files, in one run.

The store is filled as the bot's is after it has lived at that size: D devices of D/2 people, each
with its keys and one Olm session, every device in the ignored trust file (the bot sends with
``ignore_unverified_devices``), and one inbound group session per room (D/1.2 rooms, issue 13's
10,000 rooms for 12,000 devices), a quarter of them with a forwarding chain. Rows are written with
bulk inserts in nio's own tables and formats (the same rows its ``save_*`` methods write, faster).
Both clients have the bot's ``DeviceStore.add`` (``bot.matrix``), so the difference is the store.

    .venv/bin/python -m bench.storeload [--devices 3000,12000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from nio import AsyncClient, AsyncClientConfig
from nio.crypto import InboundGroupSession, OlmAccount, OutboundGroupSession, OutboundSession
from nio.store import (
    Accounts,
    DefaultStore,
    DeviceKeys,
    ForwardedChains,
    Keys,
    MegolmInboundSessions,
    OlmSessions,
)
from nio.store.file_trustdb import Ed25519Key

import bot.matrix  # noqa: F401 - the bot's DeviceStore.add, for both
from bench.common import print_table, quiet_logs, write_result
from bot.cryptostore import CryptoStore

USER, DEVICE, PICKLE = "@bot:bench", "BENCHBOT", "bench-pickle-key"


def _chunks(rows: list[dict[str, Any]], size: int = 200) -> list[list[dict[str, Any]]]:
    return [rows[i:i + size] for i in range(0, len(rows), size)]


def fill(store_dir: Path, devices: int) -> dict[str, int]:
    """A crypto store of ``devices`` devices (see the module's text); returns what it holds."""
    store_dir.mkdir(parents=True, exist_ok=True)
    store = DefaultStore(USER, DEVICE, str(store_dir), PICKLE)
    account = OlmAccount()
    store.save_account(account)
    peer = OlmAccount()
    peer.generate_one_time_keys(1)
    otk = next(iter(peer.one_time_keys["curve25519"].values()))
    rooms = int(devices / 1.2)
    with store.database.bind_ctx(store.models), store.database.atomic():
        acc = Accounts.get(Accounts.user_id == USER)
        people = [(f"@p{i // 2}:bench", f"D{i % 2}") for i in range(devices)]
        for chunk in _chunks([{"account": acc, "user_id": u, "device_id": d, "display_name": "",
                               "deleted": False} for u, d in people]):
            DeviceKeys.insert_many(chunk).execute()
        ids = {(u, d): pk for pk, u, d in DeviceKeys.select(DeviceKeys.id, DeviceKeys.user_id,
                                                              DeviceKeys.device_id).tuples()}
        keys = [{"device": ids[p], "key_type": t, "key": f"{t}-{i}"}
                for i, p in enumerate(people) for t in ("ed25519", "curve25519")]
        for chunk in _chunks(keys):
            Keys.insert_many(chunk).execute()
        olm = []
        for i in range(devices):
            session = OutboundSession(account, peer.identity_keys["curve25519"], otk)
            olm.append({"account": acc, "sender_key": f"curve25519-{i}", "session": session.pickle(PICKLE),
                        "session_id": session.id, "creation_time": session.creation_time,
                        "last_usage_date": session.use_time})
        for chunk in _chunks(olm):
            OlmSessions.insert_many(chunk).execute()
        inbound, chains = [], []
        for i in range(rooms):
            group = InboundGroupSession(OutboundGroupSession().session_key, f"ed25519-{i}", f"curve25519-{i}",
                                        f"!room{i}:bench")
            inbound.append({"account": acc, "sender_key": group.sender_key, "fp_key": group.ed25519,
                            "room_id": group.room_id, "session": group.pickle(PICKLE), "session_id": group.id})
            if i % 4 == 0:
                chains += [{"sender_key": f"forwarder-{i}-{j}", "session": group.id} for j in range(2)]
        for chunk in _chunks(inbound):
            MegolmInboundSessions.insert_many(chunk).execute()
        for chunk in _chunks(chains):
            ForwardedChains.insert_many(chunk).execute()
    store.database.close()
    # The ignored trust file, in nio's line format.
    lines = [Ed25519Key(u, d, f"ed25519-{i}").to_line() for i, (u, d) in enumerate(people)]
    (store_dir / f"{USER}_{DEVICE}.ignored_devices").write_text("".join(lines))
    return {"devices": devices, "olm_sessions": devices, "inbound_group_sessions": rooms,
            "forwarded_chains": len(chains)}


def load_once(store_dir: Path, store_class: type[DefaultStore]) -> tuple[float, float, int]:
    """Wall and CPU seconds for ``restore_login`` (``load_store``), and the devices it loaded.
    CPU time is the figure to compare on a shared machine: the load is single-threaded."""
    config = AsyncClientConfig(store_sync_tokens=False, encryption_enabled=True, pickle_key=PICKLE, store=store_class)
    client = AsyncClient("http://127.0.0.1:1", USER, store_path=str(store_dir), config=config)
    started, cpu = time.perf_counter(), time.process_time()
    client.restore_login(USER, DEVICE, "token")  # as the bot starts: this calls load_store
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    loaded = sum(1 for _ in client.olm.device_store)
    client.store.database.close()
    return elapsed, cpu, loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", default="3000,12000", help="comma-separated device counts")
    parser.add_argument("--repeat", type=int, default=3, help="loads of each store by each loader (alternating)")
    parser.add_argument("--out", default="storeload")
    args = parser.parse_args()
    quiet_logs()
    loaders: dict[str, type[DefaultStore]] = {"nio DefaultStore": DefaultStore, "CryptoStore": CryptoStore}
    results: list[dict[str, Any]] = []
    rows = []
    with tempfile.TemporaryDirectory(prefix="reconnect-storeload-") as tmp:
        for n in (int(x) for x in args.devices.split(",")):
            started = time.perf_counter()
            holds = fill(Path(tmp) / str(n), n)
            print(f"filled a store of {n} devices in {time.perf_counter() - started:.1f} s", flush=True)
            wall: dict[str, list[float]] = {name: [] for name in loaders}
            cpu: dict[str, list[float]] = {name: [] for name in loaders}
            for _ in range(args.repeat):
                for name, cls in loaders.items():
                    elapsed, used, loaded = load_once(Path(tmp) / str(n), cls)
                    assert loaded == n, (name, loaded, n)
                    wall[name].append(elapsed)
                    cpu[name].append(used)
                    print(f"  {n} devices, {name}: {elapsed:.3f} s wall, {used:.3f} s CPU", flush=True)
            old, new = (statistics.median(cpu[name]) for name in loaders)
            old_wall, new_wall = (statistics.median(wall[name]) for name in loaders)
            rows.append([n, holds["inbound_group_sessions"], f"{old:.3f}", f"{new:.3f}", f"×{old / new:.1f}",
                         f"{old_wall:.3f} / {new_wall:.3f}"])
            results.append({**holds, "wall_s": wall, "cpu_s": cpu,
                            "median_cpu_s": {name: statistics.median(cpu[name]) for name in loaders},
                            "median_wall_s": {name: statistics.median(wall[name]) for name in loaders},
                            "speedup_cpu": round(old / new, 2)})
    print_table("load_store at start (median CPU seconds; wall in the last column)",
                ["devices", "rooms", "nio DefaultStore", "CryptoStore", "speed-up", "wall nio / ours"], rows)
    path = write_result(args.out, {"repeat": args.repeat, "sizes": results})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
