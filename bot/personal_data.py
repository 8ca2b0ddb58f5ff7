"""The personal-data service: everything the bot holds about a person, gathered from every
feature's exporters (``!export``), and its erasure by every feature's erasers (``!forget-me``,
guarded by a confirmation code). The core's own tables are the last to go."""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from bot.db import utcnow
from bot.errors import Invalid
from bot.feature import Feature
from bot.models import (
    ForgetRequest,
    HandledEvent,
    ManagedRoom,
    OutboxMessage,
    Participant,
    RoomKind,
    SentEvent,
    UndecryptableNotice,
    UploadedMedia,
    UserPref,
)
from bot.port import MatrixPort
from bot.roomdir import find_rooms

log = logging.getLogger(__name__)
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
    return data | own_rows(session, user_id) | collect(features, session, user_id)


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def own_rows(session: Session, user_id: str) -> dict[str, Any]:
    """The core's rows about the person: enrolment (pseudonym, community, consent and approval
    dates) and preferences."""
    p = session.get(Participant, user_id)
    pref = session.get(UserPref, user_id)
    return {
        "enrolment": None if p is None else {
            "status": p.status, "pseudonym": p.pseudonym, "community": p.community,
            "started_at": _when(p.created_at), "consent_at": _when(p.consent_at), "approved_at": _when(p.approved_at),
        },
        "preferences": None if pref is None else {
            "language": pref.language, "timezone": pref.timezone, "on_break": pref.on_break,
            "break_until": _when(pref.break_until),
        },
    }


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


@dataclass(frozen=True)
class PrivateRooms:
    """The rooms that were the person's alone with the bot (and one provider or one peer): the bot
    leaves each after erasure, so their history cannot be read with the bot's keys."""

    providers: dict[str, str] = field(default_factory=dict)  # provider room -> the provider
    own: tuple[str, ...] = ()  # toolbox, buddy and ride rooms, direct chats

    @property
    def all(self) -> list[str]:
        return list(dict.fromkeys([*self.providers, *self.own]))


def private_rooms(session: Session, user_id: str, direct_chats: Iterable[str] = ()) -> PrivateRooms:
    providers = {r.room_id: r.partner or "" for r in find_rooms(session, RoomKind.PROVIDER, owner=user_id)}
    own = [r.room_id for r in find_rooms(session, RoomKind.TOOLBOX, owner=user_id)]
    own += [r.room_id for r in session.scalars(select(ManagedRoom).where(
        ManagedRoom.kind == RoomKind.BUDDY.value, or_(ManagedRoom.owner == user_id, ManagedRoom.partner == user_id)))]
    # A room the bot built for something else (a forum with one member, say) is never a direct chat.
    own += [r for r in direct_chats if session.get(ManagedRoom, r) is None]
    return PrivateRooms(providers=providers, own=tuple(dict.fromkeys(own)))


def _drop_mentions(session: Session, user_id: str, rooms: list[str]) -> None:
    """Queued messages: those to the person's private rooms go; elsewhere, a message that names
    them (a café reminder's mentions, say) loses the mention, or goes if it names them otherwise."""
    session.execute(delete(OutboxMessage).where(OutboxMessage.room_id.in_(rooms)))
    for row in session.scalars(select(OutboxMessage)):
        if user_id not in row.content:
            continue
        content = json.loads(row.content)
        mentions = content.get("m.mentions") if isinstance(content, dict) else None
        if isinstance(mentions, dict) and isinstance(mentions.get("user_ids"), list):
            mentions["user_ids"] = [u for u in mentions["user_ids"] if u != user_id]
        text = json.dumps(content, ensure_ascii=False)
        if user_id in text:
            session.delete(row)
        else:
            row.content = text


def delete_person(session: Session, user_id: str, rooms: Iterable[str] = ()) -> None:
    """The last step of forgetting: the core's rows about the person — enrolment, preferences,
    pending code, undecryptable-message notices, the rooms recorded as theirs — and every trace of
    their private rooms (handled and sent events, queued messages). A circle they started stays
    a circle for the others, just no longer recorded as theirs."""
    room_ids = list(rooms)
    session.execute(update(ManagedRoom).where(ManagedRoom.owner == user_id, ManagedRoom.kind == RoomKind.CIRCLE.value)
                    .values(owner=None))
    session.execute(delete(ManagedRoom).where(or_(ManagedRoom.owner == user_id, ManagedRoom.partner == user_id,
                                                  ManagedRoom.room_id.in_(room_ids))))
    session.execute(delete(Participant).where(Participant.user_id == user_id))
    session.execute(delete(UserPref).where(UserPref.user_id == user_id))
    session.execute(delete(ForgetRequest).where(ForgetRequest.user_id == user_id))
    session.execute(delete(UndecryptableNotice).where(UndecryptableNotice.sender == user_id))
    session.execute(delete(HandledEvent).where(HandledEvent.room_id.in_(room_ids)))
    session.execute(delete(SentEvent).where(SentEvent.room_id.in_(room_ids)))
    _drop_mentions(session, user_id, room_ids)
    session.flush()


async def forget(features: Iterable[Feature], session: Session, port: MatrixPort, user_id: str,
                 direct_chats: Iterable[str] = ()) -> PrivateRooms:
    """Erase the person everywhere: every feature's data, then the Matrix side (out of the shared
    rooms), then the core's own rows. Returns their private rooms, which the caller tells (a
    provider learns the shared items are gone) and then leaves through the outbox
    (:func:`bot.outbox.enqueue_leave`), after its last message there is sent."""
    loaded = list(features)
    rooms = private_rooms(session, user_id, direct_chats)  # before any eraser runs
    erase_everything(loaded, session, user_id)
    await erase_from_rooms(loaded, session, port, user_id)
    await delete_media(session, port, user_id)
    delete_person(session, user_id, rooms.all)
    return rooms


async def delete_media(session: Session, port: MatrixPort, user_id: str) -> tuple[int, int]:
    """Ask the homeserver to delete every file uploaded for the person, and forget the list;
    (deleted, refused). A refused file stays on the homeserver as ciphertext whose key was only in
    the events of rooms the bot then leaves and forgets."""
    urls = list(session.scalars(select(UploadedMedia.url).where(UploadedMedia.owner == user_id)))
    deleted = 0
    for url in urls:
        try:
            deleted += await port.delete_media(url)
        except Exception as exc:  # noqa: BLE001 - an unreachable media API must not stop the erasure
            log.warning("deleting an uploaded file failed (%s)", type(exc).__name__)
    session.execute(delete(UploadedMedia).where(UploadedMedia.owner == user_id))
    if urls:
        log.info("forget-me: %d of %d uploaded files deleted by the homeserver", deleted, len(urls))
    return deleted, len(urls) - deleted
