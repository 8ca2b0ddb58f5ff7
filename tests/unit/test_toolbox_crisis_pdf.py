"""Issue 14, item 3: the crisis plan as a printable PDF (read back through its text layer), the
provider's ``!view crisis-plan pdf``, and the review conversation (``!crisis review`` without a
date) answered in plain words."""

from __future__ import annotations

import io
import itertools
import json
from datetime import date, timedelta

from pypdf import PdfReader
from sqlalchemy import text

from bot import personal_data
from bot.db import utcnow
from bot.models import SentEvent, UserPref
from bot.router import dispatch_command
from tests.support.core import make_context
from tests.unit.test_toolbox_commands import ANN, DOC, PROVIDER_ROOM, TOOLBOX, enrol, link_provider, reply, say
from toolbox import crisis_pdf, crisis_plan, sharing
from toolbox.models import CrisisReview

_events = itertools.count(1)


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


async def talk(s, services, body, sender=ANN, room=TOOLBOX) -> str:
    """A message as the dispatcher handles it: every observer, then the router for a command."""
    ctx = make_context(s, services, sender=sender, room_id=room, body=body, event_id=f"$talk{next(_events)}")
    for feature in services.features:
        for observer in feature.message_observers:
            await observer(ctx)
    if services.router.is_command(body):
        await dispatch_command(services.router, ctx)
    s.commit()
    return "\n".join(m["content"]["body"] for m in ctx.sent)


# --- the PDF ---------------------------------------------------------------------------------------

async def test_crisis_pdf_holds_sections_items_help_lines_and_review_date_in_english(db, services, port):
    with db.session() as s:
        enrol(s)
        await reply(s, services, "!crisis add warning signs I stop answering the phone")
        await reply(s, services, "!crisis add coping a hot shower and music")
        await reply(s, services, "!crisis add reasons my cat Pus <3 & the sea")
        await reply(s, services, "!crisis review 2030-03-01")
        sent = await say(s, services, "!crisis pdf")
    files = [c for c in sent if c.get("msgtype") == "m.file"]
    assert len(files) == 1
    file = files[0]
    assert file["filename"] == file["body"] == "crisis-plan.pdf" and file["info"]["mimetype"] == "application/pdf"
    assert file["file"]["url"].startswith("mxc://") and file["info"]["size"] == len(port.uploads[-1])
    assert "Here is your crisis plan as a PDF" in sent[-1]["body"]
    data = port.uploads[-1]
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    for expected in ("My crisis plan", "My warning signs", "I stop answering the phone", "Things I can do myself",
                     "a hot shower and music", "My reasons for living", "my cat Pus <3 & the sea",
                     "Please do not contact", "nothing here yet",  # an empty section is shown as empty
                     "If I am in danger or need help now", "113", "116 117", "116 123", "22 40 00 40",
                     "Mental Helse helpline", "Next review: Fri 1 Mar 2030", "Printed "):
        assert expected in text, expected
    # Nothing about the person in the metadata.
    meta = PdfReader(io.BytesIO(data)).metadata
    assert meta.title == "My crisis plan" and not meta.author and not meta.subject
    assert ANN not in json.dumps({k: str(v) for k, v in meta.items()}) and "ann" not in str(meta.get("/Creator", ""))


async def test_crisis_pdf_in_norwegian_keeps_æøå_and_survives_emoji(db, services, port):
    with db.session() as s:
        enrol(s)
        s.add(UserPref(user_id=ANN, language="nb"))
        s.commit()
        await reply(s, services, "!crisis add varselsignaler jeg sover dårlig og blir stille")
        await reply(s, services, "!crisis add støtte ringe søster Åse 🌻 œuvre \u200b")
        await reply(s, services, "!crisis review 2030-03-01")
        sent = await say(s, services, "!crisis pdf")
    file = next(c for c in sent if c.get("msgtype") == "m.file")
    assert file["filename"] == "kriseplan.pdf"
    text = pdf_text(port.uploads[-1])
    for expected in ("Min kriseplan", "Mine varselsignaler", "jeg sover dårlig og blir stille",
                     "ringe søster Åse", "œuvre", "Hvis jeg er i fare eller trenger hjelp nå", "Legevakt", "116 117",
                     "Kirkens SOS krisetelefon", "22 40 00 40", "Neste gjennomgang: fre. 1. mars 2030", "Skrevet ut"):
        assert expected in text, expected
    assert "🌻" not in text and crisis_pdf.REPLACEMENT in text  # shown as a replacement mark, not a crash


