"""Queries behind the community's digest sections and research figures (``rooms.digest``):
small, named functions over a session. Nothing here returns message text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from bot.models import Participant, RoomKind
from bot.people import pseudonym_key
from rooms.activity import LATE
from rooms.models import Flag, ForumPost, NameMismatch, PostView


@dataclass(frozen=True)
class PostRef:
    room_id: str
    event_id: str
    posted_at: datetime


@dataclass(frozen=True)
class FlagRef:
    kind: str  # "privacy" | "crisis"
    room_id: str
    event_id: str
    at: datetime
    late: bool = False  # a crisis message first seen after an outage


@dataclass(frozen=True)
class Mismatch:
    pseudonym: str
    room_id: str


@dataclass(frozen=True)
class MonthFigure:
    month: str  # "YYYY-MM"
    community: str | None  # the poster's community; None for posters without one (staff)
    posts: int
    posters: int
    views: int


def unanswered_posts(session: Session, older_than: datetime) -> list[PostRef]:
    """Forum posts (not themselves answers) from before ``older_than`` that nobody else has
    answered, in a thread or by a reply, oldest first."""
    answer = aliased(ForumPost)
    answered = select(answer.event_id).where(
        (answer.thread_root == ForumPost.event_id) | (answer.reply_to == ForumPost.event_id),
        answer.author != ForumPost.author,
    ).exists()
    q = (select(ForumPost).where(ForumPost.room_kind == RoomKind.FORUM.value,
                                 ForumPost.thread_root.is_(None), ForumPost.reply_to.is_(None),
                                 ForumPost.posted_at < older_than, ~answered)
         .order_by(ForumPost.posted_at))
    return [PostRef(p.room_id, p.event_id, p.posted_at) for p in session.scalars(q)]


def recent_flags(session: Session, since: datetime) -> list[FlagRef]:
    q = select(Flag).where(Flag.at >= since).order_by(Flag.at)
    return [FlagRef(f.kind, f.room_id, f.event_id, f.at, late=LATE in f.details.split(","))
            for f in session.scalars(q)]


def name_mismatches(session: Session) -> list[Mismatch]:
    # The pseudonym is sealed (the ORM opens it per row), so the rows are sorted here.
    q = (select(Participant, NameMismatch.room_id)
         .join(Participant, Participant.user_id == NameMismatch.user_id))
    found = [(pseudonym_key(p.pseudonym or ""), Mismatch(p.pseudonym or "", room_id))
             for p, room_id in session.execute(q)]
    return [m for _, m in sorted(found, key=lambda f: (f[0], f[1].room_id))]


def forum_figures(session: Session, since: datetime) -> list[MonthFigure]:
    """Forum posts since ``since`` by month (UTC) and the poster's community: posts, distinct
    posters and views (read receipts by others)."""
    posts = list(session.scalars(select(ForumPost).where(
        ForumPost.room_kind == RoomKind.FORUM.value, ForumPost.posted_at >= since)))
    views = dict(session.execute(
        select(PostView.event_id, func.count()).join(ForumPost, ForumPost.event_id == PostView.event_id)
        .where(ForumPost.room_kind == RoomKind.FORUM.value, ForumPost.posted_at >= since)
        .group_by(PostView.event_id)).all())
    groups: dict[tuple[str, str | None], list[ForumPost]] = {}
    for p in posts:
        groups.setdefault((p.posted_at.strftime("%Y-%m"), p.community), []).append(p)
    return [MonthFigure(month, community, len(group), len({p.author for p in group if p.author}),
                        sum(views.get(p.event_id, 0) for p in group))
            for (month, community), group in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))]


__all__ = ["PostRef", "FlagRef", "Mismatch", "MonthFigure", "unanswered_posts", "recent_flags",
           "name_mismatches", "forum_figures"]
