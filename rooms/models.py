"""The community's tables: moderation, reports, mutes, flags, forum activity, reveals and circles.

Nobody's message text is stored, except a hidden (auto-redacted) message kept for the
consultant's review and the personal text of an identity reveal — both encrypted at rest.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, EncryptedText, UTCDateTime, utcnow


class ModerationEntry(Base):
    """One moderation action: who did what to whom, why and when."""

    __tablename__ = "rooms_moderation_entry"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(32))
    target_user: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    target_pseudonym: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    reason: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Mute(Base):
    """A participant who may not post in shared rooms; ``until`` None means until !unmute."""

    __tablename__ = "rooms_mute"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    by: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Ban(Base):
    """A participant banned by a consultant: out of the shared rooms, and reaching nobody (no
    reveals, circle invitations or café matches) until !unban."""

    __tablename__ = "rooms_ban"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    by: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Block(Base):
    """A participant's !block: the blocked person's reveals, circle invitations and café matches
    no longer reach the blocker."""

    __tablename__ = "rooms_block"
    blocker: Mapped[str] = mapped_column(String(255), primary_key=True)
    blocked: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Report(Base):
    """A participant's report of a message; the reporter is known only to the database."""

    __tablename__ = "rooms_report"
    __table_args__ = (UniqueConstraint("event_id", "reporter"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    room_id: Mapped[str] = mapped_column(String(255))
    event_id: Mapped[str] = mapped_column(String(255), index=True)
    reporter: Mapped[str] = mapped_column(String(255), index=True)
    reason: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HiddenMessage(Base):
    """A message redacted after enough reports outside staffed hours, kept for review."""

    __tablename__ = "rooms_hidden_message"
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255))
    author: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    text: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    hidden_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Flag(Base):
    """A privacy or crisis match on a message (never its text)."""

    __tablename__ = "rooms_flag"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # "privacy" | "crisis"
    room_id: Mapped[str] = mapped_column(String(255))
    event_id: Mapped[str] = mapped_column(String(255), index=True)
    author: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    # ``kind`` and ``author`` stay plain: the digest counts by kind, the crisis alert limit and
    # !redact-mine look up by author. What was found is sealed.
    details: Mapped[str] = mapped_column(EncryptedText, default="")  # privacy kinds, comma-separated
    alerted: Mapped[bool] = mapped_column(Boolean, default=False)  # crisis: the consultants were told
    redacted: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class NameMismatch(Base):
    """A participant whose display name in a shared room is not their pseudonym."""

    __tablename__ = "rooms_name_mismatch"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    noticed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ForumPost(Base):
    """A message in the forum or a café room: who, where, in answer to what, when — no text."""

    __tablename__ = "rooms_forum_post"
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255), index=True)
    room_kind: Mapped[str] = mapped_column(String(16))
    author: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    community: Mapped[str | None] = mapped_column(String(64), nullable=True)
    thread_root: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    reply_to: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class PostView(Base):
    """Someone other than the author read a post (from read receipts)."""

    __tablename__ = "rooms_post_view"
    event_id: Mapped[str] = mapped_column(
        String(255), ForeignKey("rooms_forum_post.event_id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Reveal(Base):
    """An identity reveal: a personal message delivered only after the receiver accepts."""

    __tablename__ = "rooms_reveal"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender: Mapped[str] = mapped_column(String(255), index=True)
    receiver: Mapped[str] = mapped_column(String(255), index=True)
    message: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Circle(Base):
    """A small private room among peers who each chose to join."""

    __tablename__ = "rooms_circle"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(EncryptedText)
    created_by: Mapped[str] = mapped_column(String(255), index=True)
    room_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CircleMember(Base):
    __tablename__ = "rooms_circle_member"
    circle_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("rooms_circle.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AutoReply(Base):
    """When a provider room last got an out-of-hours reply (at most one an hour)."""

    __tablename__ = "rooms_auto_reply"
    room_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ContactThread(Base):
    """A person's line to the peer consultants (``!contact``): the consultant-room thread their
    messages go into."""

    __tablename__ = "rooms_contact_thread"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    root_txn: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DirectChat(Base):
    """The direct chat a person last used with the bot before they had a toolbox room (for the
    "you are in" note after approval, and answers to someone not yet enrolled)."""

    __tablename__ = "rooms_direct_chat"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
