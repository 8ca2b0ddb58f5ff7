"""Is the bot alive and responsive? Event-loop lag, measured by a small periodic task, and the
systemd notification protocol (``READY=1`` at start, ``WATCHDOG=1`` from the sync loop).

A blocked event loop answers nobody: no replies, no /healthz, not even SIGTERM. Every piece of
slow work goes to a worker thread; this is how we notice when something still does not. A lag
over ``STALL_S`` is logged (what and how long, never a body), counted in a metric and shown on
/healthz. systemd's ``WatchdogSec=`` restarts a bot whose sync loop stops pinging.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from typing import Any

from prometheus_client import Counter, Gauge

from bot.metrics import REGISTRY

log = logging.getLogger(__name__)

STALL_S = 1.0  # a loop lag longer than this is a stall: logged and shown on /healthz
INTERVAL_S = 0.25  # how often the lag is measured
RECENT_S = 15 * 60  # how long a stall is shown on /healthz as recent

LOOP_LAG = Gauge("reconnect_event_loop_lag_seconds", "The last measured event-loop lag", registry=REGISTRY)
LOOP_STALLS = Counter("reconnect_event_loop_stalls_total", "Event-loop lags over one second", registry=REGISTRY)


class LoopLag:
    """Sleeps ``interval`` seconds at a time and measures how late it wakes: the time something
    else held the event loop."""

    def __init__(self, interval: float = INTERVAL_S, stall: float = STALL_S) -> None:
        self.interval = interval
        self.stall = stall
        self.last_lag = 0.0
        self.worst_lag = 0.0  # the longest stall seen (0 while there has been none)
        self.stalls = 0
        self.last_stall_at: float | None = None  # time.time() of the last stall's end

    def note(self, lag: float, now: float | None = None) -> None:
        """One measurement (seconds late)."""
        self.last_lag = max(0.0, lag)
        LOOP_LAG.set(self.last_lag)
        if lag > self.stall:
            self.stalls += 1
            self.worst_lag = max(self.worst_lag, lag)
            self.last_stall_at = time.time() if now is None else now
            LOOP_STALLS.inc()
            log.warning("the event loop was blocked for %.1f s (stall %d since start)", lag, self.stalls)

    async def run(self, stopping: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while not stopping.is_set():
            before = loop.time()
            await asyncio.sleep(self.interval)
            self.note(loop.time() - before - self.interval)

    def health(self, now: float | None = None) -> dict[str, Any]:
        """The /healthz part: the last lag, and whether and when the loop last stalled."""
        now = time.time() if now is None else now
        ago = None if self.last_stall_at is None else round(now - self.last_stall_at, 1)
        return {
            "lag_seconds": round(self.last_lag, 3),
            "stalls": self.stalls,
            "worst_stall_seconds": round(self.worst_lag, 1),
            "last_stall_seconds_ago": ago,
            "stalled_recently": ago is not None and ago < RECENT_S,
        }


def sd_notify(message: str) -> bool:
    """Send ``message`` (``READY=1``, ``WATCHDOG=1``, ``STOPPING=1``) to systemd when it runs us
    with ``Type=notify`` (``NOTIFY_SOCKET`` set); False when not, or when it cannot be reached.
    The protocol is one datagram on a Unix socket; ``@`` names an abstract socket."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
    except OSError as exc:
        log.warning("could not notify systemd (%s)", type(exc).__name__)
        return False
    return True
