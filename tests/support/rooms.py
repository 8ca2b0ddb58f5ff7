"""Helpers for the community's unit tests: a built community in the database, enrolled
participants, and running observers (a stand-in runtime is ``tests.support.core.FakeRuntime``)."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.orm import Session

from bot.context import Context, Services
from bot.db import Database, utcnow
from bot.models import EnrolmentStatus, Participant, RoomKind
from bot.people import pseudonym_key
from bot.roomdir import register_room
from rooms.feature import feature
from tests.support.core import FakePort

SPACE, FORUM, CONSULTANTS = "!space:localhost", "!forum:localhost", "!consultants:localhost"
CAFE_NORTH, CAFE_SOUTH = "!cafe-north:localhost", "!cafe-south:localhost"


def build_community(session: Session, port: FakePort | None = None) -> None:
    """The rooms the start hook would have built, recorded in the room directory."""
    for room_id, kind, community in ((SPACE, RoomKind.SPACE, None), (FORUM, RoomKind.FORUM, None),
                                     (CAFE_NORTH, RoomKind.CAFE, "North"), (CAFE_SOUTH, RoomKind.CAFE, "South"),
                                     (CONSULTANTS, RoomKind.CONSULTANT, None)):
        register_room(session, room_id, kind, community=community)
        if port is not None:
            port.room_members.setdefault(room_id, [port.bot_user_id])


def toolbox_of(user_id: str) -> str:
    return f"!toolbox-{user_id[1:].split(':')[0]}:localhost"


def enrol(session: Session, user_id: str, pseudonym: str, community: str = "North",
          port: FakePort | None = None) -> Participant:
    """An active participant with a toolbox room (and, with a port, joined to the shared rooms)."""
    p = Participant(user_id=user_id, status=EnrolmentStatus.ACTIVE.value, pseudonym=pseudonym,
                    pseudonym_key=pseudonym_key(pseudonym), community=community, consent_at=utcnow(),
                    approved_at=utcnow())
    session.add(p)
    register_room(session, toolbox_of(user_id), RoomKind.TOOLBOX, owner=user_id)
    if port is not None:
        cafe = CAFE_NORTH if community == "North" else CAFE_SOUTH
        for room_id in (SPACE, FORUM, cafe):
            port.room_members.setdefault(room_id, [port.bot_user_id]).append(user_id)
    session.flush()
    return p


async def observe(ctx: Context) -> None:
    """Run the community's observers for the context's event, as the dispatcher does."""
    if ctx.event.type == "m.room.message":
        observers = feature.message_observers
    else:
        observers = feature.event_observers.get(ctx.event.type, [])
    for observer in observers:
        await observer(ctx)


_event_numbers = itertools.count(1)


def _next_event_id() -> str:
    return f"$test{next(_event_numbers)}"


def message_content(body: str, *, reply_to: str | None = None, thread_root: str | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {"msgtype": "m.text", "body": body}
    if thread_root:
        content["m.relates_to"] = {"rel_type": "m.thread", "event_id": thread_root, "is_falling_back": True,
                                   "m.in_reply_to": {"event_id": thread_root}}
    elif reply_to:
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
    return content


async def send(db: Database, services: Services, sender: str, room_id: str, body: str, *,
               reply_to: str | None = None, thread_root: str | None = None,
               event_id: str | None = None) -> list[str]:
    """One message through observers and (for commands) the router, in its own transaction like
    the dispatcher; returns the bodies of what it queued in that same room (the replies)."""
    from bot.router import dispatch_command
    from tests.support.core import make_context

    with db.session() as s:
        ctx = make_context(s, services, sender=sender, room_id=room_id, body=body,
                           event_id=event_id or _next_event_id(),
                           content=message_content(body, reply_to=reply_to, thread_root=thread_root))
        await observe(ctx)
        if services.router is not None and services.router.is_command(body):
            await dispatch_command(services.router, ctx)
        return [m["content"]["body"] for m in ctx.sent if m["room_id"] == room_id]


async def event(db: Database, services: Services, event_type: str, sender: str, room_id: str,
                content: dict[str, Any], *, state_key: str | None = None) -> list[str]:
    """A non-message event (membership, receipt, redaction) through the observers."""
    from tests.support.core import make_context

    with db.session() as s:
        ctx = make_context(s, services, sender=sender, room_id=room_id, event_type=event_type,
                           content=content, state_key=state_key, event_id=_next_event_id())
        await observe(ctx)
        return [m["content"]["body"] for m in ctx.sent]


def outbox(db: Database, room_id: str) -> list[str]:
    """Bodies queued for ``room_id`` so far."""
    from tests.support.core import queued

    with db.session() as s:
        return [c["body"] for r, c in queued(s) if r == room_id]
