"""The bot's core flows on Synapse with workers (issue 13): PostgreSQL, Redis, a sync worker, a
reader serving client reads and /keys, an event persister, and a routing proxy in front.

Enrolment, a toolbox command answered encrypted, a crisis reply, a café reminder exactly once,
and a restart of the bot; and proof that the traffic really went through the workers."""

from __future__ import annotations

import asyncio
import io
import os
from typing import AsyncIterator, Iterator

import psycopg
import pytest
import pytest_asyncio
from nio import DownloadResponse, UploadResponse

from bot.localsynapse_workers import PG_DSN, WorkersSynapse, ensure_services
from bot.models import RoomKind
from schedules.cafes import cafe_room_of
from tests.integration.conftest import BotHandle, _login, bot_config, register_staff
from tests.integration.matrix_user import MatrixUser
from tests.integration.test_rooms_flows import ask_for, enrolled, joined, room_of
from tests.integration.test_schedules_cafes import schedule_in

pytestmark = [pytest.mark.workers, pytest.mark.postgres]


# These override the session-wide fixtures of conftest for this module only, so `make_user`
# registers and logs in through the routing proxy of the workers homeserver.
@pytest.fixture(scope="module")
def synapse(tmp_path_factory) -> Iterator[WorkersSynapse]:
    reason = ensure_services()
    if reason:
        pytest.skip(f"Synapse with workers: {reason}")
    server = WorkersSynapse(tmp_path_factory.mktemp("synapse-workers"), fast_passwords=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def staff(synapse) -> dict[str, dict[str, str]]:
    return register_staff(synapse)


@pytest_asyncio.fixture(scope="module")
async def bot(synapse, staff, tmp_path_factory) -> AsyncIterator[BotHandle]:
    data_dir = tmp_path_factory.mktemp("bot-workers")
    config = bot_config(synapse, data_dir, staff,
                        schedules={"cafe_room_reminders": ["40s"], "cafe_private_reminder": "5s"})
    handle = BotHandle(synapse, data_dir, config)
    await handle.start()
    yield handle
    await handle.stop()


@pytest_asyncio.fixture(scope="module")
async def consultant(synapse, staff, tmp_path_factory) -> AsyncIterator[MatrixUser]:
    creds = staff["consultant"]
    user = await _login(synapse, creds["user_id"], creds["password"], tmp_path_factory.mktemp("consultant-w"))
    yield user
    await user.close()


async def test_enrolment_and_a_toolbox_command_answered_encrypted(bot, consultant, make_user):
    ola, _, toolbox = await enrolled(bot, consultant, make_user, "Osprey")
    reply = await ask_for(ola, toolbox, "!goal add work: find a course", bot.user_id, "Goal 1 saved")
    assert reply.decrypted and "find a course" in reply.body
    listing = await ask_for(ola, toolbox, "!goals", bot.user_id, "Your goals")
    assert listing.decrypted and "find a course" in listing.body
    assert [r for r in ola.undecryptable if r.sender == bot.user_id] == []


async def test_a_crisis_message_gets_the_crisis_reply(bot, consultant, make_user):
    kari, _, toolbox = await enrolled(bot, consultant, make_user, "Kestrel")
    consultant_room = await joined(bot, consultant, room_of(bot, RoomKind.CONSULTANT))
    mark, cmark = len(kari.received), len(consultant.received)
    post = await kari.send(room_of(bot, RoomKind.FORUM), "Some nights I just want to die")
    reply = await kari.wait_for(lambda r: r.room_id == toolbox and "113" in r.body, after=mark)
    assert reply.decrypted
    alert = await consultant.wait_for(lambda r: r.room_id == consultant_room and post in r.body, after=cmark)
    assert alert.decrypted and "die" not in alert.body


async def test_cafe_reminder_exactly_once_and_answers_after_a_restart(bot, consultant, make_user):
    cleo, _, toolbox = await enrolled(bot, consultant, make_user, "Curlew")
    with bot.app.db.session() as s:
        cafe = cafe_room_of(s, "North").room_id
    await schedule_in(bot, consultant, 48)  # the room reminder (40 s before) is due in ~8 s
    reminder = await cleo.wait_for(lambda r: r.room_id == cafe and "Reminder: café for North" in r.body, timeout=60)
    assert reminder.decrypted and "(late)" not in reminder.body
    await bot.restart()
    after = await ask_for(cleo, toolbox, "!goals", bot.user_id, "goal")
    assert after.decrypted
    await asyncio.sleep(3)
    assert len([r for r in cleo.received if "Reminder: café for North" in r.body]) == 1
    # (Earlier tests' forum posts, from before Cleo joined, are rightly not hers to read.)
    assert [r for r in cleo.undecryptable if r.sender == bot.user_id] == []


async def test_the_traffic_went_through_the_workers(synapse, bot, make_user):
    dana = await make_user("dana")
    room = await dana.dm(bot.user_id)
    reply = await dana.ask(room, "!help", bot.user_id)
    assert reply.decrypted
    # Media passes through the proxy whole, both ways (3 MB, more than one chunk).
    blob = os.urandom(3 * 1024 * 1024)
    uploaded, _ = await dana.client.upload(io.BytesIO(blob), content_type="application/octet-stream",
                                           filename="blob.bin", filesize=len(blob))
    assert isinstance(uploaded, UploadResponse), uploaded
    downloaded = await dana.client.download(mxc=uploaded.content_uri)
    assert isinstance(downloaded, DownloadResponse) and downloaded.body == blob
    counts = synapse.request_counts()
    assert counts["sync"].get("sync", 0) > 2, counts
    assert counts["reader"].get("keys", 0) > 0 and counts["reader"].get("keys_upload", 0) > 0, counts
    assert counts["main"].get("other", 0) > 0, counts  # sends, room creation, registration
    # Every event of the run was persisted by the event persister, none by the main process.
    with psycopg.connect(PG_DSN.rsplit("/", 1)[0] + f"/{synapse.db_name}") as c:
        writers = dict(c.execute("SELECT instance_name, count(*) FROM events GROUP BY instance_name").fetchall())
    assert set(writers) == {"persister"} and writers["persister"] > 50, writers
