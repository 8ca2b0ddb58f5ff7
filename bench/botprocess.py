"""Bots as child processes: ReConnect through its own command line (``python -m bot.cli run``)
and the bare echo bot. Each writes its log to a file, is stopped by its pid, and can be killed
with SIGKILL for crash tests."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

READY = "ReConnect is running as"


class ChildProcess:
    def __init__(self, args: list[str], log_path: Path, ready_marker: str, *, cwd: Path | None = None,
                 spans: Path | None = None) -> None:
        if spans is not None:  # timing spans around each stage (bench/spans.py), written at exit
            args = [args[0], "-m", "bench.spans", *args[2:]]
        self.args = args
        self.log_path = log_path
        self.ready_marker = ready_marker
        self.cwd = cwd or Path(__file__).resolve().parent.parent
        self.spans = spans
        self.process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def start(self, timeout: float = 120) -> None:
        """Start and wait until the process says it is ready (in the part of the log it wrote
        since this start)."""
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = open(self.log_path, "ab")
        # RECONNECT_* variables override the bot's config (and unknown ones stop it): the child
        # is configured by its YAML file alone.
        env = {k: v for k, v in os.environ.items() if not k.startswith("RECONNECT_") and k != "BENCH_SPANS"}
        if self.spans is not None:
            env["BENCH_SPANS"] = str(self.spans)
        self.process = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                        cwd=self.cwd, env=env)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.args[2]} exited with {self.process.returncode}:\n{self.log_text()[-3000:]}")
            if self.ready_marker in self.log_text()[self._log_offset:]:
                return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"{self.args[2]} was not ready within {timeout:.0f} s:\n{self.log_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no clean-up, as in a crash or an out-of-memory kill."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None


class BotProcess(ChildProcess):
    """ReConnect as its operators run it: a YAML config file and ``bot.cli run``."""

    def __init__(self, config: dict[str, Any], data_dir: Path, *, cwd: Path | None = None,
                 spans: Path | None = None) -> None:
        """``cwd``: run the bot's code from another checkout (a before/after comparison)."""
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.config = config
        self.config_path = data_dir / "config.yaml"
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        os.chmod(self.config_path, 0o600)
        super().__init__([sys.executable, "-m", "bot.cli", "run", "-c", str(self.config_path)],
                         data_dir / "bot.log", READY, cwd=cwd, spans=spans)

    @property
    def user_id(self) -> str:
        return self.config["bot"]["user_id"]


class EchoProcess(ChildProcess):
    def __init__(self, homeserver: str, user_id: str, password: str, data_dir: Path, *,
                 spans: Path | None = None) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.user_id = user_id
        super().__init__([sys.executable, "-m", "bench.echo_bot", "--homeserver", homeserver, "--user", user_id,
                          "--password", password, "--store", str(data_dir / "store")],
                         data_dir / "echo.log", "echo bot running", spans=spans)


# One client sends its commands back to back here, far faster than a person could: the
# per-person command limit is raised (still in the path, so its cost is measured).
LOAD_TEST_COMMAND_RATE: dict[str, Any] = {"burst": 1000, "per_minute": 6000}


def bot_config(homeserver: str, user_id: str, password: str, data_dir: Path, *, consultants: tuple[str, ...] = (),
               admins: tuple[str, ...] = (), database_url: str | None = None, log_level: str = "INFO",
               http_port: int | None = None, **overrides: Any) -> dict[str, Any]:
    """A config like the integration harness's, for a bot run as a child process."""
    storage: dict[str, Any] = {"data_dir": str(data_dir)}
    if database_url:
        storage["database_url"] = database_url
    config: dict[str, Any] = {
        "homeserver": {"url": homeserver},
        "bot": {"user_id": user_id, "password": password, "command_rate": dict(LOAD_TEST_COMMAND_RATE)},
        "storage": storage,
        "people": {"consultants": list(consultants), "admins": list(admins)},
        "communities": [{"name": "North"}, {"name": "South"}],
        "http": {"enabled": http_port is not None, "host": "127.0.0.1", "port": http_port or 0},
        "log_level": log_level,
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    return config
