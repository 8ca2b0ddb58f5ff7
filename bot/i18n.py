"""Message catalogues (English and Norwegian Bokmål) keyed by message id.

Each package keeps ``locales/en.yaml`` and ``locales/nb.yaml``; the catalogue merges the
packages the bot loads. A key missing in Norwegian falls back to English; a key missing
everywhere shows the key itself (and a test keeps that from happening).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.markup import Markdown, fill

LANGUAGES = ("en", "nb")
# libyaml's loader when PyYAML was built with it (the wheels are): the same safe subset of YAML,
# parsed about ten times faster than the pure-Python loader (the catalogues are read at every start).
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Catalogue:
    def __init__(self) -> None:
        self.messages: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}

    def load_dir(self, locales_dir: Path) -> None:
        """``en.yaml`` and ``nb.yaml``, then any ``en.*.yaml`` / ``nb.*.yaml`` beside them (e.g.
        ``en.help.yaml``: the longer help texts and examples, kept apart from the replies)."""
        for lang in LANGUAGES:
            first = Path(locales_dir) / f"{lang}.yaml"
            for path in [first, *sorted(Path(locales_dir).glob(f"{lang}.*.yaml"))]:
                if not path.exists():
                    continue
                data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) or {}
                self.messages[lang].update(_flatten(data))

    def t(self, lang: str, key: str, **params: Any) -> Markdown:
        """The message as Markdown; each parameter shows as the literal text it is (see
        :mod:`bot.markup`), unless it is :class:`~bot.markup.Markdown` the code composed."""
        text = self.messages.get(lang, {}).get(key)
        if text is None:
            text = self.messages["en"].get(key, key)
        return fill(text, params)

    def has(self, key: str) -> bool:
        return key in self.messages["en"]


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = str(v).rstrip("\n")
    return out
