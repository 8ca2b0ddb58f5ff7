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
from bot.markup import Markdown
from bot.models import Role, RoomKind
from bot.outbox import enqueue_leave
from bot.people import participant, prefs
from bot.router import Command, Router, argument_lines, choice, example_of, rest, shown_usage, summary_line, word

log = logging.getLogger(__name__)
feature = Feature(name="core", locales=Path(__file__).parent / "locales", provides=(PERSONAL_DATA,))
commands = feature.commands
# A person's own data, in their own toolbox room or direct chat: for anyone who ever signed up, also
# after leaving, and for someone still waiting for approval (who may withdraw with !forget-me).
OWN_DATA_ROOMS = {RoomKind.TOOLBOX, RoomKind.DIRECT}
OWN_DATA_ROLES = {Role.PARTICIPANT, Role.FORMER, Role.GUEST}
EXPORT_FILENAME = "reconnect-export.json"
# ``!help`` lists every command when there are few; above this many it gives an overview instead
# (the most used commands and one line per topic), and ``!help TOPIC`` lists a topic in full.
FULL_LIST_MAX = 20
# The most used commands, first in the overview when the role may use them in that room.
MOST_USED = ("mood", "goal add", "activity add", "crisis", "contact", "cafe", "rsvp",
             "pending", "approve", "answer", "warn", "modlog", "cafe schedule")
MOST_USED_SHOWN = 6
# Topics are the features that declare the commands (the first part of their help key).
TOPICS = ("core", "rooms", "toolbox", "schedules")


def _topic_of(cmd: Command) -> str:
    return cmd.help.split(".", 1)[0]


def _topic_word(ctx: Context, topic: str, lang: str | None = None) -> str:
    return ctx.t(f"core.help.topic.{topic}", lang=lang)


@commands.command("help", rest("command", max_len=100, optional=True), help="core.help.help", usage="[COMMAND]",
                  private=True)
async def help_command(ctx: Context, command: str | None) -> None:
    router = ctx.services.router
    assert router is not None, "the router is wired into Services at start"
    # Asked in a shared room, the answer lands in the toolbox: list what can be done there.
    here = RoomKind.TOOLBOX if ctx.private_room is not None and ctx.role is Role.PARTICIPANT else ctx.room_kind
    if command:
        wanted = " ".join(command.lower().lstrip(ctx.prefix).split())
        topic = next((t for t in TOPICS if wanted in {_topic_word(ctx, t, lang) for lang in ("en", "nb")}), None)
        if topic is not None:
            _topic(ctx, router, here, topic)
        else:
            _explain(ctx, router, wanted)
        return
    visible = router.visible_to(ctx.role, here)
    role, room = ctx.t(f"role.{ctx.role.value}"), ctx.t(f"room_kind.{here.value}")
    if len(visible) <= FULL_LIST_MAX:
        lines = [summary_line(ctx, c) for c in visible]
        text = ctx.t("core.help.list", role=role, room=room, commands=Markdown("\n".join(lines)))
    else:
        # A newcomer trial counted some 60 lines: the most used commands, and each topic on one line.
        by_name = {c.name: c for c in visible}
        common = [by_name[n] for n in MOST_USED if n in by_name][:MOST_USED_SHOWN]
        topics = []
        for topic in TOPICS:
            names = [f"`{ctx.prefix}{c.name}`" for c in visible if _topic_of(c) == topic]
            if names:
                topics.append(f"- {ctx.t('core.help.topic_line', topic=_topic_word(ctx, topic), count=len(names))} "
                              + ", ".join(names))
        present = [t for t in TOPICS if any(_topic_of(c) == t for c in visible)]
        example = "toolbox" if "toolbox" in present else present[-1]
        text = ctx.t("core.help.overview", role=role, room=room,
                     common=Markdown("\n".join(summary_line(ctx, c) for c in common)),
                     topics=Markdown("\n".join(topics)), example=f"{ctx.prefix}help {_topic_word(ctx, example)}")
    text += _elsewhere(ctx, router, here)
    # Catalogue text and command names only, the same for everyone in this role, room and
    # language: its rendering is remembered.
    ctx.reply_text(Markdown(text), static=True)


def _topic(ctx: Context, router: Router, here: RoomKind, topic: str) -> None:
    """``!help toolbox``: every command of that topic the person may use here, with what it does
    (and the topic's commands for their other rooms)."""
    mine = [c for c in router.commands if c.listed_to(ctx.role) and c.allows_role(ctx.role) and _topic_of(c) == topic]
    here_lines = [summary_line(ctx, c) for c in mine if c.allows_room(here)]
    text = ctx.t("core.help.topic_list", topic=_topic_word(ctx, topic),
                 commands=Markdown("\n".join(here_lines) or ctx.t("core.help.topic_none_here")))
    text += _elsewhere(ctx, router, here, [c for c in mine if not c.allows_room(here)])
    ctx.reply_text(Markdown(text), static=True)