async def test_an_empty_plan_gets_a_kind_reply_not_a_pdf(db, services, port):
    with db.session() as s:
        enrol(s)
        sent = await say(s, services, "!crisis pdf")
    assert not port.uploads and all(c["msgtype"] != "m.file" for c in sent)
    assert "nothing to print yet" in sent[0]["body"] and "116 123" in sent[0]["body"]


def test_printable_never_raises_on_odd_text():
    for odd in ("\x00\x07ctrl", "😀" * 5, "\ud800", "\U0010ffff", "a\u202eb", "x" * 2000):
        crisis_pdf.printable(odd)
    plan = crisis_pdf.CrisisPdf(title="T", sections=(crisis_pdf.PdfSection("S", ("<b>unclosed", "&amp; ]]>")),),
                                empty_section="-", help_heading="H", help_lines=(("L", "1"),), review_line=None,
                                generated_line="G")
    assert "<b>unclosed" in pdf_text(crisis_pdf.render(plan, "T"))


# --- the provider --------------------------------------------------------------------------------

async def test_provider_gets_the_pdf_only_when_shared_and_every_view_is_logged(db, services, port):
    with db.session() as s:
        enrol(s)
        link_provider(s)
        s.add(UserPref(user_id=DOC, language="nb"))
        s.commit()
        await reply(s, services, "!crisis add coping a hot shower and music")
        refused = await say(s, services, "!view crisis-plan pdf", sender=DOC, room=PROVIDER_ROOM)
        assert "ikke delt med deg" in refused[0]["body"] and not port.uploads
        await reply(s, services, "!share crisis-plan with 1")
        sent = await say(s, services, "!view kriseplan pdf", sender=DOC, room=PROVIDER_ROOM)
        file = next(c for c in sent if c.get("msgtype") == "m.file")
        assert file["filename"] == "kriseplan.pdf"
        text = pdf_text(port.uploads[-1])
        # In the provider's language; the plan's own words as the person wrote them.
        assert "Dette kan jeg gjøre selv" in text and "a hot shower and music" in text and "116 123" in text
        wrong = await reply(s, services, "!view goals pdf", sender=DOC, room=PROVIDER_ROOM)
        assert "Bare kriseplanen" in wrong
        views = sharing.views(s, ANN)
        assert [(v.item, v.shown) for v in reversed(views)] == [("crisis-plan", False), ("crisis-plan", True)]


# --- the review conversation ---------------------------------------------------------------------

async def test_review_conversation_keeps_replaces_clears_and_marks_reviewed(db, services):
    with db.session() as s:
        enrol(s)
        await reply(s, services, "!crisis add warning-signs I stop answering the phone")
        await reply(s, services, "!crisis add coping listen to music")
        await reply(s, services, "!crisis add distractions the library")
        assert crisis_plan.last_reviewed(s, ANN) is None
        start = await talk(s, services, "!crisis review")
        assert "one section at a time" in start and "1/9: My warning signs" in start
        assert "I stop answering the phone" in start
        kept = await talk(s, services, "keep")
        assert "Kept “My warning signs”" in kept and "2/9: Things I can do myself" in kept
        # A command in between is a command, and the review waits.
        shown = await talk(s, services, "!crisis")
        assert "Your crisis plan" in shown and crisis_plan.review_of(s, ANN).step == 1
        replaced = await talk(s, services, "a hot shower; call Kari\nwalk the dog")
        assert "Updated “Things I can do myself”" in replaced and "3/9" in replaced
        assert [i.text for i in crisis_plan.items(s, ANN)["coping"]] == ["a hot shower", "call Kari", "walk the dog"]
        assert "Write the new text" in await talk(s, services, "no")
        assert "Emptied" in await talk(s, services, "clear")
        assert crisis_plan.items(s, ANN)["distractions"] == []
        for _ in range(5):
            await talk(s, services, "skip")
        last = await talk(s, services, "skip")
        assert "whole plan" in last and "marked as reviewed today" in last
        assert crisis_plan.last_reviewed(s, ANN) == utcnow().astimezone(crisis_plan_zone()).date()
        assert "couldn't read a date" in await talk(s, services, "whenever")
        done = await talk(s, services, "in 6 months")
        assert "review your crisis plan on" in done and crisis_plan.review_of(s, ANN) is None
        review_on = crisis_plan.meta(s, ANN).review_on
        assert review_on is not None and review_on > date.today() + timedelta(days=150)
        # Afterwards plain text is not an answer any more.
        assert await talk(s, services, "keep") == ""


def crisis_plan_zone():
    from zoneinfo import ZoneInfo
    return ZoneInfo("Europe/Oslo")


