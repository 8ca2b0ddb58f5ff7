"""The private recovery toolbox feature."""

from __future__ import annotations

from pathlib import Path

from bot.feature import Feature

feature = Feature(
    name="toolbox",
    locales=Path(__file__).parent / "locales",
    migrations=Path(__file__).parent / "migrations",
)

from toolbox import models as _models  # noqa: E402,F401  (tables on the shared metadata)
