"""The recovery overview through a real encrypted room (issue 14, item 2): kind words when the
toolbox is empty; then the figures as a message and the picture as an encrypted PNG."""

from __future__ import annotations

import io

from PIL import Image

from tests.integration.test_toolbox_flows import ask, enrolled


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
