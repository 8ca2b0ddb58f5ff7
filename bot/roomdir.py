"""The directory of rooms the bot built: find and record them by kind, community and owner."""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import ManagedRoom, RoomKind


def register_room(session: Session, room_id: str, kind: RoomKind, *, community: str | None = None,
                  owner: str | None = None, partner: str | None = None) -> ManagedRoom:
    room = session.get(ManagedRoom, room_id)
    if room is None:
        room = ManagedRoom(room_id=room_id, kind=kind.value, community=community, owner=owner, partner=partner)
        session.add(room)
    else:
        room.kind, room.community, room.owner, room.partner = kind.value, community, owner, partner
    session.flush()
    return room


def find_rooms(session: Session, kind: RoomKind, *, community: str | None = None,
               owner: str | None = None, partner: str | None = None) -> list[ManagedRoom]:
    q = select(ManagedRoom).where(ManagedRoom.kind == kind.value)
    if community is not None:
        q = q.where(ManagedRoom.community == community)
    if owner is not None:
        q = q.where(ManagedRoom.owner == owner)
    if partner is not None:
        q = q.where(ManagedRoom.partner == partner)
    return list(session.scalars(q.order_by(ManagedRoom.created_at)))


def find_room(session: Session, kind: RoomKind, **kw: str | None) -> ManagedRoom | None:
    rooms = find_rooms(session, kind, **kw)
    return rooms[0] if rooms else None


def toolbox_room_of(session: Session, user_id: str) -> str | None:
    room = find_room(session, RoomKind.TOOLBOX, owner=user_id)
    return room.room_id if room else None


# Owners per ``IN`` list: far below SQLite's and PostgreSQL's limits on bound parameters.
_IN_CHUNK = 500


def toolbox_rooms_of(session: Session, user_ids: Iterable[str]) -> dict[str, str]:
    """``toolbox_room_of`` for many people at once (those without a toolbox room are left out):
    one statement per ``_IN_CHUNK`` people, none for no one."""
    owners = sorted(set(user_ids))
    found: dict[str, str] = {}
    for n in range(0, len(owners), _IN_CHUNK):
        q = (select(ManagedRoom.owner, ManagedRoom.room_id)
             .where(ManagedRoom.kind == RoomKind.TOOLBOX.value, ManagedRoom.owner.in_(owners[n:n + _IN_CHUNK]))
             .order_by(ManagedRoom.created_at))
        for owner, room_id in session.execute(q):
            if owner is not None:
                found.setdefault(owner, room_id)  # the first made, as ``find_room``
    return found
