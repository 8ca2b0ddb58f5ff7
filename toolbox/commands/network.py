"""The network map: ``!network add/remove``, ``!network``, ``!network map``."""

from __future__ import annotations

from bot.context import Context
from bot.router import integer, rest
from toolbox import network, render
from toolbox.commands.common import PREFIXED_MAX, PRIVATE, command
from toolbox.pictures import send_network_map


@command("network add", rest("text", max_len=PREFIXED_MAX), usage="NAME CIRCLE [NOTE]", help="toolbox.help.network_add",
         **PRIVATE)
async def network_add(ctx: Context, text: str) -> None:
    name, circle, note = network.parse_entry(text)
    contact = network.add(ctx.session, ctx.sender, name, circle, note)
    ctx.reply("toolbox.network.added", name=render.plain(contact.name), circle=ctx.t(f"toolbox.circle.{circle}"))


@command("network", help="toolbox.help.network", **PRIVATE)
async def network_list(ctx: Context) -> None:
    rows = network.listed(ctx.session, ctx.sender)
    if not rows:
        ctx.reply("toolbox.network.empty")
        return
    ctx.reply("toolbox.network.list", network=render.network(ctx.t, rows))


@command("network remove", integer("n", min=1), help="toolbox.help.network_remove", **PRIVATE)
async def network_remove(ctx: Context, n: int) -> None:
    contact = network.remove(ctx.session, ctx.sender, n)
    ctx.reply("toolbox.network.removed", name=render.plain(contact.name))


@command("network map", help="toolbox.help.network_map", **PRIVATE)
async def network_map(ctx: Context) -> None:
    rows = network.listed(ctx.session, ctx.sender)
    if not rows:
        ctx.reply("toolbox.network.empty")
        return
    await send_network_map(ctx, rows, own=True)
