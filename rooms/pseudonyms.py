"""Pseudonym rules: 2–32 letters, digits, spaces, ``-`` or ``_``, in NFKC form; one script (digits
and separators aside); nothing invisible; unique, and never a word that could pass for staff or the
bot, also when only a lookalike (a confusables skeleton after Unicode TR39: Cyrillic "а" for Latin
"a", "0" for "O", "I" for "l"); never the person's own login or display name.

Every check walks the (capped) name once per form; nothing here backtracks."""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import Invalid
from bot.models import Participant
from bot.people import participant_by_pseudonym

MIN_LEN, MAX_LEN = 2, 32
RESERVED = frozenset({
    "admin", "administrator", "bot", "consultant", "moderator", "mod", "reconnect", "system",
    "staff", "support", "konsulent", "erfaringskonsulent", "everyone", "here",
    "helsearbeider", "provider", "help", "hjelp",
})
SEPARATORS = " -_"
# Characters that show nothing though Unicode calls them letters or symbols (fillers, blanks).
INVISIBLE_LETTERS = frozenset("\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0")
# Scripts that are written together (Japanese mixes kanji and kana).
_SAME_SCRIPT = {"HIRAGANA": "CJK", "KATAKANA": "CJK"}


def clean_pseudonym(raw: str) -> str:
    """The pseudonym as it will be shown (NFKC, spacing collapsed), or :class:`Invalid`."""
    name = " ".join(unicodedata.normalize("NFKC", raw[:4 * MAX_LEN]).split())
    if any(_invisible(c) for c in name):
        raise Invalid("rooms.pseudonym.invisible")
    if not MIN_LEN <= len(name) <= MAX_LEN:
        raise Invalid("rooms.pseudonym.bad_length", min=MIN_LEN, max=MAX_LEN)
    if not all(c.isalnum() or c in SEPARATORS for c in name):
        raise Invalid("rooms.pseudonym.bad_chars")
    if len(scripts(name)) > 1:
        raise Invalid("rooms.pseudonym.mixed_script")
    words = [w for w in re.split(r"[ \-_]+", name) if w] + [_squeeze(name)]
    if any(skeletons(w) & _reserved_skeletons() for w in words):
        raise Invalid("rooms.pseudonym.reserved")
    return name


def check_available(session: Session, name: str, user_id: str) -> None:
    """Refuse a name someone else has, ignoring case and spacing, or that only looks like theirs."""
    other = participant_by_pseudonym(session, name)
    if other is not None and other.user_id != user_id:
        raise Invalid("rooms.pseudonym.taken")
    mine = skeletons(name)
    # Whole rows, not the column: the pseudonym is sealed at rest and opened when a row is loaded.
    q = select(Participant).where(Participant.pseudonym.is_not(None), Participant.user_id != user_id)
    for other in session.scalars(q):
        theirs = other.pseudonym
        if theirs and mine & skeletons(theirs):
            raise Invalid("rooms.pseudonym.taken")


def check_not_identifying(name: str, user_id: str, display_name: str | None = None) -> None:
    """Refuse the person's own login name (the localpart of their Matrix id) or display name:
    either would tell everyone who is behind the pseudonym."""
    localpart = user_id[1:].split(":", 1)[0] if user_id.startswith("@") else user_id
    mine = skeletons(_squeeze(name))
    for own in (localpart, display_name):
        if own and mine & skeletons(_squeeze(own)):
            raise Invalid("rooms.pseudonym.own_name")


# --- the pieces ---------------------------------------------------------------------------------

def _invisible(c: str) -> bool:
    category = unicodedata.category(c)
    return (category[0] == "C" or category in ("Zl", "Zp", "Me") or (category == "Zs" and c != " ")
            or c in INVISIBLE_LETTERS)


def _squeeze(text: str) -> str:
    """In NFKC without separators (capped), so "Kari-Nordmann", "kari.nordmann" and "Kari Nordmann"
    meet."""
    return "".join(c for c in unicodedata.normalize("NFKC", text[:4 * MAX_LEN]) if c.isalnum())


def scripts(name: str) -> set[str]:
    """The scripts of the letters in ``name`` (LATIN, CYRILLIC, GREEK, ...): the first word of
    each letter's Unicode name. Digits and separators belong to none."""
    found = set()
    for c in name:
        if c.isalpha():
            word = unicodedata.name(c, "UNKNOWN").split(" ", 1)[0]
            found.add(_SAME_SCRIPT.get(word, word))
    return found


def skeleton(text: str) -> str:
    """Each character replaced by one representative of its confusables class."""
    classes = _classes()
    return "".join(classes.get(c, c) for c in text)


def skeletons(text: str) -> frozenset[str]:
    """The forms two names share when they look alike as shown: folded case, and the folded
    skeleton ("KarI" meets "Kari" by case and "Karl" by skeleton; "Kari" and "Karl" stay apart)."""
    n = unicodedata.normalize("NFKC", text)
    return frozenset((n.casefold(), skeleton(n).casefold()))


@lru_cache(maxsize=1)
def _reserved_skeletons() -> frozenset[str]:
    """Every reserved word as written in lower case, capitalised or in capitals."""
    return frozenset().union(*(skeletons(form) for word in RESERVED
                               for form in (word, word.capitalize(), word.upper())))


@lru_cache(maxsize=1)
def _classes() -> dict[str, str]:
    """Character → representative (the smallest code point of its class), from the Unicode
    confusables data (TR39) shipped with ``confusable-homoglyphs``. Only one-character
    lookalikes; the classes are closed with a union-find, as the data lists them pairwise."""
    data = json.loads(resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8"))
    parent: dict[str, str] = {}

    def find(c: str) -> str:
        root = c
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(c, c) != root:  # path compression
            parent[c], c = root, parent[c]
        return root

    for char, glyphs in data.items():
        char = char.replace("\u200e", "")
        if len(char) != 1:
            continue
        for glyph in glyphs:
            other = glyph["c"].replace("\u200e", "")
            if len(other) == 1:
                a, b = find(char), find(other)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    return {c: find(c) for c in parent} | {find(c): find(c) for c in parent}
