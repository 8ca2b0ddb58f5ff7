"""The schedules tables: cafés and their series, RSVPs, buddy and ride requests, the reminder
ledger. These rows are the source of truth; scheduler jobs are rebuilt from them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, EncryptedText, UTCDateTime, utcnow


class CafeSeries(Base):
    """A recurring café (``every first thursday 18:00``); its meetings are materialised one at a time."""

    __tablename__ = "cafe_series"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    community: Mapped[str] = mapped_column(String(64), index=True)
    rule: Mapped[str] = mapped_column(String(64))  # canonical form, see recurrence.Recurrence.canonical
    place: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Cafe(Base):
    """One meeting. ``announce_txn`` is the outbox transaction id of its announcement, which
    leads (through ``bot.models.SentEvent``) to the event people react to."""

    __tablename__ = "cafe"
    __table_args__ = (UniqueConstraint("series_id", "starts_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("cafe_series.id"), nullable=True, index=True)
    community: Mapped[str] = mapped_column(String(64), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    place: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attended: Mapped[int | None] = mapped_column(Integer, nullable=True)
    announce_txn: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    # Its number in ``!cafe`` while it is listed: the smallest free one when it was planned, so the
    # numbers of the others do not shift when one passes or is cancelled.
    number: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Rsvp(Base):
    """A person's current answer for a café; ``reaction_event_id`` when a reaction set it."""

    __tablename__ = "cafe_rsvp"
    __table_args__ = (UniqueConstraint("cafe_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cafe_id: Mapped[int] = mapped_column(ForeignKey("cafe.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    answer: Mapped[str] = mapped_column(String(8))  # yes | maybe | no
    reaction_event_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CafeReaction(Base):
    """Every RSVP reaction still standing, so removing one falls back to the person's previous one."""

    __tablename__ = "cafe_reaction"
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    cafe_id: Mapped[int] = mapped_column(ForeignKey("cafe.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    answer: Mapped[str] = mapped_column(String(8))
    reacted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CafePrompt(Base):
    """A reflection prompt posted in the forum some days before its café."""

    __tablename__ = "cafe_prompt"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cafe_id: Mapped[int] = mapped_column(ForeignKey("cafe.id"), unique=True)
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CompanionRequest(Base):
    """Someone wanting company (``buddy``) or a lift (``ride_need``), or offering seats (``ride_offer``)."""

    __tablename__ = "cafe_companion_request"
    __table_args__ = (UniqueConstraint("cafe_id", "user_id", "kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cafe_id: Mapped[int] = mapped_column(ForeignKey("cafe.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    seats: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A buddy's interests (``walking, music``), normalised, one per line; sealed at rest.
    interests: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)


class CompanionMatch(Base):
    """Two people put together for one café, with the small room made for them.
    For a ride, ``first_user`` drives and ``second_user`` rides along."""

    __tablename__ = "cafe_companion_match"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cafe_id: Mapped[int] = mapped_column(ForeignKey("cafe.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # buddy | ride
    first_user: Mapped[str] = mapped_column(String(255), index=True)
    second_user: Mapped[str] = mapped_column(String(255), index=True)
    room_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FollowupAnswer(Base):
    """A person's answer to "How was it?" the morning after a café: the reaction they tapped
    (``good`` | ``okay`` | ``bad``) and/or the words of their reply, both sealed. The consultant
    only ever sees counts."""

    __tablename__ = "cafe_followup_answer"
    __table_args__ = (UniqueConstraint("cafe_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cafe_id: Mapped[int] = mapped_column(ForeignKey("cafe.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    reaction: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    note: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FollowupOptOut(Base):
    """Someone who asked not to get the after-café question (``!cafe followup off``)."""

    __tablename__ = "cafe_followup_optout"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReminderLedger(Base):
    """One row per scheduled send ever handled (a reminder occurrence, the reactions under an
    announcement): sent, sent late, skipped or paused. Written in the same transaction as the
    outbox row, so each key goes out at most once."""

    __tablename__ = "reminder_ledger"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(512), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)


class SchedulerMark(Base):
    """Named instants, e.g. when the reminder sweep last ran (to find what was due while down)."""

    __tablename__ = "scheduler_mark"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
