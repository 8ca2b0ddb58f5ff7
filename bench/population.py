"""Building a population for the large benchmarks through the bot's own code: active participants,
each with a toolbox room the bot made (``rooms.membership.ensure_toolbox_room``) and joined by
the person (plain client-server API, no encryption device: the bot's encryption work is the same)."""

from __future__ import annotations

import asyncio
from typing import Sequence
from urllib.parse import quote

from bench.common import Account, http_json
from bot.app import App
from bot.models import EnrolmentStatus, Participant
from rooms.membership import ensure_toolbox_room


async def join_all(homeserver: str, pairs: Sequence[tuple[Account, str]], concurrency: int = 8) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def join(account: Account, room_id: str) -> None:
        async with gate:
            data = await http_json("POST", f"{homeserver}/_matrix/client/v3/join/{quote(room_id)}",
                                   account.access_token, {})
            assert "room_id" in data, data

    await asyncio.gather(*(join(a, r) for a, r in pairs))


async def enrol_with_toolboxes(app: App, people: Sequence[Account], community: str = "North",
                               concurrency: int = 8) -> dict[str, str]:
    """Active participants with toolbox rooms; returns user id → toolbox room id."""
    assert app.db is not None and app.port is not None
    rooms: dict[str, str] = {}
    with app.db.session() as s:
        for i, person in enumerate(people):
            s.merge(Participant(user_id=person.user_id, status=EnrolmentStatus.ACTIVE.value,
                                pseudonym=f"Bench{i:04d}", pseudonym_key=f"bench{i:04d}", community=community))
    gate = asyncio.Semaphore(concurrency)

    async def make(person: Account) -> None:
        # Each room in its own short session: the write happens at the commit, after the Matrix
        # call, so no write is pending across an await (SQLite has one writer).
        async with gate:
            with app.db.session() as s:
                rooms[person.user_id], _ = await ensure_toolbox_room(s, app.port, person.user_id, "Toolbox")

    await asyncio.gather(*(make(p) for p in people))
    await join_all(app.settings.homeserver.url, [(p, rooms[p.user_id]) for p in people])
    return rooms
