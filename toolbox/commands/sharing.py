"""Commands for sharing with providers (and the provider's ``!view``)."""

from __future__ import annotations

from bot.context import Context
from bot.db import utcnow
from bot.errors import DomainError, Invalid
from bot.markup import Markdown, literal, markdown_join
from bot.models import Role, RoomKind
from bot.router import integer, rest, word
from bot.zones import person_zone
from toolbox import activities, crisis_plan, diary, goals, meds, network, overview, render, sharing
from toolbox.commands.common import PRIVATE, command, zone_of
from toolbox.pictures import send_mood_chart, send_network_map, send_overview
from toolbox.printable import send_crisis_plan_pdf

WITH_WORDS = ("with", "med")
FROM_WORDS = ("from", "fra")


async def _provider_labels(ctx: Context) -> dict[str, str | None]:
    """The person's providers (Matrix id -> display name in their shared room)."""
    return {provider: await ctx.port.display_name(room_id, provider)
            for provider, room_id in sharing.linked_providers(ctx.session, ctx.sender).items()}


def _label(labels: dict[str, str | None], provider_id: str) -> Markdown:
    """"Dr Hansen (@doc:server)", shown as typed (display names are chosen by their owner)."""
    name = labels.get(provider_id)
    return Markdown(f"{render.plain(name)} ({literal(provider_id)})" if name else literal(provider_id))


def _split(text: str, joiners: tuple[str, ...]) -> tuple[str, str | None]:
    """``goals with Dr Hansen`` -> ("goals", "Dr Hansen"); no joiner -> (text, None)."""
    words = text.split()
    for i, w in enumerate(words):
        if i > 0 and w.casefold() in joiners:
            return " ".join(words[:i]), " ".join(words[i + 1:]) or None
    return text.strip(), None


async def _resolve(ctx: Context, name: str) -> tuple[str, dict[str, str | None]]:
    labels = await _provider_labels(ctx)
    if not labels:
        raise Invalid("toolbox.share.no_providers")
    try:
        return sharing.resolve_provider(labels, name), labels
    except DomainError as err:
        # Name the person's providers, so they can pick one by its Matrix id.
        raise type(err)(err.key, providers=Markdown(", ".join(_label(labels, p) for p in labels))) from None


def _numbered(labels: dict[str, str | None]) -> Markdown:
    return Markdown("\n".join(f"{n}. {_label(labels, p)}" for n, p in enumerate(labels, 1)))


@command("providers", help="toolbox.help.providers", **PRIVATE)
async def providers(ctx: Context) -> None:
    labels = await _provider_labels(ctx)
    if not labels:
        ctx.reply("toolbox.share.no_providers")
        return
    ctx.reply("toolbox.share.providers", providers=_numbered(labels))


@command("share", rest("text", max_len=300, optional=True), usage="ITEM with PROVIDER", help="toolbox.help.share",
         **PRIVATE)
async def share(ctx: Context, text: str | None) -> None:
    if not text:
        labels = await _provider_labels(ctx)
        named = {i: ctx.t(f"toolbox.item.{i}") for i in sharing.SHARE_ITEMS}
        items = Markdown(", ".join(f"`{ctx.t(f'toolbox.item_word.{i}')}`" + (f" ({label})" if label != i else "")
                                   for i, label in named.items()))
        if labels:
            ctx.reply("toolbox.share.what", items=items, providers=_numbered(labels))
        else:
            ctx.reply("toolbox.share.what_no_providers", items=items)
        return
    item_word, provider_name = _split(text, WITH_WORDS)
    if provider_name is None:
        raise Invalid("toolbox.share.usage")
    item = sharing.item_of(item_word)
    provider, labels = await _resolve(ctx, provider_name)
    new = sharing.share(ctx.session, ctx.sender, item, provider)
    ctx.reply("toolbox.share.shared" if new else "toolbox.share.already", item=ctx.t(f"toolbox.item.{item}"),
              provider=_label(labels, provider))


@command("unshare", rest("text", max_len=300), usage="ITEM [from PROVIDER]", help="toolbox.help.unshare", **PRIVATE)
async def unshare(ctx: Context, text: str) -> None:
    item_word, provider_name = _split(text, FROM_WORDS)
    item = sharing.item_of(item_word)
    provider, labels = await _resolve(ctx, provider_name) if provider_name else (None, {})
    count = sharing.unshare(ctx.session, ctx.sender, item, provider)
    if not count:
        ctx.reply("toolbox.share.was_not_shared", item=ctx.t(f"toolbox.item.{item}"))
    elif provider:
        ctx.reply("toolbox.share.unshared_one", item=ctx.t(f"toolbox.item.{item}"), provider=_label(labels, provider))
    else:
        ctx.reply("toolbox.share.unshared_all", item=ctx.t(f"toolbox.item.{item}"))


@command("shared", integer("page", min=1, optional=True, placeholder="PAGE"), help="toolbox.help.shared",
         **PRIVATE)
