"""The crisis plan as a PDF message: read under the lock, rendered in a worker thread and uploaded
outside it (``Context.off_lock``, as the pictures are), sent as an encrypted ``m.file`` with a
neutral file name."""

from __future__ import annotations

import asyncio

from bot.context import Context, Finish
from bot.db import utcnow
from bot.port import MatrixPort
from bot.zones import person_zone
from toolbox import crisis_pdf, crisis_plan, render

MIMETYPE = "application/pdf"


def plan_document(ctx: Context, owner: str) -> crisis_pdf.CrisisPdf:
    """``owner``'s plan in the reader's language (``ctx.lang``): every section, the help lines from
    config, the review date and the day it was made (in the owner's zone)."""
    t, s = ctx.t, ctx.session
    zone = person_zone(s, ctx.settings, owner)
    today = utcnow().astimezone(zone).date()
    meta = crisis_plan.meta(s, owner)
    sections = tuple(crisis_pdf.PdfSection(t(f"toolbox.section.{section}"), tuple(i.text for i in lines))
                     for section, lines in crisis_plan.items(s, owner).items())
    review = []
    if meta is not None and meta.review_on is not None:
        review.append(t("toolbox.crisis.pdf_review_on", date=render.local_date(t, meta.review_on)))
    if meta is not None and meta.reviewed_on is not None:
        review.append(t("toolbox.crisis.pdf_reviewed_on", date=render.local_date(t, meta.reviewed_on)))
    return crisis_pdf.CrisisPdf(
        title=t("toolbox.crisis.pdf_title"),
        sections=sections,
        empty_section=t("toolbox.crisis.empty_section"),
        help_heading=t("toolbox.crisis.pdf_help_heading"),
        help_lines=tuple((n.label_in(ctx.lang), n.number) for n in ctx.settings.crisis.numbers),
        review_line=" · ".join(review) or None,
        generated_line=t("toolbox.crisis.pdf_generated", date=render.local_date(t, today)),
    )


async def send_crisis_plan_pdf(ctx: Context, owner: str, caption_key: str) -> None:
    """Everything is read here; the rendering and the upload happen after the event's transaction."""
    document = plan_document(ctx, owner)
    doc_title = document.title
    filename = ctx.t("toolbox.crisis.pdf_filename")
    caption = ctx.t(caption_key)
    port: MatrixPort = ctx.port

    async def work() -> Finish:
        data = await asyncio.to_thread(crisis_pdf.render, document, doc_title)
        uploaded = await port.upload(data, MIMETYPE, filename)

        def finish(done: Context) -> None:
            done.send_file(done.room_id, uploaded, filename=filename, mimetype=MIMETYPE, size=len(data),
                           alt_text=doc_title)
            done.reply_text(caption)

        return finish

    await ctx.off_lock(work)