def _elsewhere(ctx: Context, router: Router, here: RoomKind, elsewhere: list[Command] | None = None) -> str:
    """What this role can do in its other rooms, so it can be found from here (e.g. !circle leave)."""
    if elsewhere is None:
        elsewhere = [c for c in router.commands if c.listed_to(ctx.role) and c.allows_role(ctx.role)
                     and not c.allows_room(here)]
    text = ""
    if elsewhere:
        # One line per place ("your private toolbox room: `!goal add`, `!goals`, …"), not the
        # place repeated after every command.
        by_place: dict[str, list[str]] = {}
        for c in elsewhere:
            place = ", ".join(sorted(ctx.t(f"room_kind.{k.value}") for k in c.rooms))
            by_place.setdefault(place, []).append(f"`{ctx.prefix}{c.name}`")
        text += "\n\n" + ctx.t("core.help.elsewhere", commands=Markdown("".join(
            f"\n- {place}: {', '.join(names)}" for place, names in by_place.items())))
    return text


def _explain(ctx: Context, router: Router, wanted: str) -> None:
    """``!help goal add``: what it does, its arguments and an example; ``!help goal``: the group."""
    mine = [c for c in router.commands if not c.hidden and c.allows_role(ctx.role)]
    exact = next((c for c in mine if c.name == wanted), None)
    if exact is None:
        group = [c for c in mine if c.name.startswith(wanted + " ")]
        if group:
            ctx.reply("core.help.group", commands=Markdown("\n".join(summary_line(ctx, c) for c in group)),
                      example=f"{ctx.prefix}help {group[0].name}")
            return
        suggestion = router.suggest(wanted, mine)
        if suggestion:
            ctx.reply("core.help.no_such_suggest", suggestion=f"{ctx.prefix}help {suggestion}")
        else:
            ctx.reply("core.help.no_such")
        return
    parts = [ctx.t("core.help.about", usage=shown_usage(ctx, exact), summary=ctx.t(exact.help))]
    more = exact.help.replace(".help.", ".more.")
    if ctx.speaker.catalogue.has(more):
        parts.append(ctx.t(more))
    arguments = argument_lines(ctx, exact)
    if arguments:
        parts.append(ctx.t("core.help.arguments", lines=Markdown("\n".join(arguments))))
    example = example_of(ctx, exact)
    if example is not None:
        parts.append(ctx.t("core.help.example", example=example))
    if not exact.allows_room(ctx.room_kind):
        places = sorted(ctx.t(f"room_kind.{k.value}") for k in exact.rooms)
        parts.append(ctx.t("core.help.where", where=", ".join(places)))
    # ``!help cafe``: the rest of the family too (``!cafe schedule``, ``!cafe buddy`` …), which a
    # person would otherwise find only in the full list.
    family = [c for c in mine if c.name.startswith(exact.name + " ") and c.listed_to(ctx.role)]
    if family:
        parts.append(ctx.t("core.help.family", commands=Markdown("\n".join(summary_line(ctx, c) for c in family)),
                           example=f"{ctx.prefix}help {family[0].name}"))
    ctx.reply_text(Markdown("\n\n".join(parts)))


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


@commands.command("export", help="core.help.export", rooms=OWN_DATA_ROOMS, roles=OWN_DATA_ROLES, late=True)
async def export_data(ctx: Context) -> None:
    data = personal_data.export_document(ctx.services.features, ctx.session, ctx.sender)
    blob = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")  # dates from any feature
    uploaded = await ctx.port.upload(blob, "application/json", EXPORT_FILENAME)
    ctx.send_file(ctx.room_id, uploaded, filename=EXPORT_FILENAME, mimetype="application/json", size=len(blob),
                  alt_text=EXPORT_FILENAME)
    ctx.reply("core.export.done")


@commands.command("forget-me", word("code", optional=True, placeholder="CODE"), help="core.help.forget_me",
                  rooms=OWN_DATA_ROOMS, roles=OWN_DATA_ROLES, late=True)
async def forget_me(ctx: Context, code: str | None) -> None:
    if code is None:
        new_code = personal_data.request_code(ctx.session, ctx.sender)
        ctx.reply("core.forget.confirm", code=new_code,
                  minutes=int(personal_data.CODE_LIFETIME.total_seconds() // 60))
        return
    personal_data.check_code(ctx.session, ctx.sender, code)
    direct = [ctx.room_id] if ctx.room_kind is RoomKind.DIRECT else []
    direct += await ctx.port.direct_rooms_with(ctx.sender)
    rooms = await personal_data.forget(ctx.services.features, ctx.session, ctx.port, ctx.sender, direct)
    for room_id, provider in rooms.providers.items():  # told once, in the provider's language
        ctx.send_text(room_id, ctx.t("core.forget.provider_note", lang=ctx.speaker.lang_of(ctx.session, provider)))
    ctx.reply("core.forget.done")
    for room_id in rooms.all:  # after the last message there: the bot leaves, and the room's traces go
        enqueue_leave(ctx.session, room_id)
    log.info("forget-me completed in room %s", ctx.room_id)
