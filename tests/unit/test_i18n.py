"""Every message exists in English and Norwegian, and every key the code names exists."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.core import catalogue_for

ROOT = Path(__file__).resolve().parents[2]
# Literal catalogue keys passed to reply/t/Invalid/NotFound/... in the code.
KEY_USE = re.compile(r"""(?:reply|\bt|Invalid|NotFound|NotAllowed|DomainError|help=)\(?\s*["']((?:core|router|rooms|toolbox|schedules)\.[a-z0-9_.]+)["']""")  # noqa: E501


def test_every_english_key_has_a_norwegian_text(features):
    cat = catalogue_for(features)
    missing = sorted(set(cat.messages["en"]) - set(cat.messages["nb"]))
    assert missing == []
    extra = sorted(set(cat.messages["nb"]) - set(cat.messages["en"]))
    assert extra == []


def test_keys_named_in_code_exist(features):
    cat = catalogue_for(features)
    used: set[str] = set()
    for package in ("bot", "rooms", "toolbox", "schedules"):
        for path in (ROOT / package).rglob("*.py"):
            used |= set(KEY_USE.findall(path.read_text(encoding="utf-8")))
    assert len(used) > 100  # the scan sees the code
    unknown = sorted(k for k in used if not cat.has(k) and not k.endswith("."))
    assert unknown == []


def test_every_command_has_help_in_both_languages(features):
    cat = catalogue_for(features)
    for f in features:
        for c in f.commands.commands:
            assert c.help and cat.has(c.help), c.name
            assert cat.messages["nb"].get(c.help), c.name
