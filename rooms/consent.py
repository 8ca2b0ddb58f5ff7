"""Identity reveals and circles: requests that need the other person's yes.

Nothing is delivered and no room is made before the receiver accepts; requests left pending
longer than the configured expiry lapse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import utcnow
from bot.errors import Invalid
from bot.models import Participant
from rooms import standing
from rooms.enrolment import active_by_pseudonym
from rooms.models import Circle, CircleMember, Reveal

PENDING, ACCEPTED, DECLINED, EXPIRED, LEFT = "pending", "accepted", "declined", "expired", "left"
MAX_CIRCLE = 12


@dataclass(frozen=True)
class Request:
    """Something waiting for a person's !accept or !decline."""

    kind: str  # "reveal" | "circle"
    id: int
    sender: str
    receiver: str
    created_at: datetime


# --- reveals ------------------------------------------------------------------------------------

def ask_reveal(session: Session, sender: Participant, pseudonym: str, message: str,
               limit: int) -> tuple[Reveal, Participant]:
    """Record the request. When the receiver has blocked the sender it is recorded all the same,
    but never shown to them (``reaches`` is False): it lapses like an unanswered one, so the
    sender learns nothing of the block."""
    standing.check_may_reach(session, sender.user_id)
    receiver = active_by_pseudonym(session, pseudonym)
    if receiver.user_id == sender.user_id:
        raise Invalid("rooms.reveal.self")
    if standing.blocks(session, sender.user_id, receiver.user_id):
        raise Invalid("rooms.block.you_blocked", pseudonym=receiver.pseudonym)
    standing.check_reveal_limit(session, sender.user_id, limit)
    open_q = select(Reveal).where(Reveal.sender == sender.user_id, Reveal.receiver == receiver.user_id,
                                  Reveal.status.in_((PENDING, ACCEPTED)))
    if session.scalar(open_q) is not None:
        raise Invalid("rooms.reveal.already", pseudonym=receiver.pseudonym)
    reveal = Reveal(sender=sender.user_id, receiver=receiver.user_id, message=message)
    session.add(reveal)
    session.flush()
    return reveal, receiver


def revealed_by(session: Session, user_id: str) -> list[Reveal]:
    q = (select(Reveal).where(Reveal.sender == user_id, Reveal.status.in_((PENDING, ACCEPTED)))
         .order_by(Reveal.created_at))
    return list(session.scalars(q))


# --- circles ------------------------------------------------------------------------------------

def reaches(session: Session, sender: str, receiver: str) -> bool:
    """Whether a request from ``sender`` is shown to ``receiver``: not when either blocked the
    other, nor while the sender is banned or muted."""
    return standing.peer_check(session, sender, receiver) is None


def create_circle(session: Session, creator: Participant, name: str,
                  pseudonyms: list[str], limit: int) -> tuple[Circle, list[Participant]]:
    """Record the circle and its invitations. An invitee who blocked the creator is recorded like
    the others but never asked (see :func:`reaches`)."""
    standing.check_may_reach(session, creator.user_id)
    invitees: dict[str, Participant] = {}
    for pseudonym in pseudonyms:
        p = active_by_pseudonym(session, pseudonym)
        if p.user_id != creator.user_id:
            if standing.blocks(session, creator.user_id, p.user_id):
                raise Invalid("rooms.block.you_blocked", pseudonym=p.pseudonym)
            invitees[p.user_id] = p
    if not invitees:
        raise Invalid("rooms.circle.nobody")
    if len(invitees) > MAX_CIRCLE:
        raise Invalid("rooms.circle.too_many", max=MAX_CIRCLE)
    standing.check_circle_limit(session, creator.user_id, limit)
    circle = Circle(name=name, created_by=creator.user_id)
    session.add(circle)
    session.flush()
    now = utcnow()
    session.add(CircleMember(circle_id=circle.id, user_id=creator.user_id, status=ACCEPTED, decided_at=now))
    session.add_all(CircleMember(circle_id=circle.id, user_id=u) for u in invitees)
    session.flush()
    return circle, list(invitees.values())


