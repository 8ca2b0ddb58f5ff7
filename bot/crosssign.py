"""Cross-signing of the bot's own device.

The bot's identity is three ed25519 keys (master, self-signing, user-signing), kept sealed in
the database (``BotSecret``). On first start they are made and uploaded, the master signing the
other two; every device of the bot (including a new one after a re-login) is then signed by the
self-signing key, so clients that only trust cross-signed devices share room keys with it.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from signedjson.key import (
    decode_signing_key_base64,
    encode_signing_key_base64,
    encode_verify_key_base64,
    generate_signing_key,
    get_verify_key,
)
from signedjson.sign import sign_json
from signedjson.types import SigningKey as Ed25519SigningKey
from sqlalchemy.orm import Session

from bot.models import BotSecret

log = logging.getLogger(__name__)

KINDS = ("master", "self_signing", "user_signing")

# (method, path, json body) -> (status, json response)
HttpCall = Callable[[str, str, dict[str, Any] | None], Awaitable[tuple[int, dict[str, Any]]]]


@dataclass
class SigningKey:
    kind: str
    seed_b64: str

    @property
    def key(self) -> Ed25519SigningKey:
        # The key's "version" is its public key, which makes its id ed25519:<public key>.
        tmp = decode_signing_key_base64("ed25519", "tmp", self.seed_b64)
        public = encode_verify_key_base64(get_verify_key(tmp))
        return decode_signing_key_base64("ed25519", public, self.seed_b64)

    @property
    def public(self) -> str:
        return self.key.version

    @property
    def key_id(self) -> str:
        return f"ed25519:{self.public}"


def _new_key(kind: str) -> SigningKey:
    return SigningKey(kind, encode_signing_key_base64(generate_signing_key("new")))


def load_keys(session: Session) -> dict[str, SigningKey] | None:
    found = {k: session.get(BotSecret, f"cross_signing.{k}") for k in KINDS}
    if any(v is None for v in found.values()):
        return None
    return {k: SigningKey(k, v.value) for k, v in found.items() if v is not None}


def store_keys(session: Session, keys: dict[str, SigningKey]) -> None:
    for kind, key in keys.items():
        session.merge(BotSecret(name=f"cross_signing.{kind}", value=key.seed_b64))


def _key_object(user_id: str, key: SigningKey) -> dict[str, Any]:
    return {"user_id": user_id, "usage": [key.kind], "keys": {key.key_id: key.public}}


def upload_body(user_id: str, keys: dict[str, SigningKey]) -> dict[str, Any]:
    master = keys["master"]
    body: dict[str, Any] = {"master_key": _key_object(user_id, master)}
    for kind in ("self_signing", "user_signing"):
        body[f"{kind}_key"] = sign_json(_key_object(user_id, keys[kind]), user_id, master.key)
    return body


async def ensure_cross_signed(
    http: HttpCall,
    session: Session,
    user_id: str,
    device_id: str,
    password: str | None,
) -> None:
    """Make sure the bot's identity exists on the server and signs ``device_id``."""
    keys = load_keys(session)
    status, query = await http("POST", "/_matrix/client/v3/keys/query", {"device_keys": {user_id: [device_id]}})
    if status != 200:
        raise RuntimeError(f"keys/query failed with HTTP {status}")
    server_master = (query.get("master_keys") or {}).get(user_id)
    if keys is None:
        keys = {k: _new_key(k) for k in KINDS}
        await _upload_identity(http, user_id, keys, password, replacing=server_master is not None)
        store_keys(session, keys)
        session.commit()
        log.info("cross-signing identity created and uploaded")
    elif server_master is None or keys["master"].key_id not in server_master.get("keys", {}):
        await _upload_identity(http, user_id, keys, password, replacing=server_master is not None)
        log.info("cross-signing identity re-uploaded")

    device = (query.get("device_keys") or {}).get(user_id, {}).get(device_id)
    if device is None:
        raise RuntimeError("the bot's device keys are not on the server yet")
    ssk = keys["self_signing"]
    if ssk.key_id in device.get("signatures", {}).get(user_id, {}):
        return
    to_sign = {k: v for k, v in copy.deepcopy(device).items() if k not in ("signatures", "unsigned")}
    signed = sign_json(to_sign, user_id, ssk.key)
    status, resp = await http("POST", "/_matrix/client/v3/keys/signatures/upload", {user_id: {device_id: signed}})
    if status != 200 or resp.get("failures"):
        raise RuntimeError(f"signing the bot's device failed (HTTP {status})")
    log.info("device %s signed by the bot's self-signing key", device_id)


async def _upload_identity(http: HttpCall, user_id: str, keys: dict[str, SigningKey], password: str | None,
                           *, replacing: bool) -> None:
    body = upload_body(user_id, keys)
    status, resp = await http("POST", "/_matrix/client/v3/keys/device_signing/upload", body)
    if status == 401 and "session" in resp and password:
        # Replacing existing keys needs user-interactive auth with the password.
        body["auth"] = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user_id},
            "password": password,
            "session": resp["session"],
        }
        status, resp = await http("POST", "/_matrix/client/v3/keys/device_signing/upload", body)
    if status != 200:
        what = "replacing the bot's cross-signing keys" if replacing else "uploading cross-signing keys"
        raise RuntimeError(f"{what} failed (HTTP {status}, {resp.get('errcode', 'no errcode')})")
