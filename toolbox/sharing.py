"""Sharing toolbox items with the person's own providers, and the log of every provider view."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.db import utcnow
from bot.errors import Invalid, NotFound
from bot.models import RoomKind
from bot.roomdir import find_rooms
from toolbox.models import Share, ShareView

SHARE_ITEMS: tuple[str, ...] = ("goals", "activities", "moods", "network", "crisis-plan", "meds", "overview")
ITEM_WORDS: dict[str, str] = {i: i for i in SHARE_ITEMS} | {
    "goal": "goals", "mål": "goals", "activity": "activities", "aktiviteter": "activities",
    "aktivitetsplan": "activities", "mood": "moods", "humør": "moods", "network": "network",
    "nettverk": "network", "crisis": "crisis-plan", "crisisplan": "crisis-plan", "kriseplan": "crisis-plan",
    "med": "meds", "medications": "meds", "medisiner": "meds", "legemidler": "meds",
    "recovery-overview": "overview", "oversikt": "overview", "bedringsoversikt": "overview",
}
VIEW_LOG_SHOWN = 20


def item_of(word: str) -> str:
    item = ITEM_WORDS.get(word.casefold())
    if item is None:
        raise Invalid("toolbox.share.no_item")
    return item


def linked_providers(session: Session, user_id: str) -> dict[str, str]:
    """The person's providers (those with a provider room with them) -> that room, oldest first."""
    linked: dict[str, str] = {}
    for room in find_rooms(session, RoomKind.PROVIDER, owner=user_id):
        if room.partner:
            linked.setdefault(room.partner, room.room_id)
    return linked


def resolve_provider(linked: dict[str, str | None], text: str) -> str:
    """One of ``linked`` (provider id -> display label) named by its number in ``!providers``,
    Matrix id, localpart or label."""
    wanted = " ".join(text.split()).casefold()
    if wanted.isdigit():
        ids = list(linked)
        n = int(wanted)
        if 1 <= n <= len(ids):
            return ids[n - 1]
        raise NotFound("toolbox.share.no_provider")
    for matcher in (
        lambda uid, label: uid.casefold() == wanted,
        lambda uid, label: uid[1:].split(":")[0].casefold() == wanted.lstrip("@"),
        lambda uid, label: bool(label) and " ".join(label.split()).casefold() == wanted,
    ):
        found = [uid for uid, label in linked.items() if matcher(uid, label)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise Invalid("toolbox.share.ambiguous")
    raise NotFound("toolbox.share.no_provider")


def share(session: Session, user_id: str, item: str, provider_id: str) -> bool:
    """True when newly shared, False when it already was."""
    exists = session.scalar(select(Share).where(Share.user_id == user_id, Share.provider_id == provider_id,
                                                Share.item == item))
    if exists is not None:
        return False
    session.add(Share(user_id=user_id, provider_id=provider_id, item=item))
    session.flush()
    return True


def unshare(session: Session, user_id: str, item: str, provider_id: str | None = None) -> int:
    """Stop sharing ``item`` (with one provider, or with all); returns how many shares ended."""
    q = delete(Share).where(Share.user_id == user_id, Share.item == item)
    if provider_id is not None:
        q = q.where(Share.provider_id == provider_id)
    return session.execute(q).rowcount or 0


def shares(session: Session, user_id: str) -> list[Share]:
    q = select(Share).where(Share.user_id == user_id).order_by(Share.provider_id, Share.item)
    return list(session.scalars(q))


def shared_with(session: Session, user_id: str, provider_id: str) -> list[str]:
    """The items ``user_id`` shares with ``provider_id``, in the usual order."""
    items = set(session.scalars(select(Share.item).where(Share.user_id == user_id, Share.provider_id == provider_id)))
    return [i for i in SHARE_ITEMS if i in items]


def is_shared(session: Session, user_id: str, provider_id: str, item: str) -> bool:
    return session.scalar(select(Share.id).where(Share.user_id == user_id, Share.provider_id == provider_id,
                                                 Share.item == item)) is not None


def record_view(session: Session, user_id: str, provider_id: str, item: str,
                now: datetime | None = None) -> bool:
    """Log a provider's request to see ``item``; True when it is shared (and may be shown)."""
    shown = is_shared(session, user_id, provider_id, item)
    session.add(ShareView(user_id=user_id, provider_id=provider_id, item=item, shown=shown,
                          viewed_at=now or utcnow()))
    session.flush()
    return shown


def views(session: Session, user_id: str, limit: int = VIEW_LOG_SHOWN, offset: int = 0) -> list[ShareView]:
    """Provider views, newest first: ``limit`` of them after the ``offset`` newest."""
    q = (select(ShareView).where(ShareView.user_id == user_id)
         .order_by(ShareView.viewed_at.desc(), ShareView.id.desc()).offset(offset).limit(limit))
    return list(session.scalars(q))


def view_count(session: Session, user_id: str) -> int:
    return session.scalar(select(func.count()).select_from(ShareView).where(ShareView.user_id == user_id)) or 0
