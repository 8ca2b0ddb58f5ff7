"""A consultant moves an active participant to another community with `!community-of PSEUDONYM
COMMUNITY` (issue 12, item 4): out of the old café room, into the new one, told privately."""

from __future__ import annotations

from bot.models import Participant
from rooms.models import Mute
from tests.support.rooms import CAFE_NORTH, CAFE_SOUTH, CONSULTANTS, build_community, enrol, outbox, send, toolbox_of

CONSULTANT = "@consultant:localhost"
KARI = "@kari:localhost"


async def test_a_consultant_moves_a_participant_to_another_community(db, services, port) -> None:
    with db.session() as s:
        build_community(s, port)
        enrol(s, KARI, "Kari Blue", port=port)
    (refused,) = await send(db, services, KARI, toolbox_of(KARI), "!community-of Kari Blue South")
    assert "not available to you" in refused
    (same,) = await send(db, services, CONSULTANT, CONSULTANTS, "!community-of Kari Blue North")
    assert "already belongs to North" in same
    (done,) = await send(db, services, CONSULTANT, CONSULTANTS, "!community-of kari blue south")
    assert "**Kari Blue** now belongs to South" in done
    assert (CAFE_NORTH, KARI, None) in port.called("kick") and (CAFE_SOUTH, KARI) in port.called("invite")
    with db.session() as s:
        assert s.get(Participant, KARI).community == "South"
    assert any("moved you to the community **South**" in body for body in outbox(db, toolbox_of(KARI)))


async def test_a_muted_participant_stays_muted_in_the_new_cafe_room(db, services, port) -> None:
    with db.session() as s:
        build_community(s, port)
        enrol(s, KARI, "Kari", port=port)
        s.add(Mute(user_id=KARI, until=None, by=CONSULTANT))
    await send(db, services, CONSULTANT, CONSULTANTS, "!community-of Kari South")
    assert (CAFE_SOUTH, KARI, -1) in port.called("set_power_level")
