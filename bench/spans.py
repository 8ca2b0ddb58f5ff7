"""Timing spans around each stage of a bot's command, for profiling reply latency.

Runs a module (``bot.cli`` or ``bench.echo_bot``) with its coroutines of interest wrapped: each
call's start and end (monotonic seconds) are appended to the file named by ``BENCH_SPANS`` when
the process ends. ``bench.latency --spans`` runs both bots this way and prints where the time
between "the sync carrying the command arrived" and "the reply's PUT went out" goes.

    BENCH_SPANS=/tmp/spans.json python -m bench.spans bot.cli run -c config.yaml

Stages: ``http.sync`` (the long poll, up to the response's headers and body), ``nio.handle_sync``
(nio's parsing, decryption and store), ``keys.after_sync``, ``dispatch.handle_event`` (the
command's transaction), ``sync.save_token``, ``outbox.send_wave`` / ``outbox.load`` /
``outbox.send_one``, ``http.room_send`` (the reply's PUT), ``outbox.record_sent``.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import runpy
import sys
import time
from typing import Any, Callable

SPANS: list[tuple[str, float, float]] = []
# Every HTTP request nio made: (method, path with ids and the query left out, start, end).
REQUESTS: list[tuple[str, str, float, float]] = []


def request_kind(method: str, path: str) -> str:
    """``PUT /rooms/{id}/send/m.room.message/{txn}``-like: the request without ids or query."""
    path = path.split("?", 1)[0]
    for marker in ("/_matrix/client/v3", "/_matrix/client/r0", "/_matrix/client/unstable", "/_matrix/client"):
        if path.startswith(marker):
            path = path[len(marker):]
            break
    parts = path.split("/")
    out = []
    for i, part in enumerate(parts):
        prev = parts[i - 1] if i else ""
        if prev in ("rooms", "sendToDevice", "receipt") or (prev and prev.startswith("m.") and i == len(parts) - 1) \
                or part.startswith(("%21", "%40", "%24", "!", "@", "$")) or (prev == "send" and i == len(parts) - 1):
            out.append("{}")
        else:
            out.append(part)
    return f"{method} {'/'.join(out)}"


def _wrap(owner: Any, attr: str, name: str) -> None:
    original = getattr(owner, attr)

    @functools.wraps(original)
    async def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.monotonic()
        try:
            return await original(*args, **kwargs)
        finally:
            SPANS.append((name, t0, time.monotonic()))

    setattr(owner, attr, timed)


def _wrap_send(owner: Any) -> None:
    """nio's ``AsyncClient.send`` is every HTTP request; named by the path's kind."""
    original = owner.send

    @functools.wraps(original)
    async def timed(self: Any, method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        kind = "sync" if "/sync" in path else "room_send" if "/send/" in path else "other"
        t0 = time.monotonic()
        try:
            return await original(self, method, path, *args, **kwargs)
        finally:
            t1 = time.monotonic()
            SPANS.append((f"http.{kind}", t0, t1))
            REQUESTS.append((method, request_kind(method, path), t0, t1))

    owner.send = timed


def install() -> None:
    from nio import AsyncClient

    _wrap_send(AsyncClient)
    _wrap(AsyncClient, "_handle_sync", "nio.handle_sync")
    _wrap(AsyncClient, "receive_response", "nio.receive_response")
    try:
        from bot.dispatch import Dispatcher
        from bot.keys import KeyWork
        from bot.roomstate import RoomState
        from bot.sender import Sender
        from bot.sync import Syncer
    except ImportError:  # the echo bot: nio only
        return
    _wrap(KeyWork, "after_sync", "keys.after_sync")
    _wrap(KeyWork, "prepare_room", "keys.prepare_room")
    _wrap(RoomState, "refusal", "rooms.refusal")
    _wrap(Dispatcher, "handle_event", "dispatch.handle_event")
    _wrap(Syncer, "_hand_on", "sync.hand_on")
    _wrap(Sender, "send_wave", "outbox.send_wave")
    _wrap(Sender, "load", "outbox.load")
    _wrap(Sender, "send_one", "outbox.send_one")
    _wrap(Sender, "record_sent", "outbox.record_sent")


def _dump() -> None:
    path = os.environ.get("BENCH_SPANS")
    if path:
        with open(path, "w") as f:
            json.dump(SPANS, f)
        with open(path + ".requests", "w") as f:
            json.dump(REQUESTS, f)


def main() -> None:
    module = sys.argv[1]
    sys.argv = [module, *sys.argv[2:]]
    install()
    atexit.register(_dump)
    import signal

    # SIGTERM ends the bots through their own handlers; make sure the spans are written even
    # when a handler calls sys.exit or the loop is torn down.
    previous: Callable[..., Any] | int | None = signal.getsignal(signal.SIGTERM)
    if previous in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
