"""The outbox sender: honours retry_after_ms, keeps order per room, never drops a reply."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

from nio import RoomSendError, RoomSendResponse
from sqlalchemy import select

from bot.app import App
from bot.models import OutboxMessage, SentEvent
from bot.outbox import enqueue, notice_content
from bot.testing import test_settings


class FlakyClient:
    """Answers the first send with M_LIMIT_EXCEEDED, then accepts."""

    def __init__(self) -> None:
        self.rooms = {"!r:localhost": object()}
        self.should_query_keys = False
        self.should_claim_keys = False
        self.sent: list[tuple[str, str, float]] = []
        self.limited = 1

    async def room_send(self, room_id, message_type, content, tx_id=None, ignore_unverified_devices=False):
        if self.limited:
            self.limited -= 1
            return RoomSendError("slow down", "M_LIMIT_EXCEEDED", 300, False, room_id)
        self.sent.append((tx_id, content["body"], time.monotonic()))
        return RoomSendResponse(event_id=f"$ev{len(self.sent)}", room_id=room_id)


async def test_rate_limited_send_waits_and_keeps_order(db):
    app = App(test_settings(), features=[])
    app.db = db
    app.client = FlakyClient()  # type: ignore[assignment]
    with db.session() as s:
        for n in range(3):
            enqueue(s, "!r:localhost", notice_content(f"reply {n}"), txn_id=f"t{n}")
    started = time.monotonic()
    while True:
        with db.session() as s:
            if not s.scalars(select(OutboxMessage)).all():
                break
        await app._send_batch()
        assert time.monotonic() - started < 10
    client = app.client
    assert [body for _, body, _ in client.sent] == ["reply 0", "reply 1", "reply 2"]
    assert client.sent[0][2] - started >= 0.3  # waited retry_after_ms
    with db.session() as s:
        assert {e.txn_id for e in s.scalars(select(SentEvent))} == {"t0", "t1", "t2"}


async def test_unknown_room_waits_for_sync_without_dropping(db):
    app = App(test_settings(), features=[])
    app.db = db
    app.client = SimpleNamespace(rooms={}, should_query_keys=False, should_claim_keys=False)  # type: ignore[assignment]
    with db.session() as s:
        enqueue(s, "!later:localhost", notice_content("hello"))
    await app._send_batch()
    with db.session() as s:
        (row,) = s.scalars(select(OutboxMessage)).all()
        assert json.loads(row.content)["body"] == "hello"


async def test_unreadable_row_is_set_aside_and_does_not_block_the_queue(db):
    from bot.db import FieldCipher
    from bot.models import OutboxMessage as Row

    app = App(test_settings(), features=[])
    app.db = db
    client = FlakyClient()
    client.limited = 0
    app.client = client  # type: ignore[assignment]
    with db.session() as s:
        enqueue(s, "!r:localhost", notice_content("first"), txn_id="bad")
        enqueue(s, "!r:localhost", notice_content("second"), txn_id="good")
        s.flush()
        sealed_elsewhere = FieldCipher(b"z" * 32).encrypt("{}")
        s.execute(Row.__table__.update().where(Row.txn_id == "bad").values(content=sealed_elsewhere))
    await app._send_batch()
    assert [body for _, body, _ in client.sent] == ["second"]
    with db.session() as s:
        (left,) = s.scalars(select(Row)).all()
        assert left.txn_id == "bad" and left.attempts >= 8
