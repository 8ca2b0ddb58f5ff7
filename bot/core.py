"""The core's own commands: !help, !whoami, !lang."""

from __future__ import annotations

from pathlib import Path

from bot.context import Context
from bot.feature import Feature
from bot.people import participant, prefs
from bot.router import choice, word

feature = Feature(name="core", locales=Path(__file__).parent / "locales")
commands = feature.commands


@commands.command("help", word("command", optional=True, placeholder="COMMAND"),
                  help="core.help.help", usage="[COMMAND]")
async def help_command(ctx: Context, command: str | None) -> None:
    router = ctx.services.router
    assert router is not None, "the router is wired into Services at start"
    allowed = router.visible_to(ctx.role, ctx.room_kind)
    if command:
        wanted = " ".join(command.lower().lstrip(ctx.prefix).split())
        matches = [c for c in allowed if c.name == wanted or c.name.startswith(wanted + " ")]
        if not matches:
            suggestion = router.suggest(wanted, allowed)
            if suggestion:
                ctx.reply("core.help.no_such_suggest", suggestion=f"{ctx.prefix}{suggestion}")
            else:
                ctx.reply("core.help.no_such")
            return
        lines = [f"- `{c.usage_line(ctx.prefix)}` — {ctx.t(c.help)}" for c in matches]
        ctx.reply("core.help.detail", commands="\n".join(lines))
        return
    lines = [f"- `{c.usage_line(ctx.prefix)}` — {ctx.t(c.help)}" for c in allowed]
    ctx.reply("core.help.list", role=ctx.t(f"role.{ctx.role.value}"),
              room=ctx.t(f"room_kind.{ctx.room_kind.value}"), commands="\n".join(lines))


@commands.command("whoami", help="core.help.whoami")
async def whoami(ctx: Context) -> None:
    p = participant(ctx.session, ctx.sender)
    pseudonym = p.pseudonym if p is not None and p.pseudonym else None
    ctx.reply(
        "core.whoami",
        user=ctx.sender,
        role=ctx.t(f"role.{ctx.role.value}"),
        pseudonym=pseudonym or ctx.t("core.whoami_no_pseudonym"),
        language=ctx.t(f"language.{ctx.lang}"),
    )


@commands.command("lang", choice("language", ("en", "nb")), help="core.help.lang")
async def lang(ctx: Context, language: str) -> None:
    prefs(ctx.session, ctx.sender).language = language
    ctx.lang = language
    ctx.reply("core.lang_set", language=ctx.t(f"language.{language}"))


