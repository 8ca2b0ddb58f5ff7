"""The one list of feature packages the bot loads. Adding a feature is one line here."""

from __future__ import annotations

import importlib

from bot.feature import Feature

FEATURE_MODULES: tuple[str, ...] = (
    "bot.core",
    "rooms.plugin",
    "toolbox.plugin",
    "schedules.plugin",
)


def load_features(modules: tuple[str, ...] = FEATURE_MODULES) -> list[Feature]:
    features = []
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # A feature package not written yet is skipped; a broken import inside one is not.
            if exc.name == name or (exc.name and name.startswith(exc.name + ".")):
                continue
            raise
        features.append(module.feature)
    return features
