"""Every command a catalogue text tells people to send (`{p}goal add`, `{p}cafe`, …) is one the
bot declares: in each loaded feature's catalogue, in English and in Norwegian."""

from __future__ import annotations

import re

import pytest

from bot.features import load_features
from bot.i18n import LANGUAGES, Catalogue
from bot.router import Router

# A command as a text shows it: the prefix, then what follows up to the end of its code span.
REFERENCE = re.compile(r"\{p\}([^`\n]*)")


@pytest.fixture(scope="module")
def router() -> Router:
    """Every feature the bot loads, routed as the bot routes them."""
    router = Router("!")
    for f in load_features():
        router.add(f.commands.commands)
    return router


def named_command(router: Router, typed: str) -> str | None:
    """The declared command that ``typed`` (what follows the prefix) names, or None.

    Words after the command are its arguments ("rsvp yes 2" is `rsvp`), unless they begin a longer
    declared name: "cafe ride" names the group `cafe ride need|offer|cancel`, not a command.
    """
    match = router.match(router.prefix + typed)
    if match.command is None:
        return None
    name = match.command.name
    words = typed.lower().split()
    n = len(name.split())
    if len(words) > n:
        longer = " ".join(words[: n + 1]) + " "
        if any(other.startswith(longer) for other in router.by_name):
            return None
    return name


def references() -> list[tuple[str, str, str, str]]:
    """(feature, language, key, what follows the prefix) for every command a text names."""
    found = []
    for f in load_features():
        if f.locales is None:
            continue
        for lang in LANGUAGES:
            assert (f.locales / f"{lang}.yaml").exists(), f"{f.name} has no {lang} catalogue"
            catalogue = Catalogue()
            catalogue.load_dir(f.locales)
            for key, text in catalogue.messages[lang].items():
                for m in REFERENCE.finditer(text):
                    typed = m.group(1).strip()
                    if typed:  # "`{p}`" alone shows the prefix itself
                        found.append((f.name, lang, key, typed))
    return found


def test_named_command_tells_commands_from_arguments_and_groups(router) -> None:
    assert named_command(router, "goal add TEXT") == "goal add"
    assert named_command(router, "rsvp yes 2") == "rsvp"
    assert named_command(router, "cafe ride need") == "cafe ride need"
    assert named_command(router, "cafe") == "cafe"
    assert named_command(router, "cafe ride") is None  # a group, not a command
    assert named_command(router, "goal") is None
    assert named_command(router, "no-such-command") is None


def test_every_command_a_catalogue_text_names_is_declared(router) -> None:
    refs = references()
    # Each feature's texts, in both languages, name commands: the scan found them.
    assert {(feature, lang) for feature, lang, _, _ in refs} == {
        (f.name, lang) for f in load_features() if f.locales is not None for lang in LANGUAGES}
    assert {"goal add", "cafe", "help", "crisis"} <= {named_command(router, typed) for *_, typed in refs}
    unknown = [f"{feature} {lang} {key}: {{p}}{typed}" for feature, lang, key, typed in refs
               if named_command(router, typed) is None]
    assert unknown == []
