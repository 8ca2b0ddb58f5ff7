"""Start and stop: build the rooms, and a housekeeping task that ends timed mutes and lapses
unanswered requests (the tables are the truth, so this survives restarts)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from bot.db import utcnow
from bot.models import Participant
from bot.notices import Notices
from rooms import consent, moderation
from rooms.building import ensure_rooms
from rooms.membership import lift_mute

if TYPE_CHECKING:
    from bot.feature import Stop
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


async def build_rooms(runtime: "Runtime") -> None:
    say = runtime.speaker.say(runtime.settings.language)
    with runtime.session() as session:
        made = await ensure_rooms(session, runtime.port, runtime.settings, say)
        for room in made:
            log.info("built %s room %s", room.kind.value, room.room_id)


async def housekeeping_once(runtime: "Runtime") -> None:
    async with runtime.db_lock:  # one writer at a time on the event loop (see Runtime.db_lock)
        await _housekeeping(runtime)
    runtime.wake_outbox()


async def _housekeeping(runtime: "Runtime") -> None:
    now = utcnow()
    with runtime.session() as session:
        ended = moderation.mutes_ended(session, now)
        for mute in ended:  # Matrix calls first, then the writes (one writer at a time in SQLite)
            await lift_mute(runtime.port, session, mute.user_id)
        notify = Notices.from_runtime(runtime, session)
        for mute in ended:
            p = session.get(Participant, mute.user_id)
            session.delete(mute)
            moderation.log(session, runtime.port.bot_user_id, "unmute", p, None)
            notify.to_person(mute.user_id, "rooms.mod.unmuted_you", alert=True)
            notify.to_consultants("rooms.mod.mute_ended", pseudonym=(p.pseudonym if p else None) or "—")
        for request in consent.expire(session, runtime.settings.moderation.reveal_expiry_hours, now):
            receiver = session.get(Participant, request.receiver)
            notify.to_person(request.sender, f"rooms.request.expired_{request.kind}",
                             pseudonym=(receiver.pseudonym if receiver else None) or "—")


class Housekeeper:
    """Runs :func:`housekeeping_once` every ``interval`` seconds while a bot runs. Its start hook
    returns the stop of that bot's task (tests run several bots in one process)."""

    def __init__(self, interval: float = 30.0) -> None:
        self.interval = interval

    async def start(self, runtime: "Runtime") -> "Stop":
        await build_rooms(runtime)
        task = asyncio.create_task(self._loop(runtime), name="rooms-housekeeping")

        async def stop() -> None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

        return stop

    async def _loop(self, runtime: "Runtime") -> None:
        while True:
            try:
                await housekeeping_once(runtime)
            except Exception:
                log.exception("rooms housekeeping failed; will try again")
            await asyncio.sleep(self.interval)
