"""The personal-data service: everything the bot holds about a person, gathered from every
feature's exporters (``!export``), and its erasure by every feature's erasers (``!forget-me``,
guarded by a confirmation code). The core's own tables are the last to go."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot.db import utcnow
from bot.errors import Invalid
from bot.feature import Feature
from bot.models import ForgetRequest, ManagedRoom, Participant, RoomKind, UserPref
from bot.port import MatrixPort
from bot.roomdir import find_rooms

CODE_LIFETIME = timedelta(minutes=10)
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


def collect(features: Iterable[Feature], session: Session, user_id: str) -> dict[str, Any]:
    """Every feature's export of the person, keyed by feature name."""
    data: dict[str, Any] = {}
    for feature in features:
        for exporter in feature.exporters:
            data.setdefault(feature.name, {}).update(exporter(session, user_id))
    return data


def export_document(features: Iterable[Feature], session: Session, user_id: str,
                    now: datetime | None = None) -> dict[str, Any]:
    """What ``!export`` sends: who and when, then every feature's section."""
    data: dict[str, Any] = {"user_id": user_id, "exported_at": (now or utcnow()).isoformat()}
    return data | collect(features, session, user_id)


def request_code(session: Session, user_id: str, now: datetime | None = None) -> str:
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))
    row = session.get(ForgetRequest, user_id) or ForgetRequest(user_id=user_id)
    row.code, row.expires_at = code, (now or utcnow()) + CODE_LIFETIME
    session.add(row)
    session.flush()
    return code


def check_code(session: Session, user_id: str, code: str, now: datetime | None = None) -> None:
    """Raises Invalid unless ``code`` is the person's current, unexpired confirmation code."""
    row = session.get(ForgetRequest, user_id)
    if row is None or row.expires_at <= (now or utcnow()):
        raise Invalid("core.forget.no_request")
    if not secrets.compare_digest(row.code, code.strip().upper()):
        raise Invalid("core.forget.wrong_code")


def erase_everything(features: Iterable[Feature], session: Session, user_id: str) -> None:
    """Run every feature's eraser, in feature order."""
    for feature in features:
        for eraser in feature.erasers:
            eraser(session, user_id)


async def erase_from_rooms(features: Iterable[Feature], session: Session, port: MatrixPort, user_id: str) -> None:
    """Run every feature's room eraser (after every eraser), in feature order."""
    for feature in features:
        for room_eraser in feature.room_erasers:
            await room_eraser(session, port, user_id)


def provider_rooms(session: Session, user_id: str) -> list[str]:
    """The person's rooms with their providers: the first with each provider, oldest first."""
    linked: dict[str, str] = {}
    for room in find_rooms(session, RoomKind.PROVIDER, owner=user_id):
        if room.partner:
            linked.setdefault(room.partner, room.room_id)
    return list(linked.values())


def delete_person(session: Session, user_id: str) -> None:
    """The last step of forgetting: the person's enrolment, preferences, pending code and the
    rooms recorded as theirs (bot tables). A room that is no longer recorded is just a direct
    chat to the bot."""
    session.execute(delete(ManagedRoom).where(ManagedRoom.owner == user_id))
    session.execute(delete(Participant).where(Participant.user_id == user_id))
    session.execute(delete(UserPref).where(UserPref.user_id == user_id))
    session.execute(delete(ForgetRequest).where(ForgetRequest.user_id == user_id))


async def forget(features: Iterable[Feature], session: Session, port: MatrixPort, user_id: str) -> None:
    """Erase the person everywhere: every feature's data, then the Matrix side (shared rooms,
    then the bot leaves their provider rooms, whose providers keep the history), then the core's
    own rows."""
    loaded = list(features)
    providers = provider_rooms(session, user_id)  # before any eraser runs
    erase_everything(loaded, session, user_id)
    await erase_from_rooms(loaded, session, port, user_id)
    for room_id in providers:
        await port.leave(room_id)
    delete_person(session, user_id)
