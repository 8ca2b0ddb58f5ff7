"""What happens in the shared rooms, without any text: posts and views, privacy and crisis flags,
display-name mismatches."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.db import utcnow
from rooms.models import Flag, ForumPost, NameMismatch, PostView

VIEW_WINDOW = timedelta(days=31)  # a read receipt marks earlier posts of this window as seen
LATE = "late"  # in a crisis flag's details: first seen after an outage


def record_post(session: Session, room_id: str, room_kind: str, event_id: str, author: str,
                community: str | None, thread_root: str | None, reply_to: str | None,
                at: datetime | None = None) -> None:
    if session.get(ForumPost, event_id) is not None:
        return
    session.add(ForumPost(event_id=event_id, room_id=room_id, room_kind=room_kind, author=author,
                          community=community, thread_root=thread_root, reply_to=reply_to,
                          posted_at=at or utcnow()))
    session.flush()


def record_receipt(session: Session, room_id: str, event_id: str, reader: str) -> int:
    """A read receipt at ``event_id``: every earlier post of the room (in the window) not by the
    reader counts as viewed once. Returns how many views were new."""
    anchor = session.get(ForumPost, event_id)
    if anchor is None or anchor.room_id != room_id:
        return 0
    seen = select(PostView.event_id).where(PostView.user_id == reader)
    q = select(ForumPost.event_id).where(
        ForumPost.room_id == room_id, ForumPost.posted_at <= anchor.posted_at,
        ForumPost.posted_at >= anchor.posted_at - VIEW_WINDOW, ForumPost.author != reader,
        ForumPost.event_id.not_in(seen))
    new = list(session.scalars(q))
    session.add_all(PostView(event_id=e, user_id=reader) for e in new)
    session.flush()
    return len(new)


def forget_event(session: Session, event_id: str, room_id: str | None = None) -> None:
    """A redacted message no longer counts as a post; its flags are marked removed. With
    ``room_id``, only if it was in that room (an event id named in another room is not it)."""
    post = session.get(ForumPost, event_id)
    if post is not None and (room_id is None or post.room_id == room_id):
        session.execute(delete(PostView).where(PostView.event_id == event_id))
        session.delete(post)
    flags = select(Flag).where(Flag.event_id == event_id)
    if room_id is not None:
        flags = flags.where(Flag.room_id == room_id)
    for flag in session.scalars(flags):
        flag.redacted = True
    session.flush()


def author_in_room(session: Session, room_id: str, event_id: str) -> str | None:
    """Who wrote ``event_id`` in ``room_id``, as far as the posts and flags tell; None if unknown."""
    post = session.get(ForumPost, event_id)
    if post is not None and post.room_id == room_id and post.author:
        return post.author
    return session.scalar(select(Flag.author).where(Flag.event_id == event_id, Flag.room_id == room_id,
                                                    Flag.author.is_not(None)).limit(1))


def flag(session: Session, kind: str, room_id: str, event_id: str, author: str,
         details: list[str] | None = None, alerted: bool = False) -> Flag:
    row = Flag(kind=kind, room_id=room_id, event_id=event_id, author=author,
               details=",".join(details or []), alerted=alerted)
    session.add(row)
    session.flush()
    return row


def crisis_alert_due(session: Session, author: str, period: timedelta, now: datetime) -> bool:
    """No crisis alert about this person in the last ``period``."""
    q = select(Flag.id).where(Flag.kind == "crisis", Flag.author == author, Flag.alerted.is_(True),
                              Flag.at > now - period).limit(1)
    return session.scalar(q) is None


def latest_privacy_flag(session: Session, author: str) -> Flag | None:
    q = (select(Flag).where(Flag.kind == "privacy", Flag.author == author, Flag.redacted.is_(False))
         .order_by(Flag.at.desc(), Flag.id.desc()).limit(1))
    return session.scalar(q)


def note_name(session: Session, user_id: str, room_id: str, matches: bool) -> bool:
    """Record whether a display name fits; True when a mismatch is new (worth telling them)."""
    row = session.get(NameMismatch, (user_id, room_id))
    if matches:
        if row is not None:
            session.delete(row)
        return False
    if row is not None:
        return False
    session.add(NameMismatch(user_id=user_id, room_id=room_id))
    session.flush()
    return True