async def shared(ctx: Context, page: int | None) -> None:
    labels = await _provider_labels(ctx)
    rows = sharing.shares(ctx.session, ctx.sender)
    by_provider: dict[str, list[str]] = {}
    for row in rows:
        by_provider.setdefault(row.provider_id, []).append(ctx.t(f"toolbox.item.{row.item}"))
    shares = Markdown("\n".join(f"{n}. {_label(labels, p)}: {', '.join(items)}"
                                for n, (p, items) in enumerate(by_provider.items(), 1)))
    zone = zone_of(ctx)
    # Every view is the person's to read: newest first, a page at a time.
    pages = max(1, -(-sharing.view_count(ctx.session, ctx.sender) // sharing.VIEW_LOG_SHOWN))
    page = min(page or 1, pages)
    views = markdown_join("\n", (
        ctx.t("toolbox.share.view_shown" if v.shown else "toolbox.share.view_refused",
              when=render.local_time(ctx.t, v.viewed_at, zone), provider=_label(labels, v.provider_id),
              item=ctx.t(f"toolbox.item.{v.item}"))
        for v in sharing.views(ctx.session, ctx.sender, offset=(page - 1) * sharing.VIEW_LOG_SHOWN)
    ))
    if pages > 1:
        views = Markdown(views + "\n\n" + ctx.t("toolbox.share.views_page", page=page, pages=pages))
        if page < pages:
            views = Markdown(views + " " + ctx.t("toolbox.share.views_older", next=page + 1))
    ctx.reply("toolbox.share.overview", shares=shares or ctx.t("toolbox.share.nothing_shared"),
              views=views or ctx.t("toolbox.share.no_views"))


def _item_text(ctx: Context, owner: str, item: str) -> str:
    """What the provider sees of a shared item, as it is now, in the provider's language."""
    s, t = ctx.session, ctx.t
    zone = person_zone(s, ctx.settings, owner)
    if item == "goals":
        return render.goals(t, s, goals.listed(s, owner))
    if item == "activities":
        return render.activities(t, activities.listed(s, owner), zone)
    if item == "moods":
        return render.moods(t, diary.recent_moods(s, owner), zone)
    if item == "network":
        return render.network(t, network.listed(s, owner))
    if item == "overview":
        ov = overview.build(s, owner)
        return "" if ov.is_empty else render.overview_lines(t, ov)
    if item == "crisis-plan":
        if crisis_plan.is_empty(s, owner):
            return ""
        today = utcnow().astimezone(zone).date()
        return render.crisis_plan(t, crisis_plan.items(s, owner), crisis_plan.meta(s, owner), today)
    return render.meds(t, meds.listed(s, owner))


PDF_WORDS = ("pdf",)


@command("view", word("item", optional=True), word("form", optional=True, placeholder="pdf"), help="toolbox.help.view",
         rooms={RoomKind.PROVIDER}, roles={Role.PROVIDER})
async def view(ctx: Context, item: str | None, form: str | None) -> None:
    room = ctx.room
    if room is None or room.partner != ctx.sender or not room.owner:
        ctx.reply("toolbox.view.refused")
        return
    if item is None:
        items = sharing.shared_with(ctx.session, room.owner, ctx.sender)
        if not items:
            ctx.reply("toolbox.view.nothing_shared")
            return
        ctx.reply("toolbox.view.list", items=Markdown("\n".join(f"{n}. `{ctx.t(f'toolbox.item_word.{i}')}` — "
                                                                  f"{ctx.t(f'toolbox.item.{i}')}"
                                                                  for n, i in enumerate(items, 1))))
        return
    item_id = sharing.item_of(item)
    as_pdf = form is not None
    if as_pdf and (form.casefold() not in PDF_WORDS or item_id != "crisis-plan"):
        raise Invalid("toolbox.view.pdf_usage")
    if not sharing.record_view(ctx.session, room.owner, ctx.sender, item_id):
        ctx.reply("toolbox.view.refused")
        return
    if as_pdf:
        if crisis_plan.is_empty(ctx.session, room.owner):
            ctx.reply("toolbox.view.shown_empty", item=ctx.t(f"toolbox.item.{item_id}"))
        else:
            await send_crisis_plan_pdf(ctx, room.owner, "toolbox.view.pdf_sent")
        return
    text = _item_text(ctx, room.owner, item_id)
    ctx.reply("toolbox.view.shown" if text else "toolbox.view.shown_empty", item=ctx.t(f"toolbox.item.{item_id}"),
              text=text)
    if text and item_id == "moods":
        await send_mood_chart(ctx, diary.recent_moods(ctx.session, room.owner),
                              person_zone(ctx.session, ctx.settings, room.owner))
    elif text and item_id == "network":
        await send_network_map(ctx, network.listed(ctx.session, room.owner), own=False)
    elif text and item_id == "overview":
        await send_overview(ctx, overview.build(ctx.session, room.owner),
                            person_zone(ctx.session, ctx.settings, room.owner), own=False)
