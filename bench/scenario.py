"""Steps that benchmarks and the reliability suite share: enrolling a participant the way a
consultant does, and waiting for the toolbox room the bot makes for them."""

from __future__ import annotations

from tests.integration.matrix_user import MatrixUser


async def staff_room(consultant: MatrixUser, bot_id: str) -> str:
    """A direct chat between the consultant and the bot (staff commands work there too)."""
    return await consultant.dm(bot_id, timeout=60)


async def enrol(consultant: MatrixUser, room_id: str, client: MatrixUser, bot_id: str, pseudonym: str,
                community: str = "North", attempts: int = 3) -> str:
    """``!enroll`` the client from ``room_id``; returns their toolbox room (where the bot
    welcomes them). Sent again if no welcome comes (a lost first key share is not what is measured)."""
    mark = len(client.received)

    def welcomed(r) -> bool:
        return r.sender == bot_id and f"Welcome, {pseudonym}!" in r.body

    for attempt in range(attempts):
        await consultant.send(room_id, f"!enroll {client.user_id} {pseudonym} {community}")
        try:
            room_id = (await client.wait_for(welcomed, timeout=30, after=mark, what="the welcome")).room_id
            # The house rules follow as their own message: let them arrive before anything is timed.
            await client.wait_for(lambda r: r.room_id == room_id and "House rules" in r.body, timeout=30,
                                  after=mark, what="the house rules")
            return room_id
        except AssertionError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")
