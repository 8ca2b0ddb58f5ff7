"""The rooms the bot builds at start: the space, the forum, a café room per community and the
consultant room. Found again on later starts (never duplicated); new communities and newly listed
staff are added. Names and topics are generic: room state is not encrypted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.models import RoomKind
from bot.port import MatrixPort, RoomSpec
from bot.roomdir import find_room, register_room
from bot.speaker import Say
from bot.weekhours import parse_hours

STAFF_LEVEL = 50


@dataclass(frozen=True)
class BuiltRoom:
    room_id: str
    kind: RoomKind
    community: str | None = None


def staff_of(settings: Settings) -> list[str]:
    return list(dict.fromkeys([*settings.people.admins, *settings.people.consultants]))


async def _ensure(session: Session, port: MatrixPort, settings: Settings, kind: RoomKind,
                  make_spec: Callable[[], RoomSpec], community: str | None = None) -> BuiltRoom | None:
    """Find or make one room; returns it only when newly made. Staff missing from an existing
    room (listed in config since) are invited and made moderators."""
    room = find_room(session, kind, community=community)
    if room is None:
        room_id = await port.create_room(make_spec())
        register_room(session, room_id, kind, community=community)
        return BuiltRoom(room_id, kind, community)
    members = await port.members(room.room_id)
    for user_id in staff_of(settings):
        if user_id not in members:
            await port.invite(room.room_id, user_id)
            if kind is not RoomKind.SPACE:
                await port.set_power_level(room.room_id, user_id, STAFF_LEVEL)
    return None


async def ensure_rooms(session: Session, port: MatrixPort, settings: Settings,
                       t: Say) -> list[BuiltRoom]:
    """Build what is missing; ``t(key, **params)`` gives room names and topics."""
    staff = tuple(staff_of(settings))
    power = {u: STAFF_LEVEL for u in staff}
    hours = parse_hours(settings.moderation.staffed_hours).said(t)
    zone = settings.moderation.staffed_timezone
    made: list[BuiltRoom] = []

    def spec(name_key: str, topic_key: str, *, parent: str | None = None, space: bool = False) -> RoomSpec:
        return RoomSpec(name=t(name_key), topic=t(topic_key, hours=hours, timezone=zone), invite=staff,
                        is_space=space, power_users=power, parent_space=parent)

    space = await _ensure(session, port, settings, RoomKind.SPACE,
                          lambda: spec("rooms.room.space_name", "rooms.room.space_topic", space=True))
    made += [space] if space else []
    space_row = find_room(session, RoomKind.SPACE)
    space_id = space_row.room_id if space_row else None
    forum = await _ensure(session, port, settings, RoomKind.FORUM,
                          lambda: spec("rooms.room.forum_name", "rooms.room.forum_topic", parent=space_id))
    made += [forum] if forum else []
    for community in settings.communities:
        cafe = await _ensure(
            session, port, settings, RoomKind.CAFE,
            lambda: spec("rooms.room.cafe_name", "rooms.room.cafe_topic", parent=space_id),
            community=community.name)
        made += [cafe] if cafe else []
    consultant = await _ensure(
        session, port, settings, RoomKind.CONSULTANT,
        lambda: spec("rooms.room.consultant_name", "rooms.room.consultant_topic"))
    made += [consultant] if consultant else []
    return made
