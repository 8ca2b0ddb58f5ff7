"""Who may reach peers: bans, mutes, blocks and the daily limits on reveals and circles.

Every command that puts one participant in touch with another asks here first (rooms' own
reveals and circles directly; other features through the ``PeerCheck`` contract, see
``peer_check``). No Matrix here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from bot.contracts import BANNED, BLOCKED, BLOCKING, MUTED
from bot.db import utcnow
from bot.errors import Invalid
from rooms.models import Ban, Block, Circle, Mute, Reveal

DAY = timedelta(days=1)


# --- bans ---------------------------------------------------------------------------------------

def ban(session: Session, user_id: str, by: str) -> Ban:
    row = session.get(Ban, user_id)
    if row is None:
        row = Ban(user_id=user_id, by=by)
        session.add(row)
    row.by, row.at = by, utcnow()
    session.flush()
    return row


def unban(session: Session, user_id: str) -> None:
    session.execute(delete(Ban).where(Ban.user_id == user_id))
    session.flush()


def is_banned(session: Session, user_id: str) -> bool:
    return session.get(Ban, user_id) is not None


def is_muted(session: Session, user_id: str) -> bool:
    return session.get(Mute, user_id) is not None


# --- blocks -------------------------------------------------------------------------------------

def block(session: Session, blocker: str, blocked: str) -> bool:
    """True when newly blocked, False when it already was."""
    if blocker == blocked:
        raise Invalid("rooms.block.self")
    if session.get(Block, (blocker, blocked)) is not None:
        return False
    session.add(Block(blocker=blocker, blocked=blocked))
    session.flush()
    return True


def unblock(session: Session, blocker: str, blocked: str) -> bool:
    """True when a block was lifted, False when there was none."""
    row = session.get(Block, (blocker, blocked))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def blocks(session: Session, blocker: str, blocked: str) -> bool:
    return session.get(Block, (blocker, blocked)) is not None


def blocked_by(session: Session, blocker: str) -> list[str]:
    q = select(Block.blocked).where(Block.blocker == blocker).order_by(Block.at)
    return list(session.scalars(q))


def erase(session: Session, user_id: str) -> None:
    session.execute(delete(Block).where(or_(Block.blocker == user_id, Block.blocked == user_id)))
    session.execute(delete(Ban).where(Ban.user_id == user_id))


# --- may this person reach that one? ------------------------------------------------------------

def peer_check(session: Session, sender: str, receiver: str | None) -> str | None:
    """The ``PeerCheck`` contract: None when ``sender`` may reach ``receiver`` (or any peer, with
    None); else ``banned``, ``muted``, ``blocked`` (the receiver blocked them) or ``blocking``."""
    if is_banned(session, sender):
        return BANNED
    if is_muted(session, sender):
        return MUTED
    if receiver is not None:
        if blocks(session, receiver, sender):
            return BLOCKED
        if blocks(session, sender, receiver):
            return BLOCKING
    return None


def check_may_reach(session: Session, sender: str) -> None:
    """Refuse a banned or muted person any command that reaches peers."""
    reason = peer_check(session, sender, None)
    if reason is not None:
        raise Invalid(f"rooms.standing.{reason}")


# --- daily limits -------------------------------------------------------------------------------

def reveals_today(session: Session, user_id: str, now: datetime) -> int:
    return session.scalar(select(func.count()).select_from(Reveal).where(
        Reveal.sender == user_id, Reveal.created_at > now - DAY)) or 0


def circles_today(session: Session, user_id: str, now: datetime) -> int:
    return session.scalar(select(func.count()).select_from(Circle).where(
        Circle.created_by == user_id, Circle.created_at > now - DAY)) or 0


def check_reveal_limit(session: Session, user_id: str, limit: int, now: datetime | None = None) -> None:
    if reveals_today(session, user_id, now or utcnow()) >= limit:
        raise Invalid("rooms.standing.reveal_limit", limit=limit)


def check_circle_limit(session: Session, user_id: str, limit: int, now: datetime | None = None) -> None:
    if circles_today(session, user_id, now or utcnow()) >= limit:
        raise Invalid("rooms.standing.circle_limit", limit=limit)
