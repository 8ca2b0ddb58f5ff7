"""The rooms the bot builds at start: the space, the forum, a café room per community and the
consultant room. Found again on later starts (never duplicated); new communities and newly listed
staff are added, and staff no longer listed are demoted everywhere and removed from the consultant
room. Names and topics are generic: room state is not encrypted."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.models import EnrolmentStatus, Participant, RoomKind
from bot.port import MatrixPort, PortError, RoomSpec
from bot.roomdir import find_room, register_room
from bot.speaker import Say
from bot.weekhours import parse_hours

log = logging.getLogger(__name__)
STAFF_LEVEL = 50
# Rooms only staff (and the bot) belong in: anyone else found there is removed at start.
STAFF_ONLY = frozenset({RoomKind.CONSULTANT})


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
    staff = staff_of(settings)
    for user_id in staff:
        if user_id not in members:
            await port.invite(room.room_id, user_id)
            if kind is not RoomKind.SPACE:
                await port.set_power_level(room.room_id, user_id, STAFF_LEVEL)
    await _drop_former_staff(session, port, room.room_id, kind, staff, members)
    return None


async def _drop_former_staff(session: Session, port: MatrixPort, room_id: str, kind: RoomKind,
                             staff: list[str], members: list[str]) -> None:
    """Someone taken out of ``people.consultants``/``people.admins`` loses their moderator power
    here and leaves the room, unless they are also an active participant (then they stay, as one)
    and it is not a staff-only room."""
    keep = {*staff, port.bot_user_id}
    levels = (await port.get_state(room_id, "m.room.power_levels") or {}).get("users", {})
    former = [u for u, level in dict(levels).items()
              if u not in keep and isinstance(level, int) and level >= STAFF_LEVEL]
    for user_id in former:
        await port.set_power_level(room_id, user_id, None)
        log.info("demoted a former staff member in %s", room_id)
    if kind in STAFF_ONLY:
        leaving = [u for u in members if u not in keep]
    else:
        leaving = [u for u in former if u in members and not _active_participant(session, u)]
    for user_id in leaving:
        try:
            await port.kick(room_id, user_id, None)
        except PortError:
            log.warning("could not remove a former staff member from %s", room_id)
        else:
            log.info("removed a former staff member from %s", room_id)


def _active_participant(session: Session, user_id: str) -> bool:
    p = session.get(Participant, user_id)
    return p is not None and p.status == EnrolmentStatus.ACTIVE.value


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
