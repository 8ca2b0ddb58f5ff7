"""Pseudonym rules: 2–32 letters, digits, spaces, ``-`` or ``_``; unique ignoring case and
spacing; never a word that could pass for staff or the bot."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from bot.errors import Invalid
from bot.people import participant_by_pseudonym, pseudonym_key

MIN_LEN, MAX_LEN = 2, 32
RESERVED = frozenset({
    "admin", "administrator", "bot", "consultant", "moderator", "mod", "reconnect", "system",
    "staff", "support", "konsulent", "erfaringskonsulent", "everyone", "here",
    "helsearbeider", "provider", "help", "hjelp",
})


def clean_pseudonym(raw: str) -> str:
    """The pseudonym as it will be shown (spacing collapsed), or :class:`Invalid`."""
    name = " ".join(raw.split())
    if not MIN_LEN <= len(name) <= MAX_LEN:
        raise Invalid("rooms.pseudonym.bad_length", min=MIN_LEN, max=MAX_LEN)
    if not all(c.isalnum() or c in " -_" for c in name):
        raise Invalid("rooms.pseudonym.bad_chars")
    key = pseudonym_key(name)
    words = set(re.split(r"[ \-_]+", key)) | {re.sub(r"[ \-_]+", "", key)}
    if words & RESERVED:
        raise Invalid("rooms.pseudonym.reserved")
    return name


def check_available(session: Session, name: str, user_id: str) -> None:
    other = participant_by_pseudonym(session, name)
    if other is not None and other.user_id != user_id:
        raise Invalid("rooms.pseudonym.taken")
