"""The sync filter the bot sends: everything it reads, nothing it never reads (presence, typing
notices, account data), which in a forum of a thousand people would come with every sync."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.keys import KeyWork
from bot.roomstate import RoomState
from bot.sync import Syncer
from tests.support.core import test_settings
from tests.unit.test_sync import FakeClient, RecordingDispatcher, sync_response


async def test_the_sync_asks_for_what_the_bot_reads_and_nothing_else(db) -> None:
    filters: list[dict[str, Any]] = []

    class Client(FakeClient):
        async def sync(self, timeout: int, since: str | None, sync_filter: dict[str, Any]) -> Any:
            filters.append(sync_filter)
            return await super().sync(timeout, since, sync_filter)

    client = Client([sync_response("s1")])
    settings = test_settings()
    syncer = Syncer(db, client, settings, RoomState(client, settings), KeyWork(client),  # type: ignore[arg-type]
                    RecordingDispatcher(db), asyncio.Lock())  # type: ignore[arg-type]
    assert await syncer.sync_once(first=True)
    (f,) = filters
    room = f["room"]
    # read: timelines, every member's state (encryption needs them all), receipts
    assert room["timeline"]["limit"] >= 100
    assert room["state"].get("lazy_load_members") is False
    assert room["ephemeral"] == {"types": ["m.receipt"]}
    # never read
    assert f["presence"] == {"not_types": ["*"]}
    assert f["account_data"] == {"not_types": ["*"]}
    assert room["account_data"] == {"not_types": ["*"]}
