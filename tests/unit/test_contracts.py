"""The contracts between features (bot/contracts.py): declared services and requirements, the
crisis-reply extras, commands exempt from the crisis watch, and a missing feature module."""

from __future__ import annotations

import pytest

from bot.app import App
from bot.contracts import (
    PEER_STANDING,
    PERSONAL_DATA,
    REMINDER_DELIVERY,
    MissingService,
    check_requirements,
    crisis_watch_exempt,
)
from bot.feature import Feature
from bot.features import FeatureMissing, load_features
from bot.matrix import StartupError
from tests.support.core import test_settings
from tests.support.rooms import CONSULTANTS, FORUM, build_community, enrol, outbox, send, toolbox_of
from toolbox import crisis_plan

PER = "@per:localhost"


# --- services and requirements ------------------------------------------------------------------

def test_the_loaded_features_provide_every_service_they_require(features):
    check_requirements(features)
    provided = {s: f.name for f in features for s in f.provides}
    assert provided == {PERSONAL_DATA: "core", REMINDER_DELIVERY: "schedules", PEER_STANDING: "rooms"}
    assert PEER_STANDING in {f.name: set(f.requires) for f in features}["schedules"]
    assert {f.name: set(f.requires) for f in features}["toolbox"] == {PERSONAL_DATA, REMINDER_DELIVERY}


def test_a_missing_service_is_named_in_one_line(features):
    without_schedules = [f for f in features if f.name != "schedules"]
    with pytest.raises(MissingService) as err:
        check_requirements(without_schedules)
    message = str(err.value)
    assert "\n" not in message
    assert "'toolbox'" in message and f"'{REMINDER_DELIVERY}'" in message


async def test_start_fails_with_one_line_before_any_work_when_a_service_is_missing(tmp_path):
    lonely = Feature(name="lonely", requires=("a-service-nobody-offers",))
    app = App(test_settings(), features=[lonely])
    with pytest.raises(StartupError, match="^the 'lonely' feature requires the 'a-service-nobody-offers' service"):
        await app.start()
    assert app.db is None and app.client is None  # nothing was opened


def test_a_missing_feature_module_fails_with_one_line_naming_it():
    with pytest.raises(FeatureMissing) as err:
        load_features(("bot.core", "nosuchfeature.plugin"))
    assert "'nosuchfeature.plugin'" in str(err.value) and "\n" not in str(err.value)
    assert isinstance(err.value, StartupError)


def test_a_broken_import_inside_a_feature_is_not_hidden(tmp_path, monkeypatch):
    (tmp_path / "brokenfeature").mkdir()
    (tmp_path / "brokenfeature" / "__init__.py").write_text("")
    (tmp_path / "brokenfeature" / "plugin.py").write_text("import no_such_dependency_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError):
        load_features(("brokenfeature.plugin",))


# --- the crisis response asks the declared extras ----------------------------------------------

@pytest.fixture
def community(db, port):
    with db.session() as s:
        build_community(s, port)
        enrol(s, PER, "Per", port=port)
    return db


async def test_the_crisis_reply_carries_the_toolbox_plan(community, services):
    with community.session() as s:
        crisis_plan.add(s, PER, "support", "call my sister")
    await send(community, services, PER, FORUM, "I can't go on")
    (private,) = outbox(community, toolbox_of(PER))
    assert "113" in private
    assert "**Your crisis plan:**" in private and "call my sister" in private
    assert private.index("113") < private.index("Your crisis plan")
    assert len(outbox(community, CONSULTANTS)) == 1


async def test_without_a_plan_the_crisis_reply_has_the_numbers_alone(community, services):
    await send(community, services, PER, FORUM, "I can't go on")
    (private,) = outbox(community, toolbox_of(PER))
    assert "113" in private and "crisis plan" not in private


# --- commands the crisis watch leaves alone -----------------------------------------------------

def test_crisis_plan_commands_are_declared_exempt(features):
    exempt = sorted(c.name for f in features for c in f.commands.commands if c.crisis_exempt)
    assert exempt == ["crisis", "crisis add", "crisis remove", "crisis review"]
    assert crisis_watch_exempt(features, "!", "!crisis add warning-signs I want to die")
    assert crisis_watch_exempt(features, "!", "! Crisis add warning-signs I want to die")
    assert not crisis_watch_exempt(features, "!", "!goal add I want to die")
    assert not crisis_watch_exempt(features, "!", "I want to die, !crisis")
    assert not crisis_watch_exempt(features, "!", "!crisisplan I want to die")


async def test_writing_warning_signs_into_the_plan_is_not_a_crisis_message(community, services):
    await send(community, services, PER, toolbox_of(PER), "!crisis add warning-signs I want to die")
    assert len(outbox(community, CONSULTANTS)) == 0
    assert not any("113" in body for body in outbox(community, toolbox_of(PER)))
    await send(community, services, PER, toolbox_of(PER), "!goal add I want to die")
    assert any("113" in body for body in outbox(community, toolbox_of(PER)))
