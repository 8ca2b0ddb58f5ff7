"""The one text layer: catalogue text in the reader's language, with the configured command
prefix filled in. Handlers (through their context) and jobs (through the runtime) use the same
speaker, so a sentence reads the same whichever path sends it."""

from __future__ import annotations

from typing import Any, Callable, Iterable

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.i18n import Catalogue
from bot.people import language_of

# A sentence-maker bound to one language: say(key, **params) -> text.
Say = Callable[..., str]


class Speaker:
    def __init__(self, catalogue: Catalogue, settings: Settings) -> None:
        self.catalogue = catalogue
        self.settings = settings

    @property
    def prefix(self) -> str:
        return self.settings.bot.command_prefix

    @property
    def default_lang(self) -> str:
        return self.settings.language

    def t(self, lang: str, key: str, **params: Any) -> str:
        params.setdefault("p", self.prefix)
        return self.catalogue.t(lang, key, **params)

    def usage_word(self, lang: str) -> Callable[[str], str | None]:
        """How an argument word of a usage line reads in ``lang`` (``core.arg.WHEN`` -> ``NÅR``)."""
        messages = self.catalogue.messages.get(lang, {})
        return lambda w: messages.get(f"core.arg.{w}")

    def lang_of(self, session: Session, user_id: str) -> str:
        return language_of(session, self.settings, user_id)

    def say(self, lang: str | None = None) -> Say:
        """Bound to ``lang`` (the community's default language when None)."""
        bound = lang or self.default_lang

        def say(key: str, **params: Any) -> str:
            return self.t(bound, key, **params)

        return say

    def langs_of(self, session: Session, user_ids: Iterable[str]) -> list[str]:
        """The languages of a small room's members, the default language first: one when they share
        it, both when they differ (a message there is then written in each)."""
        found = {self.lang_of(session, u) for u in user_ids} or {self.default_lang}
        return sorted(found, key=lambda lang: (lang != self.default_lang, lang))

    def say_to_all(self, session: Session, user_ids: Iterable[str]) -> Say:
        """Bound to every language of ``user_ids``: the text once per language, one after the other."""
        langs = self.langs_of(session, list(user_ids))

        def say(key: str, **params: Any) -> str:
            return "\n\n".join(self.t(lang, key, **params) for lang in langs)

        return say

    def say_to(self, session: Session, user_id: str | None) -> Say:
        """Bound to the person's language (the default language for no one in particular)."""
        return self.say(self.lang_of(session, user_id) if user_id else None)
