"""Helpers for this package's unit tests: a small community with rooms and people, and running a command."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.context import Services
from bot.db import Database
from bot.models import EnrolmentStatus, Participant, RoomKind
from bot.roomdir import register_room
from bot.router import dispatch_command
from tests.support.core import make_context, queued

CAFE_NORTH = "!cafe-north:localhost"
CAFE_SOUTH = "!cafe-south:localhost"
FORUM = "!forum:localhost"
CONSULTANT_ROOM = "!consultants:localhost"
CONSULTANT = "@consultant:localhost"


def toolbox_of(name: str) -> str:
    return f"!toolbox-{name}:localhost"


def user(name: str) -> str:
    return f"@{name}:localhost"


def build_community(session: Session, north: tuple[str, ...] = ("ann", "bob", "cat"),
                    south: tuple[str, ...] = ("sid",)) -> None:
    """Café rooms for North and South, the forum, the consultant room, and active participants
    (pseudonym = the name capitalised) with their toolbox rooms."""
    register_room(session, CAFE_NORTH, RoomKind.CAFE, community="North")
    register_room(session, CAFE_SOUTH, RoomKind.CAFE, community="South")
    register_room(session, FORUM, RoomKind.FORUM)
    register_room(session, CONSULTANT_ROOM, RoomKind.CONSULTANT)
    for community, names in (("North", north), ("South", south)):
        for name in names:
            session.add(Participant(user_id=user(name), status=EnrolmentStatus.ACTIVE.value,
                                    pseudonym=name.title(), pseudonym_key=name, community=community))
            register_room(session, toolbox_of(name), RoomKind.TOOLBOX, owner=user(name))
    session.flush()


async def run(db: Database, services: Services, sender: str, room_id: str, body: str,
              event_id: str = "$cmd") -> list[tuple[str, dict[str, Any]]]:
    """Run one command through the real router in its own transaction, as the bot does;
    returns the messages it queued."""
    with db.session() as session:
        before = len(queued(session))
        ctx = make_context(session, services, sender=sender, room_id=room_id, body=body, event_id=event_id)
        await dispatch_command(services.router, ctx)
        return queued(session)[before:]


def bodies(messages: list[tuple[str, dict[str, Any]]], room_id: str | None = None) -> list[str]:
    return [c["body"] for r, c in messages if room_id is None or r == room_id]
