"""Guided exercises: where each person is, one step at a time, at their own pace."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.db import utcnow
from bot.errors import NotFound
from toolbox.content import Page, by_id, find
from toolbox.models import ExerciseProgress

FOLDER = "exercises"


def start(session: Session, user_id: str, lang: str, name: str) -> Page:
    """Begin (or restart) an exercise at its first step."""
    page = find(FOLDER, lang, name)
    progress = session.get(ExerciseProgress, user_id)
    if progress is None:
        progress = ExerciseProgress(user_id=user_id, exercise=page.id)
        session.add(progress)
    progress.exercise, progress.step, progress.started_at = page.id, 0, utcnow()
    session.flush()
    return page


def _current(session: Session, user_id: str, lang: str) -> tuple[ExerciseProgress, Page]:
    progress = session.get(ExerciseProgress, user_id)
    page = by_id(FOLDER, lang, progress.exercise) if progress is not None else None
    if progress is None or page is None:
        raise NotFound("toolbox.exercise.none_running")
    return progress, page


def advance(session: Session, user_id: str, lang: str) -> tuple[Page, int] | None:
    """Move to the next step: (exercise, step index), or None when the last step was shown
    (the exercise then ends). Raises NotFound when no exercise is under way."""
    progress, page = _current(session, user_id, lang)
    progress.step += 1
    if progress.step >= len(page.steps):
        session.delete(progress)
        session.flush()
        return None
    return page, progress.step


def stop(session: Session, user_id: str, lang: str) -> Page:
    progress, page = _current(session, user_id, lang)
    session.delete(progress)
    session.flush()
    return page
