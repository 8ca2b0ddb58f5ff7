"""``bot.accept_invites_from`` looks past the inviter: a direct chat with someone from a server
the bot does not serve is left on joining, and never counts as a private (direct) room."""

from __future__ import annotations

from typing import Any

from nio import JoinResponse, RoomGetStateResponse

from bot.models import RoomKind
from bot.roomstate import RoomState
from tests.support.core import test_settings

BOT, ALICE, EVE = "@bot:localhost", "@alice:localhost", "@eve:elsewhere.org"


def member(user_id: str, membership: str, sender: str | None = None) -> dict[str, Any]:
    return {"type": "m.room.member", "state_key": user_id, "sender": sender or user_id, "event_id": f"$m-{user_id}",
            "origin_server_ts": 1, "content": {"membership": membership}}


class FakeClient:
    def __init__(self, members: dict[str, list[dict[str, Any]]]) -> None:
        self.user_id = BOT
        self.rooms: dict[str, Any] = {}
        self.encrypted_rooms: set[str] = set()
        self.store = self.olm = None
        self.next_batch = "s1"
        self.members = members
        self.left: list[str] = []

    async def join(self, room_id: str) -> Any:
        return JoinResponse(room_id)

    async def room_get_state(self, room_id: str) -> Any:
        create = {"type": "m.room.create", "state_key": "", "sender": ALICE, "event_id": "$c", "origin_server_ts": 1,
                  "content": {"creator": ALICE}}
        return RoomGetStateResponse([create, member(BOT, "join"), *self.members[room_id]], room_id)

    async def room_leave(self, room_id: str) -> None:
        self.left.append(room_id)


def invite_from(inviter: str) -> list[Any]:
    from nio import InviteMemberEvent

    return [InviteMemberEvent.from_dict(member(BOT, "invite", sender=inviter))]


async def test_a_direct_chat_with_someone_the_bot_does_not_serve_is_left() -> None:
    client = FakeClient({"!dm:localhost": [member(ALICE, "join")],
                         "!sneaky:localhost": [member(ALICE, "leave"), member(EVE, "invite", sender=ALICE)]})
    rooms = RoomState(client, test_settings())  # type: ignore[arg-type]
    await rooms.handle_invite("!dm:localhost", invite_from(ALICE))
    await rooms.handle_invite("!sneaky:localhost", invite_from(ALICE))
    assert client.left == ["!sneaky:localhost"]
    assert rooms.kind(None, "!dm:localhost") is RoomKind.DIRECT
    assert rooms.kind(None, "!sneaky:localhost") is RoomKind.OTHER  # never a private room
