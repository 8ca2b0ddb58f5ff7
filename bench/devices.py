"""Encryption devices for benchmark people, as a real client has them, without running a client:
a vodozemac account per device whose identity keys are signed and uploaded through
``/keys/upload`` with the person's access token, with one-time keys. The bot then really queries
these devices, claims their one-time keys and shares its Megolm sessions with them."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import vodozemac

ALGORITHMS = ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"]


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def _signed(account: vodozemac.Account, user_id: str, device_id: str, obj: dict[str, Any]) -> dict[str, Any]:
    signature = account.sign(canonical_json(obj)).to_base64()
    return {**obj, "signatures": {user_id: {f"ed25519:{device_id}": signature}}}


def device_keys_body(account: vodozemac.Account, user_id: str, device_id: str, one_time_keys: int) -> dict[str, Any]:
    """The ``/keys/upload`` body: signed device keys and ``one_time_keys`` signed curve25519 keys."""
    device_keys = _signed(account, user_id, device_id, {
        "user_id": user_id, "device_id": device_id, "algorithms": ALGORITHMS,
        "keys": {f"curve25519:{device_id}": account.curve25519_key.to_base64(),
                 f"ed25519:{device_id}": account.ed25519_key.to_base64()},
    })
    account.generate_one_time_keys(one_time_keys)
    otks = {f"signed_curve25519:{key_id}": _signed(account, user_id, device_id, {"key": key.to_base64()})
            for key_id, key in account.one_time_keys.items()}
    account.mark_keys_as_published()
    return {"device_keys": device_keys, "one_time_keys": otks}


async def upload_device(http: aiohttp.ClientSession, homeserver: str, user_id: str, device_id: str, token: str,
                        one_time_keys: int = 10) -> dict[str, int]:
    """A new vodozemac account for this device, its keys uploaded; returns the server's
    one-time key counts."""
    body = device_keys_body(vodozemac.Account(), user_id, device_id, one_time_keys)
    async with http.post(f"{homeserver}/_matrix/client/v3/keys/upload", json=body,
                         headers={"Authorization": f"Bearer {token}"}) as r:
        data = await r.json()
    counts: dict[str, int] = data.get("one_time_key_counts", {})
    if r.status != 200 or counts.get("signed_curve25519", 0) < one_time_keys:
        raise RuntimeError(f"uploading device keys for {user_id} failed: {r.status} {data}")
    return counts
