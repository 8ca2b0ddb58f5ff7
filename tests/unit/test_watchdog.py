"""The watchdog (issue 11, finding 1): a blocked event loop is measured, logged (without any
text) and shown on /healthz; systemd hears READY=1 and, from the sync loop, WATCHDOG=1."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from pathlib import Path

import pytest

from bot.app import App
from bot.watchdog import LoopLag, sd_notify
from tests.support.core import test_settings
from tests.unit.test_sync import FakeClient, sync_response, syncer_for


async def test_a_blocked_event_loop_is_measured_logged_and_shown(caplog) -> None:
    lag = LoopLag(interval=0.05)
    stopping = asyncio.Event()
    task = asyncio.create_task(lag.run(stopping))
    await asyncio.sleep(0.15)
    assert lag.stalls == 0 and lag.health()["stalled_recently"] is False
    with caplog.at_level(logging.WARNING, logger="bot.watchdog"):
        time.sleep(1.3)  # what a quadratic regex did to the loop, for a moment
        await asyncio.sleep(0.2)
    stopping.set()
    await task
    health = lag.health()
    assert lag.stalls == 1 and health["stalled_recently"] is True
    assert 1.2 <= health["worst_stall_seconds"] < 5 and health["last_stall_seconds_ago"] < 5
    assert any("event loop was blocked for 1." in r.getMessage() for r in caplog.records)


def test_short_lags_are_not_stalls_and_old_stalls_are_not_recent() -> None:
    lag = LoopLag()
    lag.note(0.4)
    assert lag.stalls == 0 and lag.health()["lag_seconds"] == 0.4
    lag.note(2.5, now=1000.0)
    assert lag.health(now=1010.0)["stalled_recently"] is True
    assert lag.health(now=1000.0 + 3600)["stalled_recently"] is False


def test_healthz_shows_the_event_loop() -> None:
    app = App(test_settings(), features=[])
    app.loop_lag.note(1.7)
    health = app.health()
    assert health["event_loop"]["stalls"] == 1 and health["event_loop"]["stalled_recently"] is True
    assert health["event_loop"]["worst_stall_seconds"] == 1.7


@pytest.fixture
def notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "notify"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(2)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield server
    server.close()


def test_sd_notify_sends_one_datagram(notify_socket) -> None:
    assert sd_notify("READY=1")
    assert notify_socket.recv(100) == b"READY=1"


def test_sd_notify_without_systemd_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert sd_notify("READY=1") is False


async def test_the_sync_loop_pings_the_watchdog(db, notify_socket) -> None:
    client = FakeClient([sync_response("s1"), sync_response("s2")])
    syncer, _ = syncer_for(db, client)
    stopping = asyncio.Event()
    sync_once = syncer.sync_once

    async def once(first: bool = False) -> bool:
        ok = await sync_once(first)
        if not client.responses:
            stopping.set()
        return ok

    syncer.sync_once = once  # type: ignore[method-assign]
    await asyncio.wait_for(syncer.run(stopping), 10)
    assert [notify_socket.recv(100), notify_socket.recv(100)] == [b"WATCHDOG=1", b"WATCHDOG=1"]
