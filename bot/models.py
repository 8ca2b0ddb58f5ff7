"""The core's own tables: people and roles, rooms, handled events, the outbox, bot state."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, EncryptedText, LookupHash, UTCDateTime, utcnow


class RoomKind(str, enum.Enum):
    """What a room is to the bot. ``direct`` is a one-to-one room the bot did not build."""

    DIRECT = "direct"
    TOOLBOX = "toolbox"
    FORUM = "forum"
    CAFE = "cafe"
    CONSULTANT = "consultant"
    PROVIDER = "provider"
    CIRCLE = "circle"
    BUDDY = "buddy"
    SPACE = "space"
    OTHER = "other"


class Role(str, enum.Enum):
    ADMIN = "admin"
    CONSULTANT = "consultant"
    PROVIDER = "provider"
    PARTICIPANT = "participant"
    # Enrolled once (approved), now left or awaiting re-approval: keeps their toolbox, their data
    # and their reminders, but reaches no one.
    FORMER = "former"
    GUEST = "guest"


class EnrolmentStatus(str, enum.Enum):
    STARTED = "started"  # sent !start
    CONSENTED = "consented"
    PENDING = "pending"  # pseudonym and community chosen, awaiting a consultant
    ACTIVE = "active"
    LEFT = "left"


class BotState(Base):
    """Small named values: the sync token, the bot's device id."""

    __tablename__ = "bot_state"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(2048))


class BotSecret(Base):
    """Secrets such as the cross-signing private keys, sealed with the content key."""

    __tablename__ = "bot_secret"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(EncryptedText)


class HandledEvent(Base):
    """Every event acted on (or deliberately skipped), so nothing is acted on twice."""

    __tablename__ = "handled_event"
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    # Indexed for the room's traces dropped when the bot leaves it, and the daily prune by age.
    room_id: Mapped[str] = mapped_column(String(255), index=True)
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class OutboxMessage(Base):
    """A message to send, written in the same transaction as the change that caused it.

    The sender deletes the row after the homeserver accepted it; ``txn_id`` is stable, so a
    resend after a crash is de-duplicated by the homeserver.
    """

    __tablename__ = "outbox_message"
    # Each room's queue in order (the sender's turns, a room's messages dropped when it is left).
    __table_args__ = (Index("ix_outbox_message_room_id_id", "room_id", "id"),)
    __seal_row_key__ = ("txn_id",)  # unique and known before the INSERT: sealed in one write
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    txn_id: Mapped[str] = mapped_column(String(64), unique=True)
    room_id: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str] = mapped_column(String(64), default="m.room.message")
    content: Mapped[str] = mapped_column(EncryptedText)  # JSON
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class ManagedRoom(Base):
    """A room the bot built or adopted, with its kind and whose it is."""

    __tablename__ = "managed_room"
    room_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    community: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    owner: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    partner: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Participant(Base):
    __tablename__ = "participant"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default=EnrolmentStatus.STARTED.value)
    # The pseudonym ↔ Matrix id link is sealed; lookups by pseudonym go through the keyed hash of
    # its comparison key (``bot.people.pseudonym_key``), which is all the database can compare.
    pseudonym: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    pseudonym_key: Mapped[str | None] = mapped_column(LookupHash, nullable=True, unique=True)
    community: Mapped[str | None] = mapped_column(String(64), nullable=True)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Provider(Base):
    __tablename__ = "provider"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    added_by: Mapped[str] = mapped_column(String(255))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Office hours as typed, e.g. "mon-fri 08:00-15:30"; None means no auto-reply.
    office_hours: Mapped[str | None] = mapped_column(String(64), nullable=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Oslo")


class UserPref(Base):
    """Per-person settings that apply whatever the role."""

    __tablename__ = "user_pref"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    break_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    on_break: Mapped[bool] = mapped_column(default=False)


class UndecryptableNotice(Base):
    """One "I could not read that" reply per sender and megolm session."""

    __tablename__ = "undecryptable_notice"
    __table_args__ = (UniqueConstraint("sender", "session_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender: Mapped[str] = mapped_column(String(255))
    session_id: Mapped[str] = mapped_column(String(255))
    noticed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SentEvent(Base):
    """The Matrix event id the homeserver gave each outbox message, by its transaction id, so a
    feature can find its own announcement later (e.g. to read reactions to it)."""

    __tablename__ = "sent_event"
    txn_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), index=True)
    room_id: Mapped[str] = mapped_column(String(255), index=True)  # the room's traces dropped when it is left
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UploadedMedia(Base):
    """A file the bot uploaded for a person (a chart, a map, an export), so ``!forget-me`` can ask
    the homeserver to delete it. Encrypted attachments: the media repository holds ciphertext."""

    __tablename__ = "uploaded_media"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(255), index=True)
    url: Mapped[str] = mapped_column(String(512))  # mxc://
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ForgetRequest(Base):
    """A pending ``!forget-me``: the code the person must type back before it expires."""

    __tablename__ = "forget_request"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    code: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
