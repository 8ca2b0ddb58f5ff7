"""Unit-test fixtures: a FakePort and Services wired with every feature's catalogue."""

from __future__ import annotations

import pytest

from bot.context import Services
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
