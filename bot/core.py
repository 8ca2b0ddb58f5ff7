"""The core's own commands: !help, !whoami, !lang, and the personal-data service's !export and
!forget-me."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from bot import personal_data
from bot.context import Context
from bot.contracts import PERSONAL_DATA
from bot.feature import Feature
from bot.models import Role, RoomKind
from bot.people import participant, prefs
from bot.router import choice, word

log = logging.getLogger(__name__)
feature = Feature(name="core", locales=Path(__file__).parent / "locales", provides=(PERSONAL_DATA,))
commands = feature.commands
# A person's own data: only the participant, only in their own toolbox room.
OWN_DATA_ROOMS, OWN_DATA_ROLES = {RoomKind.TOOLBOX}, {Role.PARTICIPANT}
EXPORT_FILENAME = "reconnect-export.json"


@commands.command("help", word("command", optional=True, placeholder="COMMAND"),
                  help="core.help.help", usage="[COMMAND]", private=True)
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


@commands.command("whoami", help="core.help.whoami", private=True)
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


@commands.command("export", help="core.help.export", rooms=OWN_DATA_ROOMS, roles=OWN_DATA_ROLES)
async def export_data(ctx: Context) -> None:
    data = personal_data.export_document(ctx.services.features, ctx.session, ctx.sender)
    blob = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")  # dates from any feature
    uploaded = await ctx.port.upload(blob, "application/json", EXPORT_FILENAME)
    ctx.send_file(ctx.room_id, uploaded, filename=EXPORT_FILENAME, mimetype="application/json", size=len(blob),
                  alt_text=EXPORT_FILENAME)
    ctx.reply("core.export.done")


@commands.command("forget-me", word("code", optional=True, placeholder="CODE"), help="core.help.forget_me",
                  rooms=OWN_DATA_ROOMS, roles=OWN_DATA_ROLES)
async def forget_me(ctx: Context, code: str | None) -> None:
    if code is None:
        new_code = personal_data.request_code(ctx.session, ctx.sender)
        ctx.reply("core.forget.confirm", code=new_code,
                  minutes=int(personal_data.CODE_LIFETIME.total_seconds() // 60))
        return
    personal_data.check_code(ctx.session, ctx.sender, code)
    await personal_data.forget(ctx.services.features, ctx.session, ctx.port, ctx.sender)
    log.info("forget-me completed in room %s", ctx.room_id)
    ctx.reply("core.forget.done")
