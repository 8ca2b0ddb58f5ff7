"""The crisis plan: ``!crisis``, ``!crisis add/remove``, ``!crisis pdf``, ``!crisis review`` (with a
date: when to look again; without: the review conversation, answered in plain words)."""

from __future__ import annotations

from bot.context import Context
from bot.db import utcnow
from bot.errors import DomainError, NotFound
from bot.markup import Markdown, literal
from bot.models import Role, RoomKind
from bot.router import integer, rest, word
from bot.timephrase import parse_date
from toolbox import crisis_plan, render
from toolbox.commands.common import PRIVATE, WHEN_KEYS, command, zone_of
from toolbox.feature import feature
from toolbox.limits import TEXT_MAX
from toolbox.models import CrisisReview
from toolbox.printable import send_crisis_plan_pdf


def _numbers(ctx: Context) -> Markdown:
    return Markdown("\n".join(f"- {literal(n.label_in(ctx.lang))}: **{literal(n.number)}**"
                               for n in ctx.settings.crisis.numbers))


@command("crisis", help="toolbox.help.crisis", crisis_exempt=True, safety=True, **PRIVATE)
async def crisis_show(ctx: Context) -> None:
    numbers = _numbers(ctx)
    if crisis_plan.is_empty(ctx.session, ctx.sender):
        ctx.reply("toolbox.crisis.empty", numbers=numbers)
        return
    today = utcnow().astimezone(zone_of(ctx)).date()
    plan = render.crisis_plan(ctx.t, crisis_plan.items(ctx.session, ctx.sender),
                              crisis_plan.meta(ctx.session, ctx.sender), today)
    ctx.reply("toolbox.crisis.show", plan=plan, numbers=numbers)


@command("crisis add", word("section"), rest("text", max_len=TEXT_MAX), help="toolbox.help.crisis_add",
         crisis_exempt=True, **PRIVATE)
async def crisis_add(ctx: Context, section: str, text: str) -> None:
    section_id, text = crisis_plan.split_section(section, text)
    crisis_plan.add(ctx.session, ctx.sender, section_id, text)
    ctx.reply("toolbox.crisis.added", section=ctx.t(f"toolbox.section.{section_id}"))


@command("crisis remove", word("section"), integer("n", min=1), help="toolbox.help.crisis_remove",
         crisis_exempt=True, **PRIVATE)
async def crisis_remove(ctx: Context, section: str, n: int) -> None:
    section_id = crisis_plan.section_of(section)
    try:
        item = crisis_plan.remove(ctx.session, ctx.sender, section_id, n)
    except NotFound as err:
        # Name the section in the reader's language, which the domain cannot.
        raise NotFound(err.key, section=ctx.t(f"toolbox.section.{section_id}"), **err.params) from None
    ctx.reply("toolbox.crisis.removed", text=render.plain(item.text), section=ctx.t(f"toolbox.section.{section_id}"))


@command("crisis pdf", help="toolbox.help.crisis_pdf", **PRIVATE)
async def crisis_pdf(ctx: Context) -> None:
    if crisis_plan.is_empty(ctx.session, ctx.sender):
        # A page of empty headings helps nobody in a hard moment: say how to start instead.
        ctx.reply("toolbox.crisis.pdf_empty", numbers=_numbers(ctx))
        return
    await send_crisis_plan_pdf(ctx, ctx.sender, "toolbox.crisis.pdf_sent")


@command("crisis review", rest("date", max_len=40, optional=True), help="toolbox.help.crisis_review",
         crisis_exempt=True, **PRIVATE)
async def crisis_review(ctx: Context, date: str | None) -> None:
    if date is None:
        _start_review(ctx)
        return
    zone = zone_of(ctx)
    day = parse_date(date, zone, utcnow(), WHEN_KEYS)
    crisis_plan.set_review(ctx.session, ctx.sender, day)
    review = crisis_plan.review_of(ctx.session, ctx.sender)
    if review is not None and review.step == crisis_plan.DATE_STEP:
        crisis_plan.end_review(ctx.session, ctx.sender)  # the conversation's last question, answered
    ctx.reply("toolbox.crisis.review_set", date=render.local_date(ctx.t, day))
    if day < utcnow().astimezone(zone).date():
        ctx.reply("toolbox.crisis.review_past")


# --- the review conversation ---------------------------------------------------------------------

def _start_review(ctx: Context) -> None:
    if crisis_plan.is_empty(ctx.session, ctx.sender):
        crisis_plan.end_review(ctx.session, ctx.sender)
        ctx.reply("toolbox.review.empty_plan")
        return
    review = crisis_plan.start_review(ctx.session, ctx.sender)
    _ask(ctx, review, ctx.t("toolbox.review.start", count=len(crisis_plan.SECTIONS), question=_question(ctx, 0)))


