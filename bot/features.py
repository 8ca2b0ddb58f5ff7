"""The one list of feature packages the bot loads. Adding a feature is one line here."""

from __future__ import annotations

import importlib

from bot.feature import Feature
from bot.matrix import StartupError

FEATURE_MODULES: tuple[str, ...] = (
    "bot.core",
    "rooms.plugin",
    "toolbox.plugin",
    "schedules.plugin",
)


class FeatureMissing(StartupError):
    """A listed feature module cannot be found."""


def load_features(modules: tuple[str, ...] = FEATURE_MODULES) -> list[Feature]:
    features = []
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # The listed module itself (or its package) is missing: say which, in one line. A
            # missing import inside a feature is a broken feature, reported as it is.
            if exc.name == name or (exc.name and name.startswith(exc.name + ".")):
                raise FeatureMissing(f"the feature module {name!r} listed in bot/features.py "
                                     "cannot be found; install it or remove it from the list") from None
            raise
        features.append(module.feature)
    return features
