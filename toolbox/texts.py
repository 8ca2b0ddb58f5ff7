"""The toolbox's own message catalogue, for text built outside a command context
(the crisis-plan summary that the crisis response sends, reminders)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from bot.i18n import Catalogue

LOCALES = Path(__file__).parent / "locales"
Translate = Callable[..., str]


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    cat = Catalogue()
    cat.load_dir(LOCALES)
    return cat


def translator(lang: str, prefix: str = "!") -> Translate:
    def t(key: str, **params: Any) -> str:
        params.setdefault("p", prefix)
        return catalogue().t(lang, key, **params)

    return t
