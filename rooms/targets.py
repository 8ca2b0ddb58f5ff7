"""Finding who a command is about, and linking to an event without quoting it."""

from __future__ import annotations

import re
from urllib.parse import unquote

from sqlalchemy.orm import Session

from bot.errors import Invalid
from bot.models import Participant
from bot.people import participant_by_pseudonym
from bot.port import MatrixPort
from rooms.models import ForumPost

MAX_PSEUDONYM_WORDS = 6
_QUOTES = str.maketrans({'"': " ", "“": " ", "”": " ", "«": " ", "»": " "})


def event_link(room_id: str, event_id: str) -> str:
    return f"https://matrix.to/#/{room_id}/{event_id}"


async def sender_of(session: Session, port: MatrixPort, room_id: str, event_id: str) -> str | None:
    """Who sent ``event_id`` in ``room_id``: from the posts already seen, else from the
    homeserver; None when neither knows it (then nothing may be done to it on anyone's behalf)."""
    post = session.get(ForumPost, event_id)
    if post is not None and post.room_id == room_id and post.author:
        return post.author
    event = await port.fetch_event(room_id, event_id)
    sender = event.get("sender") if event is not None else None
    return sender if isinstance(sender, str) else None
MAX_LINK_LEN = 1000
# Room ids may lack a server part (room version 12).
# matrix.to and Element web links: ".../#/!room:server/$event" (or "#/room/!room..."), the ids
# percent-encoded or not; and the matrix: URI scheme, "matrix:roomid/room:server/e/event".
_PERMALINK = re.compile(r"(![^/?#\s]{1,255})/(\$[^/?#\s]{1,255})")
_MATRIX_URI = re.compile(r"^matrix:roomid/([^/?#\s]{1,255})/e/([^/?#\s]{1,255})")


def parse_event_link(text: str) -> tuple[str, str] | None:
    """(room id, event id) of a message link as clients copy it, or None."""
    if len(text) > MAX_LINK_LEN:
        return None
    uri = _MATRIX_URI.match(text)
    if uri:
        return "!" + unquote(uri.group(1)), "$" + unquote(uri.group(2))
    found = _PERMALINK.search(unquote(text))
    return (found.group(1), found.group(2)) if found else None


def pseudonym_of(session: Session, user_id: str | None) -> str:
    """How a person is shown to others: their pseudonym, or a dash."""
    p = session.get(Participant, user_id) if user_id else None
    return (p.pseudonym if p else None) or "—"


def split_target(session: Session, text: str) -> tuple[Participant, str]:
    """The longest leading run of words that is someone's pseudonym, and what follows it
    (``"Blue Bird please stop"`` → (Blue Bird, "please stop"))."""
    words = text.translate(_QUOTES).split()
    for n in range(min(len(words), MAX_PSEUDONYM_WORDS), 0, -1):
        p = participant_by_pseudonym(session, " ".join(words[:n]))
        if p is not None:
            return p, " ".join(words[n:])
    raise Invalid("rooms.no_such_pseudonym", pseudonym=words[0] if words else "")
