"""The foundation, the way a person meets it: an encrypted message in, a decrypted reply out."""

from __future__ import annotations

import asyncio
import shutil

import aiohttp
import pytest
from nio import RoomCreateResponse
from signedjson.key import decode_verify_key_bytes
from signedjson.sign import verify_signed_json
from unpaddedbase64 import decode_base64

from bot.db import Database
from bot.matrix import StartupError
from bot.models import BotSecret, BotState


async def test_help_in_encrypted_dm(bot, make_user):
    anna = await make_user("anna")
    room = await anna.dm(bot.user_id)
    reply = await anna.ask(room, "!help", bot.user_id)
    assert reply.decrypted
    assert reply.content["msgtype"] == "m.notice"
    assert "!whoami" in reply.body and "!lang" in reply.body
    assert "<code>!whoami</code>" in reply.content["formatted_body"]
    assert "!approve" not in reply.body  # a consultant command is not listed for a newcomer
    assert anna.undecryptable == []


async def test_a_plain_message_gets_one_hint_and_a_spaced_prefix_still_works(bot, make_user):
    cleo = await make_user("cleo-plain")
    room = await cleo.dm(bot.user_id)
    hint = await cleo.ask(room, "hi, can you help me?", bot.user_id)
    assert hint.decrypted and "commands that start with `!`" in hint.body and "`!help`" in hint.body
    reply = await cleo.ask(room, "! help", bot.user_id)  # the second plain message gets no new hint
    assert "!whoami" in reply.body
    await cleo.send(room, "thanks")
    await asyncio.sleep(3)
    assert len([r for r in cleo.notices(room, bot.user_id) if "commands that start with" in r.body]) == 1


async def test_unknown_command_and_bad_arguments(bot, make_user):
    ben = await make_user("ben")
    room = await ben.dm(bot.user_id)
    reply = await ben.ask(room, "!hlep", bot.user_id)
    assert "Did you mean `!help`" in reply.body
    reply = await ben.ask(room, "!lang klingon", bot.user_id)
    # one message: what was wrong (the choices in words, not ``en|nb``), then the right usage
    assert "choose one of: en, nb" in reply.body and "|" not in reply.body.split("\n")[0]
    assert "Usage: `!lang en|nb`" in reply.body and reply.sender == bot.user_id
    reply = await ben.ask(room, "!lang nb", bot.user_id)
    assert "norsk bokmål" in reply.body
    reply = await ben.ask(room, "!whoami", bot.user_id)
    assert "Rolle: ikke registrert ennå" in reply.body


async def test_offline_message_answered_once_after_restart(start_bot, make_user):
    handle = await start_bot()
    cleo = await make_user("cleo")
    room = await cleo.dm(handle.user_id)
    first = await cleo.ask(room, "!help", handle.user_id)
    assert first.decrypted

    await handle.stop()
    mark = len(cleo.received)
    await cleo.send(room, "!whoami")
    await handle.start()
    reply = await cleo.wait_for(lambda r: r.room_id == room and r.sender == handle.user_id, after=mark, timeout=60)
    assert reply.decrypted and cleo.user_id in reply.body
    # A second restart must not answer it again.
    await handle.restart()
    after_restart = await cleo.ask(room, "!lang nb", handle.user_id)
    assert after_restart.decrypted and "norsk bokmål" in after_restart.body
    answers = [r for r in cleo.notices(room, handle.user_id) if "Role:" in r.body or "Rolle:" in r.body]
    assert len(answers) == 1
    assert cleo.undecryptable == []


async def test_old_messages_get_no_action(start_bot, make_user):
    handle = await start_bot(bot={"max_event_age_seconds": 2})
    dan = await make_user("dan")
    room = await dan.dm(handle.user_id)
    await dan.ask(room, "!help", handle.user_id)
    await handle.stop()
    await dan.send(room, "!whoami")
    await asyncio.sleep(3)
    await handle.start()
    fresh = await dan.ask(room, "!help", handle.user_id)
    assert "What you can do here" in fresh.body
    assert not any("Role:" in r.body for r in dan.notices(room, handle.user_id))


async def test_bot_device_is_cross_signed(bot, make_user):
    eve = await make_user("eve")
    device_id = bot.app.client.device_id
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{bot.synapse.url}/_matrix/client/v3/keys/query",
                             json={"device_keys": {bot.user_id: []}},
                             headers={"Authorization": f"Bearer {eve.client.access_token}"}) as r:
            keys = await r.json()
    master = keys["master_keys"][bot.user_id]
    ssk = keys["self_signing_keys"][bot.user_id]
    device = keys["device_keys"][bot.user_id][device_id]

    def verify_key(key_obj):
        (key_id, public), = key_obj["keys"].items()
        return key_id, decode_verify_key_bytes(key_id, decode_base64(public))

    master_id, master_key = verify_key(master)
    ssk_id, ssk_key = verify_key(ssk)
    verify_signed_json(ssk, bot.user_id, master_key)  # self-signing key signed by the master key
    verify_signed_json(device, bot.user_id, ssk_key)  # the device signed by the self-signing key
    assert ssk_id in device["signatures"][bot.user_id]
    assert master_id != ssk_id


