"""Declarative commands: name, arguments, where they may run, who may run them, help text.

Usage lines and help are generated from the declarations. The router checks role, then room,
then parses arguments, and only then calls the handler. A refusal never echoes arguments.
"""

from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterable, Sequence

from bot import metrics
from bot.context import Context
from bot.markup import Markdown
from bot.models import Role, RoomKind
from bot.ratelimit import CommandLimiter, Verdict

log = logging.getLogger(__name__)
Handler = Callable[..., Awaitable[None]]

ANY_ROOM: frozenset[RoomKind] = frozenset(RoomKind)
# Rooms where participants meet peers: the privacy guard and ``!report`` work in all of them
# (café buddy and ride rooms, which schedules makes, are registered as ``BUDDY``).
SHARED_ROOMS: frozenset[RoomKind] = frozenset({RoomKind.FORUM, RoomKind.CAFE, RoomKind.CIRCLE, RoomKind.BUDDY})
PRIVATE_ROOMS: frozenset[RoomKind] = frozenset({RoomKind.DIRECT, RoomKind.TOOLBOX})
EVERYONE: frozenset[Role] = frozenset(Role)
STAFF: frozenset[Role] = frozenset({Role.CONSULTANT, Role.ADMIN})


class UsageError(Exception):
    """The arguments do not fit; ``reason`` is a catalogue key."""

    def __init__(self, reason: str, **params: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params


@dataclass(frozen=True)
class Arg:
    """One argument. Kinds: ``word`` (one token, quotes allowed), ``int``, ``choice``,
    ``user`` (a Matrix id), ``rest`` (all remaining text, as typed)."""

    name: str
    kind: str = "word"
    optional: bool = False
    choices: tuple[str, ...] = ()
    min: int | None = None
    max: int | None = None
    max_len: int | None = None
    placeholder: str | None = None
    aliases: tuple[tuple[str, str], ...] = ()  # other words for a choice, e.g. ("ja", "yes")

    @property
    def shown(self) -> str:
        if self.placeholder:
            label = self.placeholder
        elif self.kind == "choice":
            label = "|".join(self.choices)
        else:
            label = self.name.upper()
        return f"[{label}]" if self.optional else label


def word(name: str, **kw: Any) -> Arg:
    return Arg(name, "word", **kw)


def integer(name: str, **kw: Any) -> Arg:
    return Arg(name, "int", **kw)


def choice(name: str, options: Sequence[str], aliases: dict[str, str] | None = None, **kw: Any) -> Arg:
    """One of ``options``; ``aliases`` maps other words (e.g. Norwegian) to an option."""
    return Arg(name, "choice", choices=tuple(options), aliases=tuple((aliases or {}).items()), **kw)


def user(name: str = "user", **kw: Any) -> Arg:
    return Arg(name, "user", placeholder=kw.pop("placeholder", "@user:server"), **kw)


def rest(name: str, max_len: int = 2000, **kw: Any) -> Arg:
    return Arg(name, "rest", max_len=max_len, **kw)


@dataclass(frozen=True)
class Command:
    name: str  # one or more words: "goal add"
    handler: Handler
    args: tuple[Arg, ...] = ()
    rooms: frozenset[RoomKind] = ANY_ROOM
    roles: frozenset[Role] = EVERYONE
    help: str = ""  # catalogue key of the one-line description
    usage: str | None = None  # override of the generated argument part, e.g. "[AREA:] TEXT"
    hidden: bool = False  # not listed in !help (still runs)
    crisis_exempt: bool = False  # its text is the person's own plan, not a crisis message
    # Listed in !help only for these roles (None: for every role allowed); e.g. the enrolment
    # commands stop being listed once a person is enrolled, though they still answer.
    listed_for: frozenset[Role] | None = None
    late: bool = False  # listed after the rest (e.g. !export, !forget-me)
    safety: bool = False  # reaching help (e.g. !crisis): never held back by the command rate limit
    private: bool = False  # in a shared room: removed first, every answer goes to the person privately

    @property
    def discreet(self) -> bool:
        """Whether a shared room must see nothing of this command: declared ``private`` (it shows
        something personal, or who reported what), a staff command (who moderates whom), or one
        that only works in private rooms (``!mood 3 bad day`` typed in the forum is personal)."""
        return self.private or self.roles <= STAFF or self.rooms.isdisjoint(SHARED_ROOMS)

    def usage_line(self, prefix: str, word: Callable[[str], str | None] | None = None) -> str:
        """``!goal add [AREA:] TEXT``; ``word`` translates the argument words (``TEXT`` -> ``TEKST``)."""
        parts = self.usage if self.usage is not None else " ".join(a.shown for a in self.args)
        if word is not None:
            parts = localize_usage(parts, word)
        return f"{prefix}{self.name}" + (f" {parts}" if parts else "")

    def listed_to(self, role: Role) -> bool:
        return not self.hidden and (self.listed_for is None or role in self.listed_for)

    def allows_role(self, role: Role) -> bool:
        if role in self.roles:
            return True
        # An admin may do everything a consultant can.
        return role is Role.ADMIN and Role.CONSULTANT in self.roles

    def allows_room(self, kind: RoomKind) -> bool:
        return kind in self.rooms


USAGE_WORD = re.compile(r"@?[A-Za-z][A-Za-z0-9_:.-]*")


def localize_usage(text: str, word: Callable[[str], str | None]) -> str:
    """Each argument word through ``word`` (None keeps it): ``WHEN TEXT`` -> ``NÅR TEKST``."""
    return USAGE_WORD.sub(lambda m: word(m.group(0)) or m.group(0), text)


class CommandSet:
    """A feature's commands, declared with :meth:`command`."""

    def __init__(self) -> None:
        self.commands: list[Command] = []

    def command(
        self,
        name: str,
        *args: Arg,
        rooms: Iterable[RoomKind] = ANY_ROOM,
        roles: Iterable[Role] = EVERYONE,
        help: str = "",
        usage: str | None = None,
        hidden: bool = False,
        crisis_exempt: bool = False,
        listed_for: Iterable[Role] | None = None,
        late: bool = False,
        safety: bool = False,
        private: bool = False,
    ) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.commands.append(
                Command(
                    name=" ".join(name.lower().split()),
                    handler=fn,
                    args=tuple(args),
                    rooms=frozenset(rooms),
                    roles=frozenset(roles),
                    help=help,
                    usage=usage,
                    hidden=hidden,
                    crisis_exempt=crisis_exempt,
                    listed_for=frozenset(listed_for) if listed_for is not None else None,
                    late=late,
                    safety=safety,
                    private=private,
                )
            )
            return fn

        return register


_QUOTES = {'"': '"', "“": "”", "«": "»", "'": "'"}


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """Split into (token, start, end); a quoted run is one token without its quotes."""
    tokens: list[tuple[str, int, int]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start = i
        if text[i] in _QUOTES:
            close = _QUOTES[text[i]]
            j = text.find(close, i + 1)
            if j != -1:
                tokens.append((text[i + 1:j], start, j + 1))
                i = j + 1
                continue
        while i < n and not text[i].isspace():
            i += 1
        tokens.append((text[start:i], start, i))
    return tokens


MATRIX_ID = re.compile(r"^@[A-Za-z0-9._=\-/+]+:[A-Za-z0-9.\-]+(:\d+)?$")


def parse_args(command: Command, text: str) -> dict[str, Any]:
    """Parse ``text`` (what follows the command name) into handler keyword arguments."""
    tokens = tokenize(text)
    values: dict[str, Any] = {}
    pos = 0
    for arg in command.args:
        if arg.kind == "rest":
            if pos < len(tokens):
                raw = text[tokens[pos][1]:].strip()
                pos = len(tokens)
            else:
                raw = ""
            if not raw:
                if not arg.optional:
                    # A handler that parses the rest itself declares its parts in ``usage``.
                    raise UsageError("router.missing_arg", arg=command.usage or arg.shown)
                values[arg.name] = None
                continue
            if arg.max_len is not None and len(raw) > arg.max_len:
                raise UsageError("router.too_long", arg=arg.shown, max=arg.max_len, length=len(raw))
            values[arg.name] = raw
            continue
        if pos >= len(tokens):
            if not arg.optional:
                raise UsageError("router.missing_arg", arg=arg.shown)
            values[arg.name] = None
            continue
        token = tokens[pos][0]
        if arg.kind == "int":
            if not re.fullmatch(r"[+-]?\d{1,9}", token):
                if arg.optional:
                    values[arg.name] = None
                    continue
                raise UsageError("router.not_a_number", arg=arg.shown)
            number = int(token)
            if (arg.min is not None and number < arg.min) or (arg.max is not None and number > arg.max):
                raise UsageError("router.out_of_range", arg=arg.shown, min=arg.min, max=arg.max)
            values[arg.name] = number
        elif arg.kind == "choice":
            lowered = dict(arg.aliases).get(token.lower(), token.lower())
            if lowered not in arg.choices:
                if arg.optional:
                    values[arg.name] = None
                    continue
                raise UsageError("router.bad_choice", arg=arg.shown, choices=", ".join(arg.choices))
            values[arg.name] = lowered
        elif arg.kind == "user":
            if not MATRIX_ID.match(token):
                raise UsageError("router.not_a_user", arg=arg.shown)
            values[arg.name] = token
        else:
            if arg.max_len is not None and len(token) > arg.max_len:
                raise UsageError("router.too_long", arg=arg.shown, max=arg.max_len, length=len(token))
            values[arg.name] = token
        pos += 1
    if pos < len(tokens):
        raise UsageError("router.too_many")
    return values


@dataclass
class Match:
    command: Command | None
    rest: str
    typed: str  # the command words as typed (lower-case), for suggestions
    group: list[Command] = field(default_factory=list)  # "!goal" with only "goal add" etc.


class Router:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.by_name: dict[str, Command] = {}
        self._first_words: set[str] = set()  # "goal" for "goal add": recognises "! goal add"

    def add(self, commands: Iterable[Command]) -> None:
        for c in commands:
            if c.name in self.by_name:
                raise ValueError(f"command {c.name!r} declared twice")
            self.by_name[c.name] = c
            self._first_words.add(c.name.split()[0])

    @property
    def commands(self) -> list[Command]:
        """In the order they are declared (the order a person meets them), the late ones last."""
        return sorted(self.by_name.values(), key=lambda c: c.late)

    def is_command(self, body: str) -> bool:
        """``!help``; also ``! help`` (a space after the prefix, as phones sometimes insert) when
        the word after it is a command's, so that "! wow" stays an ordinary message."""
        if not body.startswith(self.prefix) or len(body) <= len(self.prefix):
            return False
        if not body[len(self.prefix)].isspace():
            return True
        words = body[len(self.prefix):].split(None, 1)
        return bool(words) and words[0].lower() in self._first_words

    def match(self, body: str) -> Match:
        text = body[len(self.prefix):].lstrip()
        tokens = tokenize(text)
        words = [t[0].lower() for t in tokens[:3]]
        for n in range(min(3, len(words)), 0, -1):
            name = " ".join(words[:n])
            cmd = self.by_name.get(name)
            if cmd is not None:
                rest = text[tokens[n - 1][2]:] if n <= len(tokens) else ""
                return Match(cmd, rest.strip(), name)
        typed = " ".join(words[:2])
        first = words[0] if words else ""
        group = [c for c in self.by_name.values() if c.name.split(" ")[0] == first]
        return Match(None, "", typed, group=group)

    def suggest(self, typed: str, allowed: Iterable[Command]) -> str | None:
        names = [c.name for c in allowed]
        first = typed.split(" ")[0]
        for candidate in (typed, first):
            close = difflib.get_close_matches(candidate, names, n=1, cutoff=0.6)
            if close:
                return close[0]
        return None

    def visible_to(self, role: Role, room_kind: RoomKind) -> list[Command]:
        """What ``!help`` lists for ``role`` in a room of ``room_kind``."""
        return [c for c in self.commands if c.listed_to(role) and c.allows_role(role) and c.allows_room(room_kind)]

    def usable_by(self, role: Role, room_kind: RoomKind) -> list[Command]:
        """Every command ``role`` may run there, listed or not (for suggestions and ``!help X``)."""
        return [c for c in self.commands if not c.hidden and c.allows_role(role) and c.allows_room(room_kind)]


def shown_usage(ctx: Context, cmd: Command) -> str:
    """The command's usage line with its argument words in the reader's language."""
    return cmd.usage_line(ctx.prefix, ctx.speaker.usage_word(ctx.lang))


def summary_line(ctx: Context, cmd: Command) -> str:
    return f"- `{shown_usage(ctx, cmd)}` — {ctx.t(cmd.help)}"


def argument_lines(ctx: Context, cmd: Command) -> list[str]:
    """What each argument word of the command's usage means, in words, one list line each
    (``- `SCORE` — how you feel, from 1 (very low) to 10 (very good)``)."""
    words = ctx.speaker.usage_word(ctx.lang)
    canonical = cmd.usage if cmd.usage is not None else " ".join(a.shown for a in cmd.args)
    lines = []
    for token in dict.fromkeys(USAGE_WORD.findall(canonical)):
        key = f"core.arg_about.{token}"
        if ctx.speaker.catalogue.has(key):
            lines.append(f"- `{words(token) or token}` — {ctx.t(key)}")
    return lines


def example_of(ctx: Context, cmd: Command) -> str | None:
    """The command's example from the catalogue (``!mood 6 slept better``), if it has one."""
    key = cmd.help.replace(".help.", ".example.")
    return ctx.t(key) if cmd.help and ctx.speaker.catalogue.has(key) else None


def usage_error_text(ctx: Context, cmd: Command, err: UsageError) -> Markdown:
    """One message for arguments that do not fit: what was wrong, the right usage, what each
    argument word means, and an example (a newcomer got two messages and words like ``SCORE``
    or ``[AREA:]`` with no explanation)."""
    params = dict(err.params)
    if isinstance(params.get("arg"), str):
        arg = localize_usage(params["arg"], ctx.speaker.usage_word(ctx.lang))
        # ``[IMPORTANCE]`` names one optional word: the brackets say nothing about what is wrong.
        if re.fullmatch(r"\[[^\[\] ]+\]", arg):
            arg = arg[1:-1]
        params["arg"] = arg
    parts = [ctx.t(err.reason, **params), ctx.t("router.usage", usage=shown_usage(ctx, cmd), help=ctx.t(cmd.help))]
    arguments = argument_lines(ctx, cmd)
    if arguments:
        parts.append(ctx.t("router.usage_words", lines=Markdown("\n".join(arguments))))
    example = example_of(ctx, cmd)
    if example is not None:
        parts.append(ctx.t("router.usage_example", example=example))
    return Markdown("\n\n".join(parts))


async def dispatch_command(router: Router, ctx: Context, limiter: CommandLimiter | None = None) -> str | None:
    """Run the command in ``ctx.event``; returns the command name (for metrics) or None.

    With a ``limiter``, a person's commands over their rate get one "slow down" and are then
    dropped; staff and safety commands are never held back."""
    from bot.errors import DomainError

    m = router.match(ctx.event.body.strip())
    cmd = m.command
    if limiter is not None and ctx.role not in STAFF and not (cmd is not None and cmd.safety):
        verdict = limiter.take(ctx.sender)
        if verdict is not Verdict.RUN:
            metrics.COMMANDS_LIMITED.inc()
            if verdict is Verdict.WARN:
                ctx.reply("router.slow_down")
            return None
    if cmd is None:
        allowed = router.usable_by(ctx.role, ctx.room_kind)
        usable_group = [c for c in m.group if c in allowed]
        if usable_group:
            lines = Markdown("\n".join(summary_line(ctx, c) for c in usable_group))
            ctx.reply("router.group_usage", commands=lines)
            return None
        suggestion = router.suggest(m.typed, allowed)
        if suggestion:
            ctx.reply("router.unknown_suggest", suggestion=f"{router.prefix}{suggestion}")
        else:
            ctx.reply("router.unknown")
        return None
    if cmd.discreet and ctx.room_kind in SHARED_ROOMS and not await _go_private(ctx, cmd.name):
        return cmd.name
    if not cmd.allows_role(ctx.role):
        ctx.reply("router.not_your_role", command=f"{router.prefix}{cmd.name}")
        return cmd.name
    if not cmd.allows_room(ctx.room_kind):
        places = sorted(ctx.t(f"room_kind.{k.value}") for k in cmd.rooms)
        where = places[0] if len(places) == 1 else ", ".join(places[:-1]) + f" {ctx.t('router.or')} " + places[-1]
        ctx.reply("router.wrong_room", command=f"{router.prefix}{cmd.name}", where=where)
        return cmd.name
    try:
        kwargs = parse_args(cmd, m.rest)
    except UsageError as err:
        ctx.reply_text(usage_error_text(ctx, cmd, err))
        return cmd.name
    try:
        await cmd.handler(ctx, **kwargs)
    except DomainError as err:
        ctx.session.rollback()
        ctx.sent.clear()
        ctx.reply(err.key, **err.params)
    return cmd.name


async def _go_private(ctx: Context, name: str) -> bool:
    """Remove a discreet command from the shared room before anything else happens (the redacted
    event still names its sender, so nothing may answer it there), and turn every reply, refusals
    included, to the sender's private room: their toolbox, or the consultant room for staff. The
    answer there starts by saying why it came there (the shared room shows only a removed message).
    False when the sender has no private room: then the shared room gets one neutral line."""
    from bot.port import PortError
    from bot.roomdir import find_room, toolbox_room_of

    try:
        await ctx.port.redact(ctx.room_id, ctx.event.event_id)
    except PortError:
        log.warning("could not remove command %s from %s", ctx.event.event_id, ctx.room_id)
    private = toolbox_room_of(ctx.session, ctx.sender)
    if private is None and ctx.role in STAFF:
        consultants = find_room(ctx.session, RoomKind.CONSULTANT)
        private = consultants.room_id if consultants is not None else None
    if private is None:
        ctx.send_text(ctx.room_id, ctx.t("router.private_only"), thread_root=ctx.event.thread_root)
        return False
    ctx.private_room = private
    ctx.private_note = ctx.t("router.answered_here", command=f"{ctx.prefix}{name}",
                             where=ctx.t(f"room_kind.{ctx.room_kind.value}"))
    return True