def members(session: Session, circle_id: int, status: str = ACCEPTED) -> list[str]:
    q = select(CircleMember.user_id).where(CircleMember.circle_id == circle_id, CircleMember.status == status)
    return list(session.scalars(q.order_by(CircleMember.decided_at)))


def circle_of_room(session: Session, room_id: str) -> Circle | None:
    return session.scalar(select(Circle).where(Circle.room_id == room_id))


def leave_circle(session: Session, circle: Circle, user_id: str) -> None:
    member = session.get(CircleMember, (circle.id, user_id))
    if member is None or member.status != ACCEPTED:
        raise Invalid("rooms.circle.not_member")
    member.status, member.decided_at = LEFT, utcnow()


def note_left(session: Session, room_id: str, user_id: str) -> None:
    """Someone left a circle's room by themselves."""
    circle = circle_of_room(session, room_id)
    member = session.get(CircleMember, (circle.id, user_id)) if circle is not None else None
    if member is not None and member.status == ACCEPTED:
        member.status, member.decided_at = LEFT, utcnow()


# --- requests to answer -------------------------------------------------------------------------

def pending_for(session: Session, user_id: str) -> list[Request]:
    reveals = session.scalars(select(Reveal).where(Reveal.receiver == user_id, Reveal.status == PENDING))
    circles = session.execute(
        select(CircleMember, Circle).join(Circle, Circle.id == CircleMember.circle_id)
        .where(CircleMember.user_id == user_id, CircleMember.status == PENDING))
    found = [Request("reveal", r.id, r.sender, user_id, r.created_at) for r in reveals]
    found += [Request("circle", c.id, c.created_by, user_id, m.invited_at) for m, c in circles]
    # A request from someone blocked, banned or muted is not shown (it lapses unanswered).
    found = [r for r in found if reaches(session, r.sender, user_id)]
    return sorted(found, key=lambda r: (r.created_at, r.kind, r.id))


def pick(session: Session, user_id: str, n: int | None) -> Request:
    waiting = pending_for(session, user_id)
    if not waiting:
        raise Invalid("rooms.request.none")
    if n is None:
        return waiting[0]
    if not 1 <= n <= len(waiting):
        raise Invalid("rooms.request.no_such", n=n, count=len(waiting))
    return waiting[n - 1]


def decide(session: Session, user_id: str, request: Request, accepted: bool) -> None:
    status, now = (ACCEPTED if accepted else DECLINED), utcnow()
    if request.kind == "reveal":
        reveal = session.get(Reveal, request.id)
        assert reveal is not None
        reveal.status, reveal.decided_at = status, now
        if not accepted:
            reveal.message = None  # a declined message is never kept
    else:
        member = session.get(CircleMember, (request.id, user_id))
        assert member is not None
        member.status, member.decided_at = status, now
    session.flush()


def expire(session: Session, hours: int, now: datetime) -> list[Request]:
    """Lapse requests older than ``hours``; returns them (to tell the askers)."""
    cutoff = now - timedelta(hours=hours)
    lapsed: list[Request] = []
    for r in session.scalars(select(Reveal).where(Reveal.status == PENDING, Reveal.created_at <= cutoff)):
        r.status, r.decided_at, r.message = EXPIRED, now, None
        lapsed.append(Request("reveal", r.id, r.sender, r.receiver, r.created_at))
    rows = session.execute(select(CircleMember, Circle).join(Circle, Circle.id == CircleMember.circle_id)
                           .where(CircleMember.status == PENDING, CircleMember.invited_at <= cutoff))
    for m, c in rows:
        m.status, m.decided_at = EXPIRED, now
        lapsed.append(Request("circle", c.id, c.created_by, m.user_id, m.invited_at))
    session.flush()
    return lapsed
