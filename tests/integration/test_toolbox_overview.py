"""The recovery overview through a real encrypted room (issue 14, item 2): kind words when the
toolbox is empty; then the figures as a message and the picture as an encrypted PNG."""

from __future__ import annotations

import io

from PIL import Image

from bot.models import RoomKind
from tests.integration.test_toolbox_flows import _room, ask, enrolled


async def test_overview_arrives_as_text_and_an_encrypted_png(bot, consultant, make_user):
    ora, toolbox, _, _ = await enrolled(bot, consultant, make_user, "ora")
    empty = await ask(ora, toolbox, "!overview", bot, "still empty")
    assert empty.decrypted and "!mood 1-10" in empty.body
    await ask(ora, toolbox, "!goal add health: walk by the sea", bot, "Goal 1 saved")
    await ask(ora, toolbox, "!goal step 1 bought shoes", bot, "Step added")
    for score in (5, 7):
        await ask(ora, toolbox, f"!mood {score}", bot, f"({score}/10)")
    await ask(ora, toolbox, "!network add Mum family", bot, "Mum added")
    mark = len(ora.received)
    text = await ask(ora, toolbox, "!overview", bot, "Your recovery overview")
    assert text.decrypted and text.content["msgtype"] == "m.notice"
    assert "Health: goals 1, reached 0, steps 1" in text.body and "2 check-ins, average 6.0/10" in text.body
    assert "Family 1 (1 in all)" in text.body and "walk by the sea" not in text.body
    image = await ora.wait_for(lambda r: r.room_id == toolbox and r.content.get("msgtype") == "m.image",
                               after=mark, what="the overview picture")
    assert image.decrypted and image.content["filename"] == "overview.png"
    assert "url" not in image.content and image.content["file"]["url"].startswith("mxc://")  # encrypted
    assert "goals by life area" in image.body and "Mum" not in image.body
    picture = Image.open(io.BytesIO(await ora.download(image.content)))
    assert picture.format == "PNG" and (picture.width, picture.height) == (image.content["info"]["w"],
                                                                           image.content["info"]["h"])


async def test_a_provider_gets_the_overview_only_once_it_is_shared(bot, consultant, make_user):
    oli, toolbox, pseudonym, staff_room = await enrolled(bot, consultant, make_user, "oli")
    doc = await make_user("doc")
    await ask(consultant, staff_room, f"!providers add {doc.user_id}", bot, doc.user_id)
    await ask(consultant, staff_room, f"!provider link {pseudonym} {doc.user_id}", bot, doc.user_id)
    provider_room = _room(bot, RoomKind.PROVIDER, owner=oli.user_id, partner=doc.user_id)
    assert provider_room is not None
    await doc.until(lambda: provider_room in doc.client.rooms, 30, "joining the provider room")
    await doc.wait_joined(provider_room, bot.user_id)
    await ask(oli, toolbox, "!mood 6", bot, "(6/10)")

    refused = await ask(doc, provider_room, "!view overview", bot, "not shared with you")
    assert refused.decrypted and "6" not in refused.body
    await ask(oli, toolbox, f"!share overview with {doc.user_id}", bot, "can now see your recovery overview")
    mark = len(doc.received)
    shown = await ask(doc, provider_room, "!view overview", bot, "Shared recovery overview")
    assert shown.decrypted and "1 check-in, average 6.0/10" in shown.body
    image = await doc.wait_for(lambda r: r.room_id == provider_room and r.content.get("msgtype") == "m.image",
                               after=mark, what="the shared overview picture")
    assert image.body.startswith("The participant's recovery overview")
    assert Image.open(io.BytesIO(await doc.download(image.content))).format == "PNG"
    log = await ask(oli, toolbox, "!shared", bot, "What you share")
    assert "looked at your recovery overview" in log.body and "asked for your recovery overview" in log.body
