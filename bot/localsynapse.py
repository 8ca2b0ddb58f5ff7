"""A local Synapse homeserver for `reconnect demo` and the integration tests.

SQLite, loopback only, a data folder of its own, rate limits raised, shared-secret
registration. Stopped by its pid.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger(__name__)

_RATE = {"per_second": 1000, "burst_count": 10000}
RATE_LIMITS = {
    "rc_message": _RATE,
    "rc_registration": _RATE,
    "rc_registration_token_validity": _RATE,
    "rc_login": {"address": _RATE, "account": _RATE, "failed_attempts": _RATE},
    "rc_admin_redaction": _RATE,
    "rc_joins": {"local": _RATE, "remote": _RATE},
    "rc_joins_per_room": _RATE,
    "rc_invites": {"per_room": _RATE, "per_user": _RATE, "per_issuer": _RATE},
    "rc_3pid_validation": _RATE,
    "rc_key_requests": _RATE,
    "rc_room_creation": _RATE,
    "rc_reports": _RATE,
    "rc_delayed_event_mgmt": _RATE,
    "rc_presence": {"per_user": _RATE},
    "rc_media_create": _RATE,
    "rc_federation": {"window_size": 1000, "sleep_limit": 1000, "sleep_delay": 1, "reject_limit": 1000,
                      "concurrent": 100},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LocalSynapse:
    def __init__(self, data_dir: Path, *, server_name: str = "localhost", port: int | None = None,
                 database: dict[str, Any] | None = None, fast_passwords: bool = False) -> None:
        """``fast_passwords``: the cheapest bcrypt cost (tests and benchmarks register hundreds of
        throwaway accounts; Synapse's default cost makes each registration and login take ~0.25 s
        of CPU). Never for a homeserver that keeps real accounts."""
        self.data_dir = Path(data_dir).resolve()
        self.server_name = server_name
        self.config_path = self.data_dir / "homeserver.yaml"
        self.port = port
        self.database = database
        self.fast_passwords = fast_passwords
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def prepare(self) -> None:
        """Generate the config once; later runs reuse it (and its port, unless one was given)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.config_path.exists():
            subprocess.run(
                [sys.executable, "-m", "synapse.app.homeserver", "--server-name", self.server_name,
                 "--config-path", str(self.config_path), "--data-directory", str(self.data_dir),
                 "--generate-config", "--report-stats=no"],
                check=True, cwd=self.data_dir, stdout=subprocess.DEVNULL,
            )
        config = yaml.safe_load(self.config_path.read_text())
        if self.port is None:
            listeners = config.get("listeners") or []
            existing = listeners[0].get("port") if listeners and config.get("_reconnect_local") else None
            self.port = existing or free_port()
        config.update(
            {
                "_reconnect_local": True,
                "listeners": [{"port": self.port, "bind_addresses": ["127.0.0.1"], "type": "http", "tls": False,
                               "x_forwarded": False, "resources": [{"names": ["client"], "compress": False}]}],
                "trusted_key_servers": [],
                "suppress_key_server_warning": True,
                "report_stats": False,
                "enable_registration": False,
                "registration_shared_secret": config.get("registration_shared_secret") or secrets.token_hex(32),
                "media_store_path": str(self.data_dir / "media_store"),
                "presence": {"enabled": False},
                "url_preview_enabled": False,
                "federation_domain_whitelist": [],
                "max_upload_size": "20M",
                **RATE_LIMITS,
            }
        )
        if self.fast_passwords:
            config["bcrypt_rounds"] = 4
        else:
            config.pop("bcrypt_rounds", None)
        config["database"] = self.database or {"name": "sqlite3", "args": {"database": str(self.data_dir / "homeserver.db")}}
        log_config = self.data_dir / "log.config"
        log_config.write_text(
            "version: 1\nformatters:\n  f:\n    format: '%(asctime)s %(levelname)s %(name)s %(message)s'\n"
            "handlers:\n  file:\n    class: logging.FileHandler\n    formatter: f\n"
            f"    filename: {self.data_dir / 'homeserver.log'}\n"
            "root:\n  level: WARNING\n  handlers: [file]\ndisable_existing_loggers: false\n"
        )
        config["log_config"] = str(log_config)
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False) + "\n")

    @property
    def shared_secret(self) -> str:
        secret: str = yaml.safe_load(self.config_path.read_text())["registration_shared_secret"]
        return secret

    def start(self, timeout: float = 90.0) -> None:
        self.prepare()
        out = open(self.data_dir / "stdout.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "-c", str(self.config_path)],
            cwd=self.data_dir, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
        (self.data_dir / "synapse.pid").write_text(str(self.process.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Synapse exited at start; see {self.data_dir / 'homeserver.log'}")
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"Synapse did not answer on {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def register(self, localpart: str, password: str, *, admin: bool = False) -> str:
        """Register with the shared secret; an existing account is reused as it is."""
        base = f"{self.url}/_synapse/admin/v1/register"
        with urllib.request.urlopen(base, timeout=10) as r:
            nonce = json.load(r)["nonce"]
        mac = registration_mac(self.shared_secret, nonce, localpart, password, admin)
        body = json.dumps({"nonce": nonce, "username": localpart, "password": password, "admin": admin,
                           "mac": mac}).encode()
        req = urllib.request.Request(base, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                user_id: str = json.load(r)["user_id"]
                return user_id
        except urllib.error.HTTPError as err:
            detail = json.loads(err.read() or b"{}")
            if detail.get("errcode") == "M_USER_IN_USE":
                return f"@{localpart}:{self.server_name}"
            raise RuntimeError(f"registering {localpart} failed: {detail.get('error', err)}") from None


def registration_mac(secret: str, nonce: str, localpart: str, password: str, admin: bool) -> str:
    """HMAC-SHA1 over the fields joined by NUL bytes, as Synapse's admin register API expects."""
    message = b"\x00".join(p.encode() for p in (nonce, localpart, password, "admin" if admin else "notadmin"))
    return hmac.new(secret.encode(), message, hashlib.sha1).hexdigest()
