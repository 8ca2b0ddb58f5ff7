"""The `reconnect` command: run, demo, db upgrade."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import secrets
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from bot.config import ConfigError, Settings, load_config

if TYPE_CHECKING:
    from bot.localsynapse import LocalSynapse

log = logging.getLogger("reconnect")


def setup_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # nio logs event contents at debug level and noisy warnings about unverified devices.
    logging.getLogger("nio").setLevel(logging.ERROR)
    logging.getLogger("peewee").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


async def run_bot(settings: Settings, *, stop_event: asyncio.Event | None = None) -> int:
    from bot.app import App
    from bot.http import serve_http
    from bot.matrix import StartupError

    try:
        app = App(settings)  # loads the feature modules
    except StartupError as exc:
        print(f"reconnect: cannot start: {exc}", file=sys.stderr)
        return 3
    stop_event = stop_event or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_event.set)
    try:
        await app.start()
    except StartupError as exc:
        print(f"reconnect: cannot start: {exc}", file=sys.stderr)
        await app.stop()
        return 3
    runner = await serve_http(app) if settings.http.enabled else None
    try:
        await stop_event.wait()
    finally:
        log.info("stopping")
        if runner is not None:
            await runner.cleanup()
        await app.stop()
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    settings = _load(args.config)
    setup_logging(settings.log_level)
    return asyncio.run(run_bot(settings))


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from bot.contentkey import KeyFileError, crypto_store_has_data, load_content_key
    from bot.db import Database, FieldCipher, SealError, create_private_sqlite_file, database_has_sealed_rows, install_cipher
    from bot.features import load_features
    from bot.migrate import upgrade

    settings = _load(args.config)
    setup_logging(settings.log_level)
    storage = settings.storage
    storage.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    create_private_sqlite_file(storage.resolved_database_url())
    db = Database(storage.resolved_database_url())
    try:
        key = load_content_key(storage, lambda: crypto_store_has_data(storage) or database_has_sealed_rows(db.engine))
        install_cipher(FieldCipher(key))
        upgrade(db.engine, load_features())
    except (KeyFileError, SealError) as exc:
        print(f"reconnect: {exc}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    print("database is up to date")
    return 0


DEMO_ACCOUNTS = {
    "bot": "reconnect",
    "consultant": "demo-consultant",
    "participant1": "demo-anna",
    "participant2": "demo-ben",
    "provider": "demo-provider",
}


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.localsynapse import LocalSynapse

    data = Path(args.data).resolve()
    data.mkdir(parents=True, exist_ok=True, mode=0o700)
    setup_logging("INFO")
    synapse = LocalSynapse(data / "synapse", port=args.port)
    print(f"Starting a local Synapse homeserver in {synapse.data_dir} ...", flush=True)
    synapse.start()
    key_file, legacy_key = data / "secrets" / "content.key", data / "bot" / "content.key"
    if legacy_key.exists() and not key_file.exists():  # a demo folder from before the key left data_dir
        key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        legacy_key.rename(key_file)
    try:
        accounts = _demo_accounts(data, synapse)
        config_path = data / "bot-config.yaml"
        config = {
            "homeserver": {"url": synapse.url},
            "bot": {"user_id": accounts["bot"]["user_id"], "password": accounts["bot"]["password"],
                    "device_name": "ReConnect demo"},
            "storage": {"data_dir": str(data / "bot"), "encryption_key_file": str(key_file)},
            "people": {"consultants": [accounts["consultant"]["user_id"]]},
            "communities": [{"name": "North", "timezone": "Europe/Oslo",
                             "links": [{"title": "Mental Helse", "url": "https://mentalhelse.no"}]},
                            {"name": "South", "timezone": "Europe/Oslo"}],
            "http": {"enabled": True, "host": "127.0.0.1", "port": _http_port(args.http_port)},
        }
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        os.chmod(config_path, 0o600)
        settings = load_config(config_path)
        _print_demo_help(synapse.url, accounts, settings)
        return asyncio.run(run_bot(settings))
    except ConfigError as exc:
        print(f"reconnect: {exc}", file=sys.stderr)
        return 2
    finally:
        print("Stopping the homeserver ...", flush=True)
        synapse.stop()


def _http_port(wanted: int) -> int:
    """``wanted`` if it is free on loopback, else any free port (said on the console)."""
    import socket

    from bot.localsynapse import free_port

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", wanted))
            return wanted
        except OSError:
            pass
    port = free_port()
    print(f"Port {wanted} is taken; /healthz and /metrics use port {port} instead.", flush=True)
    return port


def _demo_accounts(data: Path, synapse: LocalSynapse) -> dict[str, dict[str, str]]:
    path = data / "accounts.json"
    accounts = json.loads(path.read_text()) if path.exists() else {}
    for role, localpart in DEMO_ACCOUNTS.items():
        entry = accounts.get(role) or {"password": secrets.token_urlsafe(12)}
        entry["user_id"] = synapse.register(localpart, entry["password"])
        accounts[role] = entry
    path.write_text(json.dumps(accounts, indent=2))
    os.chmod(path, 0o600)
    return accounts


def _print_demo_help(url: str, accounts: dict[str, dict[str, str]], settings: Settings) -> None:
    p = settings.bot.command_prefix
    lines = [
        "",
        "ReConnect demo is starting.",
        f"  Homeserver: {url}   (loopback only)",
        "  Accounts (log in with any Matrix client, e.g. Element Desktop: 'Edit' the homeserver to the URL above):",
    ]
    for role, acc in accounts.items():
        lines.append(f"    {role:13} {acc['user_id']:32} password: {acc['password']}")
    lines += [
        "",
        f"  Try: log in as a participant, start a direct chat with {accounts['bot']['user_id']},",
        f"  turn on encryption (default in Element) and send {p}help, then {p}start.",
        f"  The consultant approves with {p}approve PSEUDONYM in the consultant room.",
        "  Press Ctrl-C to stop the bot and the homeserver. A second run reuses the same data.",
        "",
    ]
    print("\n".join(lines), flush=True)


def _load(path: str) -> Settings:
    try:
        return load_config(path)
    except ConfigError as exc:
        print(f"reconnect: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reconnect", description="ReConnect peer-support bot for Matrix")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the bot against a homeserver")
    run.add_argument("-c", "--config", default=os.environ.get("RECONNECT_CONFIG", "config.yaml"))
    run.set_defaults(func=cmd_run)
    demo = sub.add_parser("demo", help="start a local homeserver with demo accounts and run the bot")
    demo.add_argument("--data", default="demo-data", help="folder for the homeserver's and the bot's data")
    demo.add_argument("--port", type=int, default=None, help="homeserver port (default: a free one, kept)")
    demo.add_argument("--http-port", type=int, default=9108, help="port of /healthz and /metrics")
    demo.set_defaults(func=cmd_demo)
    db = sub.add_parser("db", help="database tasks")
    dbsub = db.add_subparsers(dest="db_command", required=True)
    up = dbsub.add_parser("upgrade", help="apply migrations")
    up.add_argument("-c", "--config", default=os.environ.get("RECONNECT_CONFIG", "config.yaml"))
    up.set_defaults(func=cmd_db_upgrade)
    args = parser.parse_args(argv)
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
