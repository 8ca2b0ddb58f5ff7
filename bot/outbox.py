"""Building message contents and queueing them in the transactional outbox."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any, Iterable

from sqlalchemy.orm import Session

from bot.markup import plain_text, render_markdown, render_static
from bot.models import OutboxMessage
from bot.port import UploadedFile

__all__ = ["enqueue", "file_content", "notice_content", "reaction_content", "reminder_txn", "render_markdown"]

# Clients never notify for m.notice (push rule .m.rule.suppress_notices, ahead of every mention
# rule), so what must reach a person is m.text; acknowledgements, help and listings stay notices.
NOTICE = "m.notice"
ALERT = "m.text"


def notice_content(
    text: str,
    *,
    alert: bool = False,
    mentions: Iterable[str] = (),
    thread_root: str | None = None,
    reply_to: str | None = None,
    static: bool = False,
) -> dict[str, Any]:
    """A message from Markdown (rendered by :mod:`bot.markup`); keeps threads and replies.

    ``alert=True`` when it must reach someone (a reminder, warning, invitation, introduction,
    consultant alert, digest, answer): sent as ``m.text`` so the reader's client notifies. In a
    group room name who it is for in ``mentions`` (user ids; never the whole room). ``static``:
    the text holds nothing a person typed, and its rendering may be remembered (see
    :func:`bot.markup.render_static`)."""
    body, html = render_static(text) if static else (plain_text(text), render_markdown(text))
    content: dict[str, Any] = {
        "msgtype": ALERT if alert else NOTICE,
        "body": body,
        "format": "org.matrix.custom.html",
        "formatted_body": html,
        "m.mentions": {"user_ids": sorted(set(mentions))} if mentions else {},
    }
    if thread_root:
        content["m.relates_to"] = {
            "rel_type": "m.thread",
            "event_id": thread_root,
            "is_falling_back": reply_to is None,
            "m.in_reply_to": {"event_id": reply_to or thread_root},
        }
    elif reply_to:
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
    return content


def file_content(
    uploaded: UploadedFile,
    *,
    filename: str,
    mimetype: str,
    size: int,
    alt_text: str,
    width: int | None = None,
    height: int | None = None,
) -> dict[str, Any]:
    """An encrypted attachment; images get ``m.image`` with the alt text as body."""
    is_image = mimetype.startswith("image/")
    info: dict[str, Any] = {"mimetype": mimetype, "size": size}
    if width and height:
        info.update({"w": width, "h": height})
    file_obj = dict(uploaded.file_info)
    file_obj["url"] = uploaded.url
    return {
        "msgtype": "m.image" if is_image else "m.file",
        "body": plain_text(alt_text) if is_image else filename,
        "filename": filename,
        "info": info,
        "file": file_obj,
    }


def reminder_txn(key: str) -> str:
    """The Matrix transaction id of a scheduled reminder (by its ledger key): stable, so a resend
    is de-duplicated, and a feature can find the sent reminder in ``SentEvent``."""
    return "rc-rem-" + hashlib.sha256(key.encode()).hexdigest()[:40]


def reaction_content(event_id: str, key: str) -> dict[str, Any]:
    return {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}


# Not a Matrix event: an outbox row of this type makes the sender leave (and forget) the room once
# every message queued before it there is sent, then drop the room's traces (``!forget-me``).
LEAVE_ROOM = "reconnect.leave_room"


def enqueue_leave(session: Session, room_id: str) -> OutboxMessage:
    """Queue the bot's leaving of a room, after what is already queued there."""
    return enqueue(session, room_id, {}, event_type=LEAVE_ROOM)


def enqueue(
    session: Session,
    room_id: str,
    content: dict[str, Any],
    *,
    event_type: str = "m.room.message",
    txn_id: str | None = None,
) -> OutboxMessage:
    """Queue a message in the caller's transaction; it is sent after the commit."""
    row = OutboxMessage(
        txn_id=txn_id or f"rc-{uuid.uuid4().hex}",
        room_id=room_id,
        event_type=event_type,
        content=json.dumps(content, ensure_ascii=False),
    )
    session.add(row)
    return row
