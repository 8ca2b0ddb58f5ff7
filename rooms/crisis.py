"""Crisis language: phrase lists per language in editable text files, and matching (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DIR = Path(__file__).parent / "phrases"
LANGUAGES = ("en", "nb")
# No Matrix event is larger than 65,536 bytes; nothing past this is read. Matching is linear: one
# pass to split words, then a substring search per phrase.
MAX_SCANNED_CHARS = 65_536


def normalise(text: str) -> str:
    """Lower-case words separated by single spaces; apostrophes dropped (don't = dont)."""
    text = text.casefold().replace("'", "").replace("’", "")
    return " ".join(re.findall(r"[\wæøå]+", text))


@dataclass(frozen=True)
class PhraseList:
    phrases: tuple[str, ...]

    @classmethod
    def load(cls, directory: Path | None = None) -> "PhraseList":
        """Every phrase of every language file: one per line, ``#`` starts a comment."""
        folder = Path(directory) if directory is not None else DEFAULT_DIR
        phrases: list[str] = []
        for lang in LANGUAGES:
            path = folder / f"{lang}.txt"
            if not path.exists():
                continue
            for line in path.read_text(encoding="utf-8").splitlines():
                phrase = normalise(line.split("#", 1)[0])
                if phrase:
                    phrases.append(phrase)
        return cls(tuple(dict.fromkeys(phrases)))

    def matches(self, text: str) -> bool:
        padded = f" {normalise(text[:MAX_SCANNED_CHARS])} "
        return any(f" {p} " in padded for p in self.phrases)
