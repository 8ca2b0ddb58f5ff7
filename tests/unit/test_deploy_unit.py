"""The example systemd unit (issue 11): the usual hardening, and the watchdog the bot pings."""

from __future__ import annotations

from pathlib import Path

UNIT = Path(__file__).resolve().parents[2] / "deploy" / "reconnect.service"


def directives() -> dict[str, str]:
    found: dict[str, str] = {}
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, value = line.split("=", 1)
            found[key.strip()] = value.strip()
    return found


def test_the_unit_is_hardened() -> None:
    d = directives()
    assert d["ProtectSystem"] == "strict" and d["PrivateTmp"] == "true" and d["NoNewPrivileges"] == "true"
    assert d["CapabilityBoundingSet"] == ""  # no capabilities at all
    assert set(d["RestrictAddressFamilies"].split()) == {"AF_UNIX", "AF_INET", "AF_INET6"}
    assert d["SystemCallFilter"] == "@system-service"
    assert d["ReadWritePaths"] == "/srv/reconnect/data"


def test_the_unit_has_the_watchdog_the_sync_loop_pings() -> None:
    d = directives()
    assert d["Type"] == "notify"
    # Longer than one turn of the sync loop: a 30 s long poll plus up to 30 s of back-off.
    assert int(d["WatchdogSec"]) >= 90
