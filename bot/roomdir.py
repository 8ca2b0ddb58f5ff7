"""The directory of rooms the bot built: find and record them by kind, community and owner."""

from __future__ import annotations

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
