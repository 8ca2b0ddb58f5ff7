"""What the bot knows of its rooms: their full state fetched once when needed (``ensure_room``),
their kind and encryption as nio sees them, and invites."""

from __future__ import annotations

import logging
from typing import Any

from nio import (
    AsyncClient,
    Event,
    InviteMemberEvent,
    JoinResponse,
    MatrixRoom,
    RoomCreateEvent,
    RoomGetStateResponse,
    RoomMemberEvent,
    SyncResponse,
)

from bot.config import Settings
from bot.models import ManagedRoom, RoomKind

log = logging.getLogger(__name__)


def may_invite(settings: Settings, user_id: str) -> bool:
    """Whether an invite from ``user_id`` is accepted (``bot.accept_invites_from``, by default
    the bot's own server)."""
    allowed = settings.bot.accept_invites_from or [settings.bot.server_name]
    server = user_id.split(":", 1)[1] if ":" in user_id else ""
    return "*" in allowed or server in allowed


class RoomState:
    def __init__(self, client: AsyncClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self._complete: set[str] = set()  # rooms whose full state nio holds (see ensure_room)

    def note_sync(self, resp: SyncResponse, since: str | None) -> None:
        """An initial sync, or a room joined since the token, comes with the room's whole state."""
        for room_id, info in resp.rooms.join.items():
            if since is None or any(isinstance(e, RoomCreateEvent) for e in (*info.state, *info.timeline.events)):
                self._complete.add(room_id)

    async def ensure_room(self, room_id: str) -> bool:
        """Make sure nio holds the room's full state (members, encryption), fetching it once if
        the room has not been in a sync with its state since start. False if the bot cannot
        read the room (not a member)."""
        return await self.refusal(room_id) is None

    async def refusal(self, room_id: str) -> str | None:
        """``ensure_room``'s work: None when the state is held, else the homeserver's error code
        (\"?\" when it gave none)."""
        client = self.client
        if room_id in self._complete and room_id in client.rooms:
            return None
        for _ in range(3):
            # A sync handled while the state was on its way may be newer than the snapshot (a
            # member who left would come back): then read it again.
            position = client.next_batch
            resp = await client.room_get_state(room_id)
            if not isinstance(resp, RoomGetStateResponse):
                code: str | None = getattr(resp, "status_code", None)
                return code or "?"
            if client.next_batch == position:
                break
        room = client.rooms.get(room_id)
        if room is None:
            room = client.rooms[room_id] = MatrixRoom(room_id, client.user_id, room_id in client.encrypted_rooms)
        for raw in resp.events:
            event = Event.parse_event(raw)
            if isinstance(event, RoomMemberEvent):
                room.handle_membership(event)
            elif isinstance(event, Event):
                room.handle_event(event)
        room.members_synced = True
        if room.encrypted:
            client.encrypted_rooms.add(room_id)
            if client.store is not None:
                client.store.save_encrypted_rooms({room_id})
            if client.olm is not None:
                client.olm.update_tracked_users(room)
        self._complete.add(room_id)
        return None

    def kind(self, room: ManagedRoom | None, room_id: str) -> RoomKind:
        if room is not None:
            return RoomKind(room.kind)
        nio_room = self.client.rooms.get(room_id)
        # Only with the room's whole state: a partly known room may show fewer members than it has.
        # A direct chat is private only with people the bot serves (``accept_invites_from``).
        if (nio_room is not None and room_id in self._complete and nio_room.member_count <= 2
                and self._all_allowed(nio_room)):
            return RoomKind.DIRECT
        return RoomKind.OTHER

    def _all_allowed(self, room: MatrixRoom) -> bool:
        return all(may_invite(self.settings, user_id) for user_id in room.users
                   if user_id != self.client.user_id)

    def encrypted(self, room_id: str) -> bool:
        room = self.client.rooms.get(room_id)
        return bool(room is not None and room.encrypted)

    async def handle_invite(self, room_id: str, invite_state: list[Any]) -> None:
        client = self.client
        inviter = None
        for ev in invite_state:
            if isinstance(ev, InviteMemberEvent) and ev.state_key == client.user_id and ev.membership == "invite":
                inviter = ev.sender
        if inviter is not None and may_invite(self.settings, inviter):
            resp = await client.join(room_id)
            log.info("joined %s on an invite (%s)", room_id, type(resp).__name__)
            # The inviter alone is not enough: a direct chat with someone from a server the bot
            # does not serve (invited by someone it does) is left again.
            if isinstance(resp, JoinResponse) and await self.ensure_room(room_id):
                room = client.rooms.get(room_id)
                if room is not None and room.member_count <= 2 and not self._all_allowed(room):
                    await client.room_leave(room_id)
                    log.info("left %s: a direct chat with someone from a server the bot does not serve", room_id)
        else:
            await client.room_leave(room_id)
            log.info("declined an invite to %s from a server the bot does not serve", room_id)
