"""The café announcement's native Matrix poll (MSC3381): yes / maybe / no.

Rooms the bot makes are of a room version without extensible events, so the poll is sent as
``org.matrix.msc3381.poll.start`` — what Element and matrix-js-sdk send and read — and its content
carries the stable ``m.poll`` / ``m.text`` blocks of Matrix 1.7 as well, with a plain-text fallback
for clients that show no polls. Answers come back as ``org.matrix.msc3381.poll.response`` or
``m.poll.response``; a poll answer, a reaction and ``!rsvp`` all count the same, the latest wins.
The poll is ended when the café starts.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import SentEvent
from schedules.models import Cafe
from schedules.rsvp import ANSWERS

START_TYPE = "org.matrix.msc3381.poll.start"
END_TYPE = "org.matrix.msc3381.poll.end"
RESPONSE_TYPES = ("org.matrix.msc3381.poll.response", "m.poll.response")
_UNSTABLE_TEXT = "org.matrix.msc1767.text"
POLL_SUFFIX = "-poll"


def poll_txn(cafe: Cafe) -> str:
    """The outbox transaction id of a café's poll: derived from its announcement's."""
    assert cafe.announce_txn is not None
    return cafe.announce_txn + POLL_SUFFIX


def start_content(question: str, answers: list[tuple[str, str]]) -> dict[str, Any]:
    """A single-choice, disclosed poll; ``answers`` are (id, label)."""
    fallback = question + "\n" + "\n".join(f"{i}. {label}" for i, (_, label) in enumerate(answers, 1))
    return {
        START_TYPE: {
            "kind": "org.matrix.msc3381.poll.disclosed",
            "max_selections": 1,
            "question": {_UNSTABLE_TEXT: question, "body": question, "msgtype": "m.text"},
            "answers": [{"id": aid, _UNSTABLE_TEXT: label} for aid, label in answers],
        },
        "m.poll": {
            "kind": "m.disclosed",
            "max_selections": 1,
            "question": {"m.text": [{"body": question}]},
            "answers": [{"m.id": aid, "m.text": [{"body": label}]} for aid, label in answers],
        },
        _UNSTABLE_TEXT: fallback,
        "m.text": [{"body": fallback}],
        "body": fallback,
        "msgtype": "m.text",
    }


def end_content(start_event_id: str, text: str) -> dict[str, Any]:
    return {
        "m.relates_to": {"rel_type": "m.reference", "event_id": start_event_id},
        "org.matrix.msc3381.poll.end": {},
        _UNSTABLE_TEXT: text,
        "m.text": [{"body": text}],
        "body": text,
    }


def response_of(event_type: str, content: dict[str, Any]) -> tuple[str, str] | None:
    """(poll start event id, answer) of a poll response in either form, or None."""
    if event_type not in RESPONSE_TYPES:
        return None
    relates = content.get("m.relates_to")
    start = relates.get("event_id") if isinstance(relates, dict) else None
    if not isinstance(start, str) or (isinstance(relates, dict) and relates.get("rel_type") != "m.reference"):
        return None
    chosen: object = content.get("m.selections")
    for key in ("org.matrix.msc3381.poll.response", "m.poll.response"):
        block = content.get(key)
        if chosen is None and isinstance(block, dict):
            chosen = block.get("answers")
    if not isinstance(chosen, list) or not chosen or not isinstance(chosen[0], str):
        return None
    answer = chosen[0]
    return (start, answer) if answer in ANSWERS else None


def cafe_for_poll(session: Session, event_id: str) -> tuple[Cafe, str] | None:
    """The café whose poll is ``event_id``, and the room the poll is in."""
    sent = session.scalar(select(SentEvent).where(SentEvent.event_id == event_id))
    if sent is None or not sent.txn_id.endswith(POLL_SUFFIX):
        return None
    cafe = session.scalar(select(Cafe).where(Cafe.announce_txn == sent.txn_id[: -len(POLL_SUFFIX)]))
    return (cafe, sent.room_id) if cafe is not None else None


def poll_event_of(session: Session, cafe: Cafe) -> SentEvent | None:
    return session.get(SentEvent, poll_txn(cafe)) if cafe.announce_txn else None
