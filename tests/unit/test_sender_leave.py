"""The sender's LEAVE_ROOM rows (``!forget-me``): the bot leaves and forgets a person's private
room only after its last message there is sent, and then keeps no trace of the room."""

from __future__ import annotations

from nio import RoomForgetResponse, RoomLeaveResponse
from sqlalchemy import select

from bot.models import HandledEvent, OutboxMessage, SentEvent
from bot.outbox import enqueue, enqueue_leave, notice_content
from tests.unit.test_sender import FlakyClient, sender_for

ROOM, OTHER = "!r:localhost", "!other:localhost"


class LeavingClient(FlakyClient):
    def __init__(self) -> None:
        super().__init__()
        self.limited = 0
        self.rooms[OTHER] = self.rooms[ROOM]
        self.left: list[tuple[str, str]] = []

    async def room_leave(self, room_id):
        self.left.append(("leave", room_id))
        return RoomLeaveResponse()

    async def room_forget(self, room_id):
        self.left.append(("forget", room_id))
        return RoomForgetResponse(room_id)


async def test_the_goodbye_is_sent_then_the_bot_leaves_and_keeps_nothing_of_the_room(db):
    client = LeavingClient()
    sender = sender_for(db, client)
    with db.session() as s:
        s.add(HandledEvent(event_id="$forget-me", room_id=ROOM))
        s.add(HandledEvent(event_id="$elsewhere", room_id=OTHER))
        enqueue(s, ROOM, notice_content("Everything has been erased."), txn_id="goodbye")
        enqueue_leave(s, ROOM)
        enqueue(s, OTHER, notice_content("hello"), txn_id="other")
    for _ in range(3):
        await sender.send_wave()
    assert [body for _, body, _ in client.sent] == ["Everything has been erased.", "hello"]
    assert client.left == [("leave", ROOM), ("forget", ROOM)]
    with db.session() as s:
        assert s.scalars(select(OutboxMessage)).all() == []
        assert [e.room_id for e in s.scalars(select(SentEvent))] == [OTHER]
        assert [e.room_id for e in s.scalars(select(HandledEvent))] == [OTHER]
