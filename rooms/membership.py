"""Who is in which community room: admitting a participant, removing them, finding rooms."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import RoomKind
from bot.port import MatrixPort, RoomSpec
from bot.roomdir import find_room, find_rooms, register_room, toolbox_room_of
from rooms.models import Circle, CircleMember, Mute

MUTED_LEVEL = -1  # below events_default (0): can read, cannot post


def community_room_ids(session: Session, community: str | None) -> list[str]:
    """The space, the forum and the community's café room (those that exist)."""
    rooms = [find_room(session, RoomKind.SPACE), find_room(session, RoomKind.FORUM)]
    if community is not None:
        rooms.append(find_room(session, RoomKind.CAFE, community=community))
    return [r.room_id for r in rooms if r is not None]


def posting_room_ids(session: Session, user_id: str | None = None) -> list[str]:
    """Rooms where people post to peers: the forum, every café room, and (for ``user_id``)
    the circles they joined and their café buddy and ride rooms."""
    rooms = find_rooms(session, RoomKind.FORUM) + find_rooms(session, RoomKind.CAFE)
    ids = [r.room_id for r in rooms]
    if user_id is not None:
        ids += circle_room_ids(session, user_id)
        ids += [r.room_id for r in (*find_rooms(session, RoomKind.BUDDY, owner=user_id),
                                    *find_rooms(session, RoomKind.BUDDY, partner=user_id))]
    return ids


def circle_room_ids(session: Session, user_id: str) -> list[str]:
    q = (select(Circle.room_id)
         .join(CircleMember, CircleMember.circle_id == Circle.id)
         .where(CircleMember.user_id == user_id, CircleMember.status == "accepted",
                Circle.room_id.is_not(None)))
    return [r for r in session.scalars(q) if r]


def shared_room_ids(session: Session, user_id: str) -> list[str]:
    space = find_room(session, RoomKind.SPACE)
    return ([space.room_id] if space else []) + posting_room_ids(session, user_id)


async def invite_to_community(session: Session, port: MatrixPort, user_id: str, community: str | None) -> None:
    """Invite to the space, forum and café room. A mute holds in every room they may post in,
    also those they come (back) into later."""
    muted = session.get(Mute, user_id) is not None
    posting = set(posting_room_ids(session)) if muted else set()
    for room_id in community_room_ids(session, community):
        if user_id not in await port.members(room_id):
            await port.invite(room_id, user_id)
            if room_id in posting:
                await port.set_power_level(room_id, user_id, MUTED_LEVEL)


async def ensure_toolbox_room(session: Session, port: MatrixPort, user_id: str, name: str) -> tuple[str, bool]:
    """The person's toolbox room, made (encrypted, direct) if missing; (room id, newly made)."""
    existing = toolbox_room_of(session, user_id)
    if existing is not None:
        return existing, False
    room_id = await port.create_room(RoomSpec(name=name, invite=(user_id,), is_direct=True))
    register_room(session, room_id, RoomKind.TOOLBOX, owner=user_id)
    return room_id, True


async def remove_from_shared_rooms(session: Session, port: MatrixPort, user_id: str) -> None:
    """Kick from the space, forum, café and circle rooms they are in; circle places are given up
    (written after the last Matrix call). Every circle room is checked, not only those recorded
    for them: after an erasure their memberships are gone from the database but not from Matrix."""
    every_circle = [r.room_id for r in find_rooms(session, RoomKind.CIRCLE)]
    for room_id in dict.fromkeys([*shared_room_ids(session, user_id), *every_circle]):
        if user_id in await port.members(room_id):
            await port.kick(room_id, user_id)
    for member in session.scalars(select(CircleMember).where(CircleMember.user_id == user_id,
                                                             CircleMember.status == "accepted")):
        member.status = "left"
    session.flush()


async def lift_mute(port: MatrixPort, session: Session, user_id: str) -> None:
    """Posting rights back in every room the person may post in (a mute ended or was lifted)."""
    for room_id in posting_room_ids(session, user_id):
        await port.set_power_level(room_id, user_id, None)
