"""The network map: people and services around the person, by circle of closeness."""

from __future__ import annotations

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from bot.errors import Invalid
from toolbox.limits import MAX_CONTACTS, NAME_MAX, TEXT_MAX
from toolbox.models import NetworkContact
from toolbox.numbering import check_length, ensure_room, pick

# Innermost first: the map draws them as rings from the centre outwards.
CIRCLES: tuple[str, ...] = ("close", "family", "friends", "services", "community")
CIRCLE_WORDS: dict[str, str] = {
    "close": "close", "nære": "close", "nær": "close", "nærmeste": "close",
    "family": "family", "familie": "family", "familien": "family",
    "friends": "friends", "friend": "friends", "venner": "friends", "venn": "friends",
    "services": "services", "service": "services", "tjenester": "services", "hjelpeapparat": "services",
    "community": "community", "fellesskap": "community", "lokalmiljø": "community",
}


def parse_entry(text: str) -> tuple[str, str, str | None]:
    """``Anna Berg friends met at the café`` -> ("Anna Berg", "friends", "met at the café").

    The first word naming a circle splits the name from the note.
    """
    words = text.split()
    for i, word in enumerate(words):
        circle = CIRCLE_WORDS.get(word.casefold().strip(",;:"))
        if circle and i > 0:
            note = " ".join(words[i + 1:]) or None
            return " ".join(words[:i]), circle, note
    raise Invalid("toolbox.network.no_circle")


def listed(session: Session, user_id: str) -> list[NetworkContact]:
    """By circle (innermost first), then in the order added; the numbers follow this order."""
    rank = case({c: i for i, c in enumerate(CIRCLES)}, value=NetworkContact.circle, else_=len(CIRCLES))
    q = select(NetworkContact).where(NetworkContact.user_id == user_id).order_by(rank, NetworkContact.id)
    return list(session.scalars(q))


def add(session: Session, user_id: str, name: str, circle: str, note: str | None = None) -> NetworkContact:
    if circle not in CIRCLES:
        raise Invalid("toolbox.network.no_circle")
    ensure_room(len(listed(session, user_id)), MAX_CONTACTS, "contact")
    contact = NetworkContact(user_id=user_id, name=check_length(name, NAME_MAX), circle=circle,
                             note=check_length(note, TEXT_MAX) if note else None)
    session.add(contact)
    session.flush()
    return contact


def remove(session: Session, user_id: str, n: int) -> NetworkContact:
    contact = pick(listed(session, user_id), n, "contact")
    session.delete(contact)
    session.flush()
    return contact