def _ask(ctx: Context, review: CrisisReview, text: str) -> None:
    """Send a question of the review, noting it so a Matrix reply to it counts as the answer."""
    if ctx.private_room is not None:
        review.question_txn = ctx.send_text(ctx.private_room, text)
    else:
        review.question_txn = ctx.send_text(ctx.room_id, text, thread_root=ctx.event.thread_root)


def _question(ctx: Context, step: int) -> Markdown:
    """The section at ``step`` as it is now, and what the person can answer."""
    section = crisis_plan.SECTIONS[step]
    lines = crisis_plan.items(ctx.session, ctx.sender)[section]
    title = ctx.t(f"toolbox.section.{section}")
    if not lines:
        return Markdown(ctx.t("toolbox.review.ask_empty", n=step + 1, count=len(crisis_plan.SECTIONS),
                              section=title))
    body = Markdown("\n".join(f"{n}. {render.plain(i.text)}" for n, i in enumerate(lines, 1)))
    return Markdown(ctx.t("toolbox.review.ask", n=step + 1, count=len(crisis_plan.SECTIONS), section=title,
                          lines=body))


def _next(ctx: Context, review: CrisisReview, said: str | None) -> None:
    """Move on and ask the next question (``said`` first: what happened to this section)."""
    step = crisis_plan.advance_review(ctx.session, review)
    parts = [said] if said else []
    if step < crisis_plan.DATE_STEP:
        parts.append(_question(ctx, step))
    else:
        today = utcnow().astimezone(zone_of(ctx)).date()
        crisis_plan.mark_reviewed(ctx.session, ctx.sender, today)
        parts.append(ctx.t("toolbox.review.done", date=render.local_date(ctx.t, today)))
    _ask(ctx, review, "\n\n".join(parts))


def _answer_date(ctx: Context, text: str) -> None:
    kind = crisis_plan.answer_kind(text)
    if kind in ("skip", "stop", "change"):
        crisis_plan.end_review(ctx.session, ctx.sender)
        ctx.reply("toolbox.review.no_date")
        return
    zone = zone_of(ctx)
    try:
        day = parse_date(text, zone, utcnow(), WHEN_KEYS)
    except DomainError:
        ctx.reply("toolbox.review.bad_date")
        return
    if day <= utcnow().astimezone(zone).date():
        ctx.reply("toolbox.review.date_past")
        return
    crisis_plan.set_review(ctx.session, ctx.sender, day)
    crisis_plan.end_review(ctx.session, ctx.sender)
    ctx.reply("toolbox.review.date_set", date=render.local_date(ctx.t, day))


@feature.observe("m.room.message")
async def review_answer(ctx: Context) -> None:
    """A plain message in the person's own toolbox room while a review is under way is its answer.
    A command (``!…``) stays a command, and the review waits for the next plain message."""
    if (ctx.room_kind is not RoomKind.TOOLBOX or ctx.room is None or ctx.room.owner != ctx.sender
            or ctx.role not in (Role.PARTICIPANT, Role.FORMER) or ctx.event.content.get("msgtype") != "m.text"):
        return
    text = ctx.event.body.strip()
    if not text or text.startswith(ctx.prefix):
        return
    review = crisis_plan.review_of(ctx.session, ctx.sender)
    if review is None or not crisis_plan.is_answer_to_question(ctx.session, review, ctx.event.reply_to):
        return
    if crisis_plan.review_expired(review):
        crisis_plan.end_review(ctx.session, ctx.sender)
        ctx.reply("toolbox.review.expired")
        return
    if review.step >= crisis_plan.DATE_STEP:
        _answer_date(ctx, text)
        return
    section = crisis_plan.SECTIONS[review.step]
    title = ctx.t(f"toolbox.section.{section}")
    kind = crisis_plan.answer_kind(text)
    if kind == "stop":
        crisis_plan.end_review(ctx.session, ctx.sender)
        ctx.reply("toolbox.review.stopped")
    elif kind == "change":
        ctx.reply("toolbox.review.write_new", section=title)
    elif kind in ("keep", "skip"):
        empty = not crisis_plan.items(ctx.session, ctx.sender)[section]
        _next(ctx, review, None if empty or kind == "skip" else ctx.t("toolbox.review.kept", section=title))
    elif kind == "clear":
        crisis_plan.replace_section(ctx.session, ctx.sender, section, [])
        _next(ctx, review, ctx.t("toolbox.review.cleared", section=title))
    else:
        try:
            crisis_plan.replace_section(ctx.session, ctx.sender, section, crisis_plan.answer_lines(text))
        except DomainError as err:
            ctx.reply(err.key, **err.params)  # the review stays at this section
            return
        _next(ctx, review, ctx.t("toolbox.review.replaced", section=title))
