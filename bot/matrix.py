"""The matrix-nio side: logging in once and reusing the device, and the real :class:`MatrixPort`."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    BadEventType,
    ErrorResponse,
    Event,
    JoinedMembersResponse,
    LoginResponse,
    MatrixRoom,
    MegolmEvent,
    RoomCreateResponse,
    RoomGetEventResponse,
    RoomGetStateEventResponse,
    RoomPreset,
    RoomVisibility,
    UploadResponse,
    WhoamiResponse,
)
from nio.crypto.device import DeviceStore, OlmDevice
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.contentkey import make_private, rekey_crypto_store
from bot.cryptostore import CryptoStore
from bot.models import BotSecret, BotState
from bot.port import PortError, RoomSpec, UploadedFile

log = logging.getLogger(__name__)


class StartupError(Exception):
    """Start-up cannot go on; the message says why and what to do."""


class MatrixError(PortError):
    """The homeserver refused a request made through the port."""

    def __init__(self, what: str, response: Any) -> None:
        code = getattr(response, "status_code", None) or getattr(response, "message", "")
        super().__init__(f"{what} failed: {code}")
        self.response = response
        self.errcode = getattr(response, "status_code", None)


def _check(what: str, response: Any) -> Any:
    if isinstance(response, ErrorResponse):
        raise MatrixError(what, response)
    return response


def _add_device(self: DeviceStore, device: OlmDevice) -> bool:
    """nio's ``DeviceStore.add`` without its scan of every known device: it asks ``device in
    self``, comparing the new device with each stored one, so loading the store at start made
    n²/2 comparisons (2.8 s of the start at 3,000 devices, the largest part of it). An equal
    device has the same user and device id, so only the one stored under that id can be equal:
    the same answer from one lookup."""
    known = self._entries[device.user_id].get(device.id)
    if known is not None and known == device:
        return False
    self._entries[device.user_id][device.id] = device
    return True


DeviceStore.add = _add_device


class ReConnectClient(AsyncClient):  # type: ignore[misc]  # nio is untyped
    """matrix-nio's client, except that a decrypted event never changes nio's room model.

    A megolm plaintext needs only ``type`` and ``content``: anyone who can write to a room can
    encrypt ``{"type": "m.room.member", "state_key": "@them", "content": {"membership": "leave"}}``.
    nio 0.26 applies such a decrypted event like real state (``_handle_timeline_event``), so a fake
    leave would stop the bot sharing room keys with that member, a fake join would share them
    with a stranger's devices, and a fake name or power-levels event would change what the bot
    believes of the room. Real state is never encrypted, so a decrypted event is only decrypted
    here (for the dispatcher, which drops every type that must arrive in clear) and never handed
    to the room. This is nio's method with the room update left out for decrypted events.
    """

    def _handle_timeline_event(self, event: Event | BadEventType, room_id: str, room: MatrixRoom,
                               encrypted_rooms: set[str]) -> Event | BadEventType | None:
        if isinstance(event, MegolmEvent) and self.olm:
            event.room_id = room_id
            decrypted: Event | BadEventType | None = self.olm._decrypt_megolm_no_error(event)
            return decrypted
        handled: Event | BadEventType | None = super()._handle_timeline_event(event, room_id, room, encrypted_rooms)
        return handled


def crypto_store_file(store_dir: Path, user_id: str, device_id: str) -> Path:
    # matrix-nio's default SQLite store name.
    return store_dir / f"{user_id}_{device_id}.db"


def _state(session: Session, key: str) -> str | None:
    row = session.get(BotState, key)
    return row.value if row else None


def client_config(pickle_key: str) -> AsyncClientConfig:
    """nio's configuration for the bot's client. No retries inside nio: the sync loop and the
    outbox retry themselves, and they must see an outage (to log it and report it on /healthz)
    rather than wait in nio forever. The crypto store is nio's, loaded in a fixed number of
    queries, with its trust files indexed (:mod:`bot.cryptostore`, :mod:`bot.truststore`)."""
    return AsyncClientConfig(store_sync_tokens=False, encryption_enabled=True, max_limit_exceeded=0,
                             max_timeouts=0, request_timeout=60, pickle_key=pickle_key, store=CryptoStore)


async def connect(settings: Settings, session: Session, *, pickle_key: str) -> AsyncClient:
    """Log in the first time (password), afterwards reuse the stored token and device.

    Refuses to start when a device id is known but its crypto store is gone: the bot would
    otherwise come up unable to read anything and nobody would notice. ``pickle_key`` (derived
    from the content key, see :mod:`bot.contentkey`) seals the Olm account and sessions in the
    store; a store from before, pickled with nio's ``DEFAULT_KEY``, is re-sealed first.
    """
    store_dir = settings.storage.data_dir / "crypto"
    store_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    make_private(store_dir, 0o700)
    config = client_config(pickle_key)
    user_id = settings.bot.user_id
    client = ReConnectClient(settings.homeserver.url, user_id, store_path=str(store_dir), config=config)

    if settings.bot.access_token:
        return await _connect_with_token(settings, session, client, store_dir)
    device_id = _state(session, "device_id")
    token_row = session.get(BotSecret, "access_token")
    if device_id and token_row is not None:
        store_file = crypto_store_file(store_dir, user_id, device_id)
        if not store_file.exists():
            await client.close()
            raise StartupError(
                f"the crypto store for device {device_id} is missing from {store_dir}; "
                "restore it from backup (or remove the device id with a fresh data_dir to start as a new device)"
            )
        try:
            rekey_crypto_store(store_file, pickle_key)
        except BaseException:
            await client.close()
            raise
        client.restore_login(user_id, device_id, token_row.value)
        make_private(store_file, 0o600)
        who = await client.whoami()
        if isinstance(who, WhoamiResponse):
            log.info("resumed session as device %s", device_id)
            return client
        if getattr(who, "status_code", "") != "M_UNKNOWN_TOKEN":
            await client.close()
            raise StartupError(f"the homeserver at {settings.homeserver.url} did not answer whoami "
                               f"({getattr(who, 'status_code', who)})")
        log.warning("stored access token no longer valid; logging in again as a new device")
        await client.close()
        client = ReConnectClient(settings.homeserver.url, user_id, store_path=str(store_dir), config=config)

    if not settings.bot.password:
        await client.close()
        raise StartupError("config key 'bot.password' is needed for the first login (no stored session)")
    resp = await client.login(settings.bot.password, device_name=settings.bot.device_name)
    if not isinstance(resp, LoginResponse):
        await client.close()
        raise StartupError(f"login as {user_id} failed: {getattr(resp, 'message', resp)}")
    session.merge(BotState(key="device_id", value=resp.device_id))
    session.merge(BotSecret(name="access_token", value=resp.access_token))
    # A new device has an empty crypto store, which does not know which rooms are encrypted: its
    # first sync is a full one, not incremental from the old device's position.
    stale = session.get(BotState, "sync_token")
    if stale is not None:
        session.delete(stale)
    session.commit()
    make_private(crypto_store_file(store_dir, user_id, resp.device_id), 0o600)
    log.info("logged in as new device %s", resp.device_id)
    return client


async def _connect_with_token(settings: Settings, session: Session, client: AsyncClient,
                              store_dir: Path) -> AsyncClient:
    """``bot.access_token`` + ``bot.device_id``: no login. The token must belong to that device,
    and the crypto store and the database must not belong to another one."""
    user_id, device_id = settings.bot.user_id, settings.bot.device_id or ""
    known = _state(session, "device_id")
    others = sorted(p.name for p in store_dir.glob(f"{user_id}_*.db")
                    if p != crypto_store_file(store_dir, user_id, device_id))
    if (known and known != device_id) or others:
        await client.close()
        raise StartupError(f"config key 'bot.device_id': {device_id} does not match the crypto store in {store_dir} "
                           f"(device {known or others[0]}); use that device's token, or a fresh data_dir")
    client.restore_login(user_id, device_id, settings.bot.access_token or "")
    who = await client.whoami()
    if not isinstance(who, WhoamiResponse):
        await client.close()
        raise StartupError(f"config key 'bot.access_token': the homeserver refused it "
                           f"({getattr(who, 'status_code', None) or getattr(who, 'message', who)})")
    if who.user_id != user_id or (who.device_id and who.device_id != device_id):
        await client.close()
        raise StartupError(f"config key 'bot.access_token': it belongs to {who.user_id} device {who.device_id}, "
                           f"not {user_id} device {device_id}")
    if known != device_id:
        session.merge(BotState(key="device_id", value=device_id))
        stale = session.get(BotState, "sync_token")
        if stale is not None:
            session.delete(stale)
        session.commit()
    log.info("using the configured access token for device %s", device_id)
    return client


class NioPort:
    """The real Matrix port over matrix-nio."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self.bot_user_id = client.user_id
        self._creator_is_listed: bool | None = None

    async def _creator_in_power_users(self) -> bool:
        """Room versions before 12 list the creator in the power levels; from 12 on, creators
        have unlimited power and must not be listed."""
        if self._creator_is_listed is None:
            status, caps = await self.http("GET", "/_matrix/client/v3/capabilities", None)
            version = str(caps.get("capabilities", {}).get("m.room_versions", {}).get("default", "10"))
            self._creator_is_listed = not (version.isdigit() and int(version) >= 12)
        return self._creator_is_listed

    async def http(self, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
        """A raw client-server API call (for endpoints nio does not wrap)."""
        url = self.client.homeserver + path
        headers = {"Authorization": f"Bearer {self.client.access_token}"}
        async with aiohttp.ClientSession() as http:
            async with http.request(method, url, json=body, headers=headers) as r:
                try:
                    data = await r.json(content_type=None)
                except (json.JSONDecodeError, aiohttp.ContentTypeError):
                    data = {}
                return r.status, data if isinstance(data, dict) else {}

    async def create_room(self, spec: RoomSpec) -> str:
        users = dict(spec.power_users)
        if await self._creator_in_power_users():
            users[self.bot_user_id] = 100
        power = {
            "users": users,
            "users_default": 0,
            "events_default": 0,
            "state_default": 50,
            "invite": 50,
            "kick": 50,
            "ban": 50,
            "redact": 50,
            "events": {
                "m.room.name": 100,
                "m.room.power_levels": 100,
                "m.room.encryption": 100,
                "m.room.history_visibility": 100,
                "m.room.join_rules": 100,
                "m.room.topic": 50,
                "m.room.pinned_events": 50,
                "m.space.child": 100,
            },
        }
        initial_state: list[dict[str, Any]] = [
            {"type": "m.room.join_rules", "state_key": "", "content": {"join_rule": "invite"}},
            {"type": "m.room.history_visibility", "state_key": "", "content": {"history_visibility": "shared"}},
            {"type": "m.room.guest_access", "state_key": "", "content": {"guest_access": "forbidden"}},
        ]
        if spec.encrypted:
            initial_state.insert(0, {"type": "m.room.encryption", "state_key": "",
                                     "content": {"algorithm": "m.megolm.v1.aes-sha2"}})
        if spec.parent_space:
            server = self.bot_user_id.split(":", 1)[1]
            initial_state.append({"type": "m.space.parent", "state_key": spec.parent_space,
                                  "content": {"via": [server], "canonical": True}})
        resp = await self.client.room_create(
            visibility=RoomVisibility.private,
            name=spec.name,
            topic=spec.topic or None,
            invite=list(spec.invite),
            is_direct=spec.is_direct,
            preset=RoomPreset.private_chat,
            initial_state=initial_state,
            power_level_override=power,
            space=spec.is_space,
        )
        resp = _check("creating a room", resp)
        assert isinstance(resp, RoomCreateResponse)
        if spec.parent_space:
            server = self.bot_user_id.split(":", 1)[1]
            await self.set_state(spec.parent_space, "m.space.child", {"via": [server]}, resp.room_id)
        room_id: str = resp.room_id
        return room_id

    async def invite(self, room_id: str, user_id: str) -> None:
        _check("inviting", await self.client.room_invite(room_id, user_id))

    async def kick(self, room_id: str, user_id: str, reason: str | None = None) -> None:
        _check("removing a member", await self.client.room_kick(room_id, user_id, reason))

    async def ban(self, room_id: str, user_id: str, reason: str | None = None) -> None:
        _check("banning", await self.client.room_ban(room_id, user_id, reason))

    async def unban(self, room_id: str, user_id: str) -> None:
        _check("unbanning", await self.client.room_unban(room_id, user_id))

    async def redact(self, room_id: str, event_id: str, reason: str | None = None) -> None:
        _check("redacting", await self.client.room_redact(room_id, event_id, reason))

    async def set_power_level(self, room_id: str, user_id: str, level: int | None) -> None:
        current = await self.get_state(room_id, "m.room.power_levels") or {}
        users = dict(current.get("users", {}))
        if level is None:
            users.pop(user_id, None)
        else:
            users[user_id] = level
        current["users"] = users
        await self.set_state(room_id, "m.room.power_levels", current)

    async def get_state(self, room_id: str, event_type: str, state_key: str = "") -> dict[str, Any] | None:
        resp = await self.client.room_get_state_event(room_id, event_type, state_key)
        if isinstance(resp, RoomGetStateEventResponse):
            return dict(resp.content)
        return None

    async def set_state(self, room_id: str, event_type: str, content: dict[str, Any], state_key: str = "") -> None:
        _check(f"setting {event_type}", await self.client.room_put_state(room_id, event_type, content, state_key))

    async def members(self, room_id: str) -> list[str]:
        room = self.client.rooms.get(room_id)
        if room is not None and room.members_synced:
            return sorted(set(room.users) | set(room.invited_users))
        resp = await self.client.joined_members(room_id)
        if isinstance(resp, JoinedMembersResponse):
            return sorted(m.user_id for m in resp.members)
        return sorted(room.users) if room is not None else []

    async def display_name(self, room_id: str, user_id: str) -> str | None:
        room = self.client.rooms.get(room_id)
        if room is None:
            return None
        member = room.users.get(user_id)
        return member.display_name if member is not None else None

    async def fetch_event(self, room_id: str, event_id: str) -> dict[str, Any] | None:
        resp = await self.client.room_get_event(room_id, event_id)
        if not isinstance(resp, RoomGetEventResponse):
            return None
        event = resp.event
        if isinstance(event, MegolmEvent):
            try:
                event = self.client.decrypt_event(event)
            except Exception:  # noqa: BLE001 - an unreadable event is simply not available
                return None
        source = event.source
        return {"event_id": event_id, "sender": source.get("sender"), "type": source.get("type"),
                "content": source.get("content", {})}

    async def upload(self, data: bytes, mimetype: str, filename: str) -> UploadedFile:
        resp, keys = await self.client.upload(
            lambda *_: io.BytesIO(data), content_type=mimetype, filename=filename, encrypt=True, filesize=len(data)
        )
        resp = _check("uploading a file", resp)
        assert isinstance(resp, UploadResponse) and keys is not None
        return UploadedFile(url=resp.content_uri, file_info=dict(keys))

    async def leave(self, room_id: str) -> None:
        _check("leaving a room", await self.client.room_leave(room_id))

    async def delete_media(self, url: str) -> bool:
        # Synapse's admin API (Matrix has no client call to delete media): works when the bot's
        # account is a homeserver admin; otherwise refused (403) and the file stays, as ciphertext
        # whose key was only ever in the room's now-forgotten events.
        server, _, media_id = url.removeprefix("mxc://").partition("/")
        if not server or not media_id:
            return False
        status, _ = await self.http("DELETE", f"/_synapse/admin/v1/media/{quote(server)}/{quote(media_id)}", None)
        return status == 200

    async def direct_rooms_with(self, user_id: str) -> list[str]:
        return [room_id for room_id, room in self.client.rooms.items()
                if set(room.users) | set(room.invited_users) <= {self.bot_user_id, user_id} and user_id in room.users]
