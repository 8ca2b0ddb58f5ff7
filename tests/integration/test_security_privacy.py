"""Privacy over a run: the bot's logs (DEBUG for its own loggers) hold none of the message bodies
sent, the raw SQLite database holds none of the toolbox sentences, and neither room state written
by the bot nor the bot's account data holds anything personal."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from urllib.parse import quote

import aiohttp

from bench.scenario import enrol, staff_room
from tests.integration.test_security_keys import forum_of

LOGGERS = ("bot", "rooms", "toolbox", "schedules")
PSEUDONYM = "Quillwort"
REAL_NAME = "Kari Nordmann-Privacytest"
SENTENCES = {
    "goal": "!goal add Health: phone my sister Ingrid about the custody hearing",
    "step": "!goal step 1 find the letter from the lawyer in Tromsø",
    "diary": "!diary I slept badly because the neighbour on Storgata shouted again",
    "mood": "!mood 3 anxious about the appointment at Ullevål",
    "activity": "!activity add tomorrow 10:00 collect medicine at Apotek 1 Majorstuen",
    "network": "!network add Ingrid family my older sister, lives in Bodø",
}
MARKERS = ("Ingrid", "custody hearing", "lawyer in Tromsø", "neighbour on Storgata", "Ullevål",
           "Apotek 1 Majorstuen", "lives in Bodø")
FORUM_POST = "In the forum: my therapist at DPS Nordre Aasen said something wise"


def sqlite_bytes(url: str) -> bytes:
    path = Path(url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


async def state_by(user, room_id: str, sender: str) -> list[dict]:
    status, events = await raw(user.client, "GET", f"/_matrix/client/v3/rooms/{quote(room_id)}/state")
    assert status == 200, events
    return [e for e in events if e.get("sender") == sender]


async def raw(client, method: str, path: str) -> tuple[int, object]:
    """A client-server API call with a nio client's token."""
    async with aiohttp.ClientSession() as http:
        async with http.request(method, client.homeserver + path,
                                headers={"Authorization": f"Bearer {client.access_token}"}) as r:
            return r.status, await r.json()


async def test_nothing_personal_in_logs_database_state_or_account_data(start_bot, consultant, make_user, caplog):
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    handle = await start_bot()
    bot_id = handle.user_id
    person = await make_user("privacy")
    await person.client.set_displayname(REAL_NAME)
    staff = await staff_room(consultant, bot_id)
    toolbox = await enrol(consultant, staff, person, bot_id, PSEUDONYM)
    for body in SENTENCES.values():
        reply = await person.ask(toolbox, body, bot_id, timeout=60)
        assert "Sorry" not in reply.body and "Usage" not in reply.body, (body, reply.body)
    mark = len(person.received)
    await person.send(toolbox, "!goals")
    listing = await person.wait_for(lambda r: r.room_id == toolbox and "Your goals" in r.body, after=mark)
    assert "custody hearing" in listing.body  # really saved, so its absence below means something
    forum = forum_of(handle)
    await person.until(lambda: forum in person.client.rooms, 60, "joining the forum")
    await person.send(forum, FORUM_POST)
    dm = await person.dm(bot_id)
    await person.ask(dm, "!whoami", bot_id)
    await person.ask(dm, f"!pseudonym {PSEUDONYM}", bot_id)

    # Logs of the bot's own loggers.
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records
                       if r.name.split(".")[0] in LOGGERS)
    assert "ReConnect is running" in logged or "joined" in logged  # we are reading the right records
    for body in [*SENTENCES.values(), FORUM_POST]:
        assert body not in logged
    for secret in (*MARKERS, REAL_NAME, "DPS Nordre Aasen"):
        assert secret not in logged, secret

    # The raw database file (and its write-ahead log).
    await handle.stop()
    raw_db = sqlite_bytes(handle.settings.storage.resolved_database_url())
    assert len(raw_db) > 10_000
    for secret in (*MARKERS, "DPS Nordre Aasen"):
        assert secret.encode() not in raw_db, secret
    await handle.start()

    # Room state the bot wrote, read by the consultant (shared rooms) and the person (toolbox).
    written: list[dict] = []
    for room_id in [r for r in consultant.client.rooms if bot_id in consultant.client.rooms[r].users]:
        written += await state_by(consultant, room_id, bot_id)
    written += await state_by(person, toolbox, bot_id)
    assert len(written) > 10
    state_text = json.dumps(written, ensure_ascii=False)
    for secret in (PSEUDONYM, REAL_NAME, *MARKERS):
        assert secret not in state_text, secret

    # The bot's account data (global and per room), from a full sync with its own token.
    status, body = await raw(handle.app.client, "GET",
                             "/_matrix/client/v3/sync?timeout=0&filter=" + quote(json.dumps(
                                 {"room": {"timeline": {"limit": 1}}})))
    assert status == 200
    joined = body.get("rooms", {}).get("join", {})
    assert toolbox in joined
    account = json.dumps({"global": body.get("account_data", {}),
                          "rooms": {k: v.get("account_data", {}) for k, v in joined.items()}},
                         ensure_ascii=False)
    for secret in (PSEUDONYM, REAL_NAME, *MARKERS):
        assert secret not in account, secret
