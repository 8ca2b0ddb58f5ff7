"""Role × command × room kind, generated from the command declarations of every feature.

Every command is tried by every role in every kind of room, with arguments that parse. A spy
stands in for each handler, so the test sees exactly whether the router let the command run.
Expected: it runs exactly where the declaration says (an admin may do what a consultant may),
and a refusal never echoes what was typed after the command name.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.models import ManagedRoom, Role, RoomKind
from bot.router import SHARED_ROOMS, Arg, Command, Router, dispatch_command
from tests.support.core import make_context

SENTINEL = "Zq7SENTINELxW"


def declared_allowed(cmd: Command, role: Role, kind: RoomKind) -> bool:
    """What the declaration grants, read from ``roles`` and ``rooms`` (not from the router)."""
    roles = set(cmd.roles)
    if Role.CONSULTANT in roles:
        roles.add(Role.ADMIN)
    return role in roles and kind in cmd.rooms


def valid_value(arg: Arg) -> str:
    """A token that satisfies the argument, carrying the sentinel wherever free text is allowed."""
    if arg.kind == "int":
        return str(arg.min if arg.min is not None else 1)
    if arg.kind == "choice":
        return arg.choices[0]
    if arg.kind == "user":
        return "@someone:localhost"
    if arg.kind == "rest":
        return f"{SENTINEL} and more"
    return SENTINEL[: arg.max_len] if arg.max_len else SENTINEL


def command_line(cmd: Command, *, sentinel: bool = False) -> str:
    """Arguments that parse; with ``sentinel``, one more word after them (refusals come before
    parsing, so it must not be echoed either)."""
    values = [valid_value(a) for a in cmd.args]
    if sentinel and not any(SENTINEL in v for v in values):
        values.append(SENTINEL)
    return f"!{cmd.name} " + " ".join(values)


def room_id_for(kind: RoomKind) -> str:
    return f"!{kind.value}:localhost"


def spy_router(router: Router, calls: list[str]) -> Router:
    spied = Router(router.prefix)

    def spy_for(name: str):
        async def spy(ctx, **kwargs: Any) -> None:
            calls.append(name)
            ctx.reply_text("ran")

        return spy

    spied.add([replace(c, handler=spy_for(c.name)) for c in router.commands])
    return spied


def refusals(services) -> tuple[str, str]:
    """The fixed parts of the two refusal texts (before their placeholders)."""
    cat, lang = services.catalogue, services.settings.language
    role = cat.t(lang, "router.not_your_role", command="\x00", p="!").split("\x00")[0]
    room = cat.t(lang, "router.wrong_room", command="\x00", where="", p="!").split("\x00")[0]
    return role, room


def add_rooms(db) -> None:
    with db.session() as setup:
        for kind in RoomKind:
            if kind is not RoomKind.DIRECT:  # an unknown one-to-one room is a direct chat
                setup.add(ManagedRoom(room_id=room_id_for(kind), kind=kind.value, owner="@p:localhost"))


async def run_one(session, services, router: Router, line: str, role: Role, kind: RoomKind) -> list[str]:
    """Dispatch one line; the texts it would send. (Only refusals and spies run, which change
    nothing but the outbox, so one session serves every try and is rolled back at the end.)"""
    ctx = make_context(session, services, sender="@p:localhost", room_id=room_id_for(kind), body=line, role=role)
    await dispatch_command(router, ctx)
    texts = [str(m["content"].get("body", "")) + str(m["content"].get("formatted_body", "")) for m in ctx.sent]
    # A command removed from a shared room is answered privately, after a line saying why it is
    # answered there: what follows it is the answer.
    note = services.catalogue.t(services.settings.language, "router.answered_here", command="\x00", where="",
                                p="!").split("\x00")[0]
    return [t.split("\n\n", 1)[1] if t.startswith(note) else t for t in texts]


def combos(router: Router):
    return [(cmd, role, kind) for cmd in router.commands for role in Role for kind in RoomKind]


# The decision is the router's alone (no query depends on the database engine): SQLite only.
async def test_every_command_runs_exactly_where_declared(sqlite_db, services):
    router = services.router
    assert router is not None and len(router.commands) > 20
    calls: list[str] = []
    spied = spy_router(router, calls)
    add_rooms(sqlite_db)
    refused_role, refused_room = refusals(services)

    unauthorised: list[str] = []
    wrongly_refused: list[str] = []
    echoed: list[str] = []
    tried = combos(spied)
    with sqlite_db.session() as session:
        for cmd, role, kind in tried:
            allowed = declared_allowed(cmd, role, kind)
            calls.clear()
            bodies = await run_one(session, services, spied, command_line(cmd, sentinel=not allowed), role, kind)
            where = f"{cmd.name} by {role.value} in {kind.value}"
            ran = calls == [cmd.name]
            if allowed and not ran:
                wrongly_refused.append(f"{where}: {bodies}")
            if not allowed:
                if ran:
                    unauthorised.append(where)
                if len(bodies) != 1 or not bodies[0].startswith((refused_role, refused_room)):
                    wrongly_refused.append(f"{where}: not a plain refusal: {bodies}")
                if any(SENTINEL in b for b in bodies):
                    echoed.append(where)
        session.rollback()
    assert len(tried) == len(spied.commands) * len(Role) * len(RoomKind)
    assert unauthorised == []
    assert echoed == []
    assert wrongly_refused == []


async def test_refusals_with_the_real_handlers_never_echo_arguments(sqlite_db, services):
    """The same refusals through the real commands: nothing typed comes back, nothing changes."""
    router = services.router
    assert router is not None
    add_rooms(sqlite_db)
    refused = [(c, r, k) for c, r, k in combos(router) if not declared_allowed(c, r, k)]
    echoed: list[str] = []
    with sqlite_db.session() as session:
        for cmd, role, kind in refused:
            bodies = await run_one(session, services, router, command_line(cmd, sentinel=True), role, kind)
            if len(bodies) != 1 or SENTINEL in bodies[0]:
                echoed.append(f"{cmd.name} by {role.value} in {kind.value}: {bodies}")
        session.rollback()
    assert len(refused) > 100
    assert echoed == []
    # No room made, no one invited or kicked by a refused command. A discreet one (a staff command,
    # a report, a personal answer) sent in a shared room is removed from it first, and only that.
    shared = {room_id_for(k) for k in SHARED_ROOMS}
    assert services.port.calls and all(name == "redact" and args[0] in shared for name, args in services.port.calls)