async def test_new_device_signed_by_same_identity(start_bot, make_user):
    handle = await start_bot()
    first_device = handle.app.client.device_id
    await handle.stop()
    # Forget the session (token and device) but keep the identity in the database.
    db = Database(handle.settings.storage.resolved_database_url())
    with db.session() as s:
        s.query(BotState).filter(BotState.key == "device_id").delete()
        s.query(BotSecret).filter(BotSecret.name == "access_token").delete()
    db.dispose()
    shutil.rmtree(handle.data_dir / "crypto")
    await handle.start()
    assert handle.app.client.device_id != first_device
    status, keys = await handle.app.port.http("POST", "/_matrix/client/v3/keys/query",
                                              {"device_keys": {handle.user_id: []}})
    ssk_id = next(iter(keys["self_signing_keys"][handle.user_id]["keys"]))
    for device_id in (first_device, handle.app.client.device_id):
        assert ssk_id in keys["device_keys"][handle.user_id][device_id]["signatures"][handle.user_id]
    user = await make_user("fay")
    room = await user.dm(handle.user_id)
    assert (await user.ask(room, "!help", handle.user_id)).decrypted


async def test_refuses_start_when_crypto_store_is_gone(start_bot):
    handle = await start_bot()
    await handle.stop()
    shutil.rmtree(handle.data_dir / "crypto")
    with pytest.raises(StartupError, match="crypto store"):
        await handle.start()
    await handle.stop()


async def test_undecryptable_messages_get_one_notice_per_person_an_hour(bot, make_user):
    gus = await make_user("gus")
    room = await gus.dm(bot.user_id)
    await gus.ask(room, "!help", bot.user_id)
    mark = len(gus.received)

    def fake(session_id: str) -> dict:
        return {"algorithm": "m.megolm.v1.aes-sha2", "sender_key": gus.client.olm.account.identity_keys["curve25519"],
                "ciphertext": "AwgAEnB" + "A" * 40, "session_id": session_id, "device_id": gus.client.device_id}

    for session_id in ("lostsessionAAAA", "lostsessionAAAA", "lostsessionBBBB"):
        await gus.put_event(room, "m.room.encrypted", fake(session_id))
    await gus.wait_for(lambda r: r.room_id == room and "couldn't read" in r.body, after=mark)
    await gus.ask(room, "!whoami", bot.user_id)
    notices = [r for r in gus.received[mark:] if "couldn't read" in r.body]
    assert len(notices) == 1  # two megolm sessions, one person: one notice within the hour
    assert "asked your device" not in notices[0].body  # the bot asks its own devices, not theirs


async def test_invites_from_other_servers_are_declined(start_bot, make_user):
    handle = await start_bot(bot={"accept_invites_from": ["elsewhere.example"]})
    hal = await make_user("hal")
    resp = await hal.client.room_create(is_direct=True, invite=[handle.user_id])
    assert isinstance(resp, RoomCreateResponse)
    await hal.until(lambda: resp.room_id in hal.client.rooms
                    and handle.user_id not in hal.client.rooms[resp.room_id].invited_users,
                    30, "the bot to decline")
    assert handle.user_id not in hal.client.rooms[resp.room_id].users


async def test_unencrypted_room_gets_no_service(bot, make_user):
    ivy = await make_user("ivy")
    resp = await ivy.client.room_create(is_direct=True, invite=[bot.user_id])
    assert isinstance(resp, RoomCreateResponse)
    await ivy.wait_joined(resp.room_id, bot.user_id)
    reply = await ivy.ask(resp.room_id, "!whoami", bot.user_id)
    assert "not end-to-end encrypted" in reply.body
    assert ivy.user_id not in reply.body
    # A crisis message still gets the public help-line numbers there, and nothing else.
    numbers = await ivy.ask(resp.room_id, "Some nights I just want to die", bot.user_id)
    assert "116 123" in numbers.body and "22 40 00 40" in numbers.body and "consultant" not in numbers.body
    assert ivy.user_id not in numbers.body


async def _token_for(url: str, user_id: str, password: str, device_id: str) -> str:
    """A token issued to one device, as an OIDC provider (e.g. Matrix Authentication Service) would."""
    body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user_id},
            "password": password, "device_id": device_id, "initial_device_display_name": "ReConnect (token)"}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/_matrix/client/v3/login", json=body) as resp:
            data = await resp.json()
    assert data.get("device_id") == device_id, data
    return str(data["access_token"])


async def test_access_token_login_without_a_password(synapse, staff, tmp_path, make_user):
    from tests.integration.conftest import BotHandle, bot_config

    data_dir = tmp_path / "token-bot"
    config = bot_config(synapse, data_dir, staff)
    user_id, password = config["bot"]["user_id"], config["bot"].pop("password")
    token = await _token_for(synapse.url, user_id, password, "TOKENDEV")
    config["bot"].update(access_token=token, device_id="TOKENDEV")
    handle = BotHandle(synapse, data_dir, config)
    await handle.start()
    try:
        assert handle.app.client.device_id == "TOKENDEV"
        anna = await make_user("anna")
        room = await anna.dm(user_id)
        reply = await anna.ask(room, "!help", user_id)
        assert reply.decrypted and "!whoami" in reply.body
    finally:
        await handle.stop()
    # Another device's token over this crypto store: refused with one line naming the key.
    other = await _token_for(synapse.url, user_id, password, "OTHERDEV")
    handle.config["bot"].update(access_token=other, device_id="OTHERDEV")
    with pytest.raises(StartupError, match="bot.device_id.*TOKENDEV"):
        await handle.start()
    await handle.stop()
    # A token that is not that device's: refused too.
    handle.config["bot"].update(access_token=other, device_id="TOKENDEV")
    with pytest.raises(StartupError, match="bot.access_token.*OTHERDEV"):
        await handle.start()
    await handle.stop()
