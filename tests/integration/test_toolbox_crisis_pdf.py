"""Issue 14, item 3, as a person meets it: ``!crisis pdf`` arrives as an encrypted m.file whose
attachment the test client downloads, decrypts and reads back through the PDF's text layer; a
provider the plan is shared with gets it with ``!view crisis-plan pdf``; and the review
conversation (``!crisis review`` without a date) is answered in plain words, in Norwegian."""

from __future__ import annotations

import io

from pypdf import PdfReader

from bot.models import RoomKind
from tests.integration.test_toolbox_flows import _room, ask, enrolled
from toolbox import crisis_plan


def _pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def _file(user, room: str, body: str):
    """Send ``body`` and wait for the bot's m.file in ``room``."""
    mark = len(user.received)
    await user.send(room, body)
    return await user.wait_for(lambda r: r.room_id == room and r.content.get("msgtype") == "m.file", after=mark,
                               what=f"a file in answer to {body}", timeout=60)


async def test_crisis_pdf_arrives_encrypted_with_the_plan_as_text(bot, consultant, make_user):
    pia, toolbox, pseudonym, _ = await enrolled(bot, consultant, make_user, "pia")
    await ask(pia, toolbox, "!crisis pdf", bot, "nothing to print yet")  # an empty plan: a kind word
    await ask(pia, toolbox, "!crisis add warning signs I stop answering the phone", bot, "Added to")
    await ask(pia, toolbox, "!crisis add support my sister Kari", bot, "Added to")
    await ask(pia, toolbox, "!crisis review 2030-03-01", bot, "noted")
    file = await _file(pia, toolbox, "!crisis pdf")
    assert file.decrypted and file.sender == bot.user_id
    content = file.content
    assert content["filename"] == "crisis-plan.pdf" and content["info"]["mimetype"] == "application/pdf"
    assert "url" not in content and content["file"]["url"].startswith("mxc://")  # an encrypted attachment
    data = await pia.download(content)  # downloaded and decrypted with the event's key
    assert len(data) == content["info"]["size"]
    text = _pdf_text(data)
    for expected in ("My crisis plan", "My warning signs", "I stop answering the phone", "People I can ask for help",
                     "my sister Kari", "116 123", "22 40 00 40", "Next review: Fri 1 Mar 2030"):
        assert expected in text, expected
    assert pseudonym not in text and pia.user_id not in text
    meta = PdfReader(io.BytesIO(data)).metadata
    assert meta.title == "My crisis plan" and not meta.author


async def test_provider_gets_the_pdf_when_shared(bot, consultant, make_user):
    ola, toolbox, pseudonym, staff_room = await enrolled(bot, consultant, make_user, "ola")
    doc = await make_user("docpdf")
    await ask(consultant, staff_room, f"!providers add {doc.user_id}", bot, doc.user_id)
    await ask(consultant, staff_room, f"!provider link {pseudonym} {doc.user_id}", bot, doc.user_id)
    provider_room = _room(bot, RoomKind.PROVIDER, owner=ola.user_id, partner=doc.user_id)
    assert provider_room is not None
    await doc.until(lambda: provider_room in doc.client.rooms, 30, "joining the provider room")
    await doc.wait_joined(provider_room, bot.user_id)
    await ask(ola, toolbox, "!crisis add coping a hot shower and music", bot, "Added to")

    await ask(doc, provider_room, "!view crisis-plan pdf", bot, "not shared with you")
    await ask(ola, toolbox, f"!share crisis-plan with {doc.user_id}", bot, "can now see your crisis plan")
    file = await _file(doc, provider_room, "!view crisis-plan pdf")
    text = _pdf_text(await doc.download(file.content))
    assert "Things I can do myself" in text and "a hot shower and music" in text and "116 123" in text
    log = await ask(ola, toolbox, "!shared", bot, "What you share")
    assert "looked at your crisis plan" in log.body and "asked for your crisis plan; it was not shared" in log.body


async def test_review_conversation_in_norwegian(bot, consultant, make_user):
    siv, toolbox, _, _ = await enrolled(bot, consultant, make_user, "siv")
    await ask(siv, toolbox, "!lang nb", bot, "Jeg snakker")
    await ask(siv, toolbox, "!crisis add varselsignaler jeg sover dårlig", bot, "Lagt til")
    await ask(siv, toolbox, "!crisis add mestring gå en tur", bot, "Lagt til")
    start = await ask(siv, toolbox, "!crisis review", bot, "én del om gangen")
    assert "1/9: Mine varselsignaler" in start.body and "jeg sover dårlig" in start.body
    kept = await ask(siv, toolbox, "behold", bot, "Beholdt")
    assert "2/9: Dette kan jeg gjøre selv" in kept.body
    # A command in the middle is a command; the review waits.
    await ask(siv, toolbox, "!crisis", bot, "Kriseplanen din")
    await ask(siv, toolbox, "ringe Kari; høre på musikk", bot, "Oppdatert «Dette kan jeg gjøre selv»")
    for n in range(3, 10):
        await ask(siv, toolbox, "hopp", bot, f"{n + 1}/9" if n < 9 else "Det var hele planen")
    await ask(siv, toolbox, "om 6 måneder", bot, "Jeg har notert")
    with bot.app.db.session() as s:
        assert [i.text for i in crisis_plan.items(s, siv.user_id)["coping"]] == ["ringe Kari", "høre på musikk"]
        assert crisis_plan.last_reviewed(s, siv.user_id) is not None
        assert crisis_plan.review_of(s, siv.user_id) is None
    file = await _file(siv, toolbox, "!crisis pdf")
    assert file.content["filename"] == "kriseplan.pdf"
    text = _pdf_text(await siv.download(file.content))
    assert "Min kriseplan" in text and "høre på musikk" in text and "Sist gått gjennom" in text
