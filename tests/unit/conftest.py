"""Unit-test fixtures: a FakePort and Services wired with every feature's catalogue."""

from __future__ import annotations

import pytest

from bot.context import Services
from bot.db import install_cipher
from tests.support.core import FakePort, catalogue_for, router_for, test_settings


@pytest.fixture
def port() -> FakePort:
    return FakePort()


@pytest.fixture
def settings():
    return test_settings()


@pytest.fixture
def services(settings, port, features) -> Services:
    return Services(settings=settings, catalogue=catalogue_for(features), port=port,
                    router=router_for(features, settings.bot.command_prefix), features=features)


@pytest.fixture(autouse=True)
def _the_test_cipher(content_cipher):
    """Every unit test seals with the test session's cipher, even after an in-process bot of the
    integration suite installed its own content key's."""
    install_cipher(content_cipher)
    yield