async def test_review_conversation_in_norwegian_stop_and_too_long(db, services):
    with db.session() as s:
        enrol(s)
        s.add(UserPref(user_id=ANN, language="nb"))
        s.commit()
        await reply(s, services, "!crisis add varselsignaler sover dårlig")
        start = await talk(s, services, "!crisis review")
        assert "én del om gangen" in start and "1/9: Mine varselsignaler" in start
        assert "Beholdt «Mine varselsignaler»" in await talk(s, services, "behold")
        too_long = await talk(s, services, "x" * 2100)
        assert too_long and crisis_plan.review_of(s, ANN).step == 1  # still at this section
        assert "stoppet gjennomgangen" in await talk(s, services, "stopp")
        assert crisis_plan.review_of(s, ANN) is None and crisis_plan.last_reviewed(s, ANN) is None


async def test_review_survives_in_the_database_and_times_out_kindly(db, services):
    with db.session() as s:
        enrol(s)
        await reply(s, services, "!crisis add coping music")
        await talk(s, services, "!crisis review")
    with db.session() as s:  # a new session: as after a restart
        assert "2/9" in await talk(s, services, "ja")
        row = s.get(CrisisReview, ANN)
        row.asked_at = utcnow() - crisis_plan.REVIEW_TIMEOUT - timedelta(minutes=1)
        s.commit()
        late = await talk(s, services, "a new line that must not be saved")
        assert "stopped waiting" in late and crisis_plan.review_of(s, ANN) is None
        assert [i.text for i in crisis_plan.items(s, ANN)["coping"]] == ["music"]


async def test_review_of_an_empty_plan_and_date_command_at_the_last_question(db, services):
    with db.session() as s:
        enrol(s)
        assert "nothing to look over" in await talk(s, services, "!crisis review")
        assert crisis_plan.review_of(s, ANN) is None
        await reply(s, services, "!crisis add coping music")
        await talk(s, services, "!crisis review")
        for _ in range(len(crisis_plan.SECTIONS)):
            await talk(s, services, "skip")
        assert crisis_plan.review_of(s, ANN).step == crisis_plan.DATE_STEP
        assert "noted" in await talk(s, services, "!crisis review 2031-01-01")
        assert crisis_plan.review_of(s, ANN) is None


async def test_review_state_and_reviewed_on_are_exported_and_erased(db, services, features):
    with db.session() as s:
        enrol(s)
        await reply(s, services, "!crisis add coping music")
        crisis_plan.mark_reviewed(s, ANN, date(2026, 11, 1))
        await talk(s, services, "!crisis review")
        exported = personal_data.export_document(features, s, ANN)
        plan = json.dumps(exported, default=str)
        assert '"reviewed_on": "2026-11-01"' in plan and '"review_in_progress": {"section": "warning-signs"' in plan
        code = personal_data.request_code(s, ANN)
        s.commit()
        await say(s, services, f"!forget-me {code}")
        assert crisis_plan.review_of(s, ANN) is None and crisis_plan.last_reviewed(s, ANN) is None


async def test_reviewed_on_is_sealed_at_rest_and_shown_with_the_plan(db, services):
    with db.session() as s:
        enrol(s)
        await reply(s, services, "!crisis add coping music")
        crisis_plan.mark_reviewed(s, ANN, date(2026, 11, 1))
        s.commit()
        with db.engine.connect() as conn:
            (stored,) = conn.execute(text("SELECT reviewed_on FROM toolbox_crisis_plan")).one()
        assert stored.startswith("v2:") and "2026" not in stored
        assert "Last looked over: Sun 1 Nov 2026" in await reply(s, services, "!crisis")


async def test_a_matrix_reply_answers_the_review_only_when_it_replies_to_the_question(db, services):
    """A reply to another message (say, the daily check-in prompt) is not taken into the plan."""
    with db.session() as s:
        enrol(s)
        await reply(s, services, "!crisis add coping music")
        await talk(s, services, "!crisis review")
        review = crisis_plan.review_of(s, ANN)
        s.add(SentEvent(txn_id=review.question_txn, event_id="$question1", room_id=TOOLBOX))
        s.commit()

        async def replying(body: str, to: str) -> str:
            content = {"msgtype": "m.text", "body": body, "m.relates_to": {"m.in_reply_to": {"event_id": to}}}
            ctx = make_context(s, services, sender=ANN, room_id=TOOLBOX, content=content,
                               event_id=f"$talk{next(_events)}")
            for feature in services.features:
                for observer in feature.message_observers:
                    await observer(ctx)
            s.commit()
            return "\n".join(m["content"]["body"] for m in ctx.sent)

        assert "2/9" not in await replying("7 tired", "$some-other-prompt")
        assert crisis_plan.review_of(s, ANN).step == 0
        assert "2/9" in await replying("keep", "$question1")
