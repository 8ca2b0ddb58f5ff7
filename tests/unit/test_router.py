from __future__ import annotations

import pytest

from bot.models import ManagedRoom, Role, RoomKind
from bot.router import (
    CommandSet,
    Router,
    UsageError,
    choice,
    dispatch_command,
    integer,
    parse_args,
    rest,
    tokenize,
    word,
)
from tests.support.core import make_context, queued


def _cmd(*args):
    cs = CommandSet()

    @cs.command("thing do", *args, help="core.help.help")
    async def handler(ctx, **kw):
        ctx.reply_text(repr(sorted(kw.items())))

    return cs.commands[0]


def test_tokenize_respects_quotes():
    assert [t[0] for t in tokenize('add "Blue Sky" now')] == ["add", "Blue Sky", "now"]
    assert [t[0] for t in tokenize("“smart quoted” x")] == ["smart quoted", "x"]


def test_parse_int_choice_rest():
    cmd = _cmd(integer("n", min=1, max=10), choice("mode", ("yes", "no")), rest("text", max_len=20))
    assert parse_args(cmd, "3 YES hello  there") == {"n": 3, "mode": "yes", "text": "hello  there"}
    with pytest.raises(UsageError) as e:
        parse_args(cmd, "11 yes x")
    assert e.value.reason == "router.out_of_range"
    with pytest.raises(UsageError) as e:
        parse_args(cmd, "1 maybe x")
    assert e.value.reason == "router.bad_choice"
    with pytest.raises(UsageError) as e:
        parse_args(cmd, "1 yes " + "x" * 21)
    assert e.value.reason == "router.too_long"
    with pytest.raises(UsageError) as e:
        parse_args(cmd, "1")
    assert e.value.reason == "router.missing_arg"


def test_optional_and_too_many():
    cmd = _cmd(word("a"), integer("n", optional=True))
    assert parse_args(cmd, "x") == {"a": "x", "n": None}
    with pytest.raises(UsageError):
        parse_args(cmd, "x 1 2")


def test_usage_line_generated():
    cmd = _cmd(integer("n"), choice("mode", ("yes", "no"), optional=True))
    assert cmd.usage_line("!") == "!thing do N [yes|no]"


def test_longest_match_and_group():
    r = Router("!")
    cs = CommandSet()

    @cs.command("goal add", rest("text"))
    async def a(ctx, text): ...

    @cs.command("goals")
    async def b(ctx): ...

    r.add(cs.commands)
    m = r.match("!goal add walk every day")
    assert m.command.name == "goal add" and m.rest == "walk every day"
    m = r.match("!goal")
    assert m.command is None and [c.name for c in m.group] == ["goal add"]
    assert r.match("!GOALS").command.name == "goals"


async def test_help_lists_only_allowed(db, services):
    with db.session() as s:
        ctx = make_context(s, services, sender="@someone:localhost", room_id="!dm:localhost", body="!help")
        await dispatch_command(services.router, ctx)
        (room, content), = queued(s)
        assert room == "!dm:localhost"
        assert content["msgtype"] == "m.notice"
        assert "!whoami" in content["body"] and "<code>" in content["formatted_body"]
        assert "!approve" not in content["body"]


async def test_unknown_command_suggests(db, services):
    with db.session() as s:
        ctx = make_context(s, services, sender="@someone:localhost", room_id="!dm:localhost", body="!hepl")
        await dispatch_command(services.router, ctx)
        (_, content), = queued(s)
        assert "Did you mean `!help`" in content["body"]


async def test_lang_switches_catalogue(db, services):
    with db.session() as s:
        ctx = make_context(s, services, sender="@x:localhost", room_id="!dm:localhost", body="!lang nb")
        await dispatch_command(services.router, ctx)
    with db.session() as s:
        ctx = make_context(s, services, sender="@x:localhost", room_id="!dm:localhost", body="!whoami", event_id="$2")
        await dispatch_command(services.router, ctx)
        (_, content), = queued(s)[-1:]
        assert "Rolle" in content["body"] and "norsk bokmål" in content["body"]


async def test_wrong_room_refusal_does_not_echo(db, services):
    cs = CommandSet()

    @cs.command("secret", rest("text"), rooms={RoomKind.TOOLBOX}, roles={Role.GUEST})
    async def secret(ctx, text):
        raise AssertionError("must not run")

    services.router.add(cs.commands)
    with db.session() as s:
        s.add(ManagedRoom(room_id="!forum:localhost", kind=RoomKind.FORUM.value))
        s.flush()
        ctx = make_context(s, services, sender="@x:localhost", room_id="!forum:localhost",
                           body="!secret my private words")
        await dispatch_command(services.router, ctx)
        (_, content), = queued(s)
        # No private room to answer in: one neutral line in the forum, nothing of the command.
        assert "private words" not in content["body"] and "secret" not in content["body"]
        assert any(args[0] == "!forum:localhost" for args in services.port.called("redact"))


def test_a_space_after_the_prefix_still_reaches_a_known_command():
    router = Router("!")
    router.add([_cmd(integer("n"))])
    assert router.is_command("!thing do 3") and router.is_command("! thing do 3")
    assert router.match("! thing do 3").command is router.by_name["thing do"]
    assert router.match("! thing do 3").rest == "3"
    assert not router.is_command("! wow, thanks") and not router.is_command("!") and not router.is_command("! ")
