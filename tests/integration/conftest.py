"""Integration harness: a real Synapse per test session, the bot in-process, real encrypted clients.

Fixtures
- ``synapse``: the running homeserver (``.url``, ``.register(localpart, password)``).
- ``staff``: ids and passwords of the configured consultant and admin.
- ``bot``: one shared running bot (communities North and South; the staff above in config).
- ``consultant``: a logged-in MatrixUser for the configured consultant (session-wide).
- ``make_user(name)``: a new registered, logged-in MatrixUser (closed after the test).
- ``start_bot(**config)``: an isolated bot of its own (own account, data folder, database),
  with ``restart()``; stopped after the test.
"""

from __future__ import annotations

import copy
import secrets
import uuid
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio

from bench.botprocess import LOAD_TEST_COMMAND_RATE
from bot.app import App
from bot.config import Settings
from bot.localsynapse import LocalSynapse
from tests.integration.matrix_user import MatrixUser


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="session")
def synapse(tmp_path_factory) -> LocalSynapse:
    server = LocalSynapse(tmp_path_factory.mktemp("synapse"), fast_passwords=True)
    server.start()
    yield server
    server.stop()


def register_staff(synapse: LocalSynapse) -> dict[str, dict[str, str]]:
    """A consultant and an admin account on ``synapse``, with their passwords."""
    people = {}
    for role in ("consultant", "admin"):
        password = secrets.token_urlsafe(10)
        people[role] = {"user_id": synapse.register(unique(role), password), "password": password}
    return people


@pytest.fixture(scope="session")
def staff(synapse) -> dict[str, dict[str, str]]:
    return register_staff(synapse)


class BotHandle:
    """A bot with its own account and data folder, which can be stopped and started again."""

    def __init__(self, synapse: LocalSynapse, data_dir: Path, config: dict[str, Any]) -> None:
        self.synapse = synapse
        self.data_dir = data_dir
        self.config = config
        self.app: App | None = None

    @property
    def user_id(self) -> str:
        return self.config["bot"]["user_id"]

    @property
    def settings(self) -> Settings:
        return Settings.model_validate(copy.deepcopy(self.config))

    async def start(self) -> App:
        self.app = App(self.settings)
        await self.app.start()
        return self.app

    async def stop(self) -> None:
        if self.app is not None:
            await self.app.stop()
            self.app = None

    async def restart(self) -> App:
        await self.stop()
        return await self.start()


def bot_config(synapse: LocalSynapse, data_dir: Path, staff: dict[str, dict[str, str]], **overrides: Any) -> dict[str, Any]:
    password = secrets.token_urlsafe(12)
    # In-process bots share the process-wide content key (see bot.app.App), so one key file; like
    # in production it lives outside every bot's data_dir (a copy of data_dir must not open it).
    key_file = synapse.data_dir.parent / "content.key"
    user_id = synapse.register(unique("bot"), password)
    config: dict[str, Any] = {
        "homeserver": {"url": synapse.url},
        # Tests script one person's commands back to back; the per-person limit has tests of its own.
        "bot": {"user_id": user_id, "password": password, "command_rate": dict(LOAD_TEST_COMMAND_RATE)},
        "storage": {"data_dir": str(data_dir), "encryption_key_file": str(key_file)},
        "people": {"consultants": [staff["consultant"]["user_id"]], "admins": [staff["admin"]["user_id"]]},
        "communities": [{"name": "North", "links": [{"title": "Mental Helse", "url": "https://mentalhelse.no"}]},
                        {"name": "South"}],
        "http": {"enabled": False},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    return config


@pytest_asyncio.fixture(scope="session")
async def bot(synapse, staff, tmp_path_factory) -> AsyncIterator[BotHandle]:
    data_dir = tmp_path_factory.mktemp("bot")
    handle = BotHandle(synapse, data_dir, bot_config(synapse, data_dir, staff))
    await handle.start()
    yield handle
    await handle.stop()


async def _login(synapse: LocalSynapse, user_id: str, password: str, store: Path, **kw: Any) -> MatrixUser:
    user = MatrixUser(synapse.url, user_id, password, store, **kw)
    await user.login()
    return user


@pytest_asyncio.fixture(scope="session")
async def consultant(synapse, staff, tmp_path_factory) -> AsyncIterator[MatrixUser]:
    creds = staff["consultant"]
    user = await _login(synapse, creds["user_id"], creds["password"], tmp_path_factory.mktemp("consultant-store"))
    yield user
    await user.close()


@pytest_asyncio.fixture
async def make_user(synapse, tmp_path) -> AsyncIterator[Callable[..., Awaitable[MatrixUser]]]:
    users: list[MatrixUser] = []

    async def make(name: str = "user", *, user_id: str | None = None, password: str | None = None,
                   auto_join: bool = True) -> MatrixUser:
        if user_id is None:
            password = secrets.token_urlsafe(10)
            user_id = synapse.register(unique(name), password)
        assert password is not None
        store = tmp_path / f"store-{uuid.uuid4().hex[:8]}"
        user = await _login(synapse, user_id, password, store, auto_join=auto_join)
        users.append(user)
        return user

    yield make
    for user in users:
        await user.close()


@pytest_asyncio.fixture
async def start_bot(synapse, staff, tmp_path) -> AsyncIterator[Callable[..., Awaitable[BotHandle]]]:
    handles: list[BotHandle] = []

    async def start(**overrides: Any) -> BotHandle:
        data_dir = tmp_path / f"bot-{uuid.uuid4().hex[:6]}"
        handle = BotHandle(synapse, data_dir, bot_config(synapse, data_dir, staff, **overrides))
        await handle.start()
        handles.append(handle)
        return handle

    yield start
    for handle in handles:
        await handle.stop()
