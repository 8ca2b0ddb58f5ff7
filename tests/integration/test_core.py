"""The foundation, the way a person meets it: an encrypted message in, a decrypted reply out."""

from __future__ import annotations

import asyncio


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
