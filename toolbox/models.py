"""The toolbox's tables. Every row carries ``user_id`` so export and erasure are one query per
table; every piece of free text the person writes is an :class:`EncryptedText` column."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, EncryptedText, SealedBool, SealedDate, SealedInt, UTCDateTime, utcnow


class Goal(Base):
    __tablename__ = "toolbox_goal"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    area: Mapped[str | None] = mapped_column(String(16), nullable=True)  # a LIFE_AREAS id
    text: Mapped[str] = mapped_column(EncryptedText)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GoalStep(Base):
    __tablename__ = "toolbox_goal_step"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("toolbox_goal.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    text: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Activity(Base):
    __tablename__ = "toolbox_activity"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    text: Mapped[str] = mapped_column(EncryptedText)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    importance: Mapped[int | None] = mapped_column(SealedInt, nullable=True)  # 1-5
    enjoyment: Mapped[int | None] = mapped_column(SealedInt, nullable=True)  # 1-5
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MoodEntry(Base):
    __tablename__ = "toolbox_mood"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    score: Mapped[int] = mapped_column(SealedInt)  # 1-10
    note: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class DiaryEntry(Base):
    __tablename__ = "toolbox_diary"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    text: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NetworkContact(Base):
    __tablename__ = "toolbox_network_contact"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(EncryptedText)
    circle: Mapped[str] = mapped_column(String(16))  # a CIRCLES id
    note: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CrisisItem(Base):
    __tablename__ = "toolbox_crisis_item"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    section: Mapped[str] = mapped_column(EncryptedText)  # a SECTIONS id
    text: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CrisisPlanMeta(Base):
    """The plan's review date and when it last changed."""

    __tablename__ = "toolbox_crisis_plan"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    review_on: Mapped[date | None] = mapped_column(SealedDate, nullable=True)
    # The day (in the person's zone) they last went through the plan with ``!crisis review``.
    reviewed_on: Mapped[date | None] = mapped_column(SealedDate, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Medication(Base):
    __tablename__ = "toolbox_medication"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(EncryptedText)
    dose: Mapped[str] = mapped_column(EncryptedText)
    # "08:00,20:00" local times; sealed: the reminder source reads them per row, no query needs them.
    times: Mapped[str] = mapped_column(EncryptedText, default="")
    remind: Mapped[bool] = mapped_column(Boolean, default=True)
    # The person's zone when the times were given; reminders use their current preference first.
    zone: Mapped[str] = mapped_column(String(64), default="Europe/Oslo")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Share(Base):
    """One item the person shares with one of their providers."""

    __tablename__ = "toolbox_share"
    __table_args__ = (UniqueConstraint("user_id", "provider_id", "item"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    provider_id: Mapped[str] = mapped_column(String(255), index=True)
    item: Mapped[str] = mapped_column(String(16))  # a SHARE_ITEMS id
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ShareView(Base):
    """Every ``!view`` a provider made, shown or refused, for the person to read."""

    __tablename__ = "toolbox_share_view"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    # Who looked at what is sealed; the log is only ever read by its owner (``user_id``).
    provider_id: Mapped[str] = mapped_column(EncryptedText)
    item: Mapped[str] = mapped_column(EncryptedText)
    shown: Mapped[bool] = mapped_column(SealedBool)
    viewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExerciseProgress(Base):
    """Where the person is in the exercise they are doing (one at a time)."""

    __tablename__ = "toolbox_exercise_progress"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    exercise: Mapped[str] = mapped_column(String(64))
    step: Mapped[int] = mapped_column(Integer, default=0)  # index of the step last shown
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OverviewMonthly(Base):
    """The person asked for their recovery overview on the 1st of each month (``!overview monthly
    on``); the row is the opt-in, removed by ``off``."""

    __tablename__ = "toolbox_overview_monthly"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    # The person's zone when they opted in; the sending uses their current preference first.
    zone: Mapped[str] = mapped_column(String(64), default="Europe/Oslo")
    # Nothing is owed from before this (an opt-in late on the 1st waits for the next month).
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CrisisReview(Base):
    """Where the person is in the review conversation (``!crisis review`` without a date): kept
    in the database so an answer after a restart still lands in the right section."""

    __tablename__ = "toolbox_crisis_review"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    # Index into crisis_plan.SECTIONS of the section asked about; len(SECTIONS) asks for the next date.
    step: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # the last question
    # The outbox transaction of the last question: a Matrix reply counts as an answer only when it
    # replies to that question (a reply to another message, such as a check-in prompt, is not one).
    question_txn: Mapped[str | None] = mapped_column(String(64), nullable=True)


class CheckinSetting(Base):
    """The daily check-in a person opted into (``!checkin on 20:00``); no row: off."""

    __tablename__ = "toolbox_checkin"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    clock: Mapped[str] = mapped_column(EncryptedText)  # "20:00", local; sealed like medication times
    # The person's zone when it was set; prompts use their current preference first.
    zone: Mapped[str] = mapped_column(String(64), default="Europe/Oslo")
    # A prompt whose time had passed when this was set is not owed.
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CheckinAnswer(Base):
    """The answer to one day's check-in prompt: the mood it logged (a later answer to the same
    prompt changes it), or words written before a number was given."""

    __tablename__ = "toolbox_checkin_answer"
    __table_args__ = (UniqueConstraint("user_id", "day"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    day: Mapped[date] = mapped_column(Date)  # the local day of the prompt
    mood_id: Mapped[int | None] = mapped_column(ForeignKey("toolbox_mood.id", ondelete="SET NULL"), nullable=True)
    note: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)  # words waiting for a number
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


PERSONAL_TABLES: tuple[type[Base], ...] = (
    CheckinAnswer, CheckinSetting, GoalStep, Goal, Activity, MoodEntry, DiaryEntry, NetworkContact, CrisisItem,
    CrisisPlanMeta, Medication, Share, ShareView, ExerciseProgress, OverviewMonthly, CrisisReview,
)
