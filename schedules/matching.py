"""Lowering the threshold to come: café buddies (company to arrive together) and lifts.

Requests wait until a match exists; the caller makes the small room and records the match.
First come, first matched, among people who may be put in touch (``MayPair``: nobody banned or
muted, nobody who blocked the other). A buddy may name interests (``walking, music``): someone
waiting who shares one is preferred, else the match is made as before.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Callable, Sequence

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from bot.errors import Invalid
from schedules.models import CompanionMatch, CompanionRequest

BUDDY, RIDE_OFFER, RIDE_NEED = "buddy", "ride_offer", "ride_need"
MAX_SEATS = 8
MAX_INTERESTS = 5
MAX_INTEREST_CHARS = 40
_SEPARATORS = re.compile(r"[,;\n]+")
_EDGES = " \t.!?:\"'()[]{}«»“”‘’-–—*_"
# Whether these two people may be put in touch (bot.contracts.may_pair, bound to a session).
MayPair = Callable[[str, str], bool]


def parse_interests(text: str | None) -> list[str]:
    """``"Walking,  music; Gå tur"`` -> ``["walking", "music", "gå tur"]``: comma- (or semicolon-)
    separated, each normalised (Unicode NFKC, case folded, inner spaces collapsed, edge
    punctuation dropped), repeats dropped. Invalid when there are too many or one is too long."""
    found: list[str] = []
    for part in _SEPARATORS.split(text or ""):
        word = " ".join(unicodedata.normalize("NFKC", part).casefold().split()).strip(_EDGES)
        if not word or word in found:
            continue
        if len(word) > MAX_INTEREST_CHARS:
            raise Invalid("schedules.buddy.interest_too_long", max=MAX_INTEREST_CHARS)
        found.append(word)
    if len(found) > MAX_INTERESTS:
        raise Invalid("schedules.buddy.too_many_interests", max=MAX_INTERESTS)
    return found


def interests_of(request: CompanionRequest) -> list[str]:
    return [w for w in (request.interests or "").split("\n") if w]


def shared_interests(session: Session, cafe_id: int, first: str, second: str) -> list[str]:
    """The interests both named when asking for company (in the first person's order)."""
    a, b = _request(session, cafe_id, first, BUDDY), _request(session, cafe_id, second, BUDDY)
    if a is None or b is None:
        return []
    theirs = set(interests_of(b))
    return [w for w in interests_of(a) if w in theirs]


def _request(session: Session, cafe_id: int, user_id: str, kind: str) -> CompanionRequest | None:
    return session.scalar(select(CompanionRequest).where(
        CompanionRequest.cafe_id == cafe_id, CompanionRequest.user_id == user_id, CompanionRequest.kind == kind))


def _matches(session: Session, cafe_id: int, kind: str) -> list[CompanionMatch]:
    q = select(CompanionMatch).where(CompanionMatch.cafe_id == cafe_id, CompanionMatch.kind == kind)
    return list(session.scalars(q))


def _add(session: Session, cafe_id: int, user_id: str, kind: str, now: datetime,
         seats: int | None = None) -> CompanionRequest:
    row = CompanionRequest(cafe_id=cafe_id, user_id=user_id, kind=kind, seats=seats, created_at=now)
    session.add(row)
    session.flush()
    return row


def _waiting(session: Session, cafe_id: int, kind: str, exclude: str) -> list[CompanionRequest]:
    q = select(CompanionRequest).where(CompanionRequest.cafe_id == cafe_id, CompanionRequest.kind == kind,
                                       CompanionRequest.user_id != exclude)
    return list(session.scalars(q.order_by(CompanionRequest.created_at, CompanionRequest.id)))


def ask_buddy(session: Session, cafe_id: int, user_id: str, now: datetime, may_pair: MayPair,
              interests: Sequence[str] = ()) -> str | None:
    """Record the wish for company (with the interests named, already parsed); returns the
    waiting person to pair with, if any."""
    if _request(session, cafe_id, user_id, BUDDY) is not None:
        raise Invalid("schedules.buddy.already")
    row = _add(session, cafe_id, user_id, BUDDY, now)
    if interests:
        row.interests = "\n".join(interests)
        session.flush()
    return buddy_for(session, cafe_id, user_id, may_pair)


def buddy_for(session: Session, cafe_id: int, user_id: str, may_pair: MayPair) -> str | None:
    """The longest-waiting unpaired person who wants company for this café, other than
    ``user_id``, preferring one who shares an interest with them."""
    paired = {u for m in _matches(session, cafe_id, BUDDY) for u in (m.first_user, m.second_user)}
    own = _request(session, cafe_id, user_id, BUDDY)
    mine = set(interests_of(own)) if own is not None else set()
    candidates = [other for other in _waiting(session, cafe_id, BUDDY, exclude=user_id)
                  if other.user_id not in paired and may_pair(user_id, other.user_id)]
    sharing = [other for other in candidates if mine & set(interests_of(other))]
    chosen = (sharing or candidates)[:1]
    return chosen[0].user_id if chosen else None


def free_seats(session: Session, cafe_id: int, driver: str) -> int:
    offer = _request(session, cafe_id, driver, RIDE_OFFER)
    if offer is None:
        return 0
    taken = sum(1 for m in _matches(session, cafe_id, "ride") if m.first_user == driver)
    return max(0, (offer.seats or 0) - taken)


def _riding(session: Session, cafe_id: int) -> set[str]:
    return {m.second_user for m in _matches(session, cafe_id, "ride")}


def offer_ride(session: Session, cafe_id: int, driver: str, seats: int, now: datetime,
               may_pair: MayPair) -> list[str]:
    """Record an offer; returns the waiting passengers it can take now (oldest first)."""
    if not 1 <= seats <= MAX_SEATS:
        raise Invalid("schedules.ride.bad_seats", max=MAX_SEATS)
    if _request(session, cafe_id, driver, RIDE_OFFER) is not None:
        raise Invalid("schedules.ride.already_offered")
    if _request(session, cafe_id, driver, RIDE_NEED) is not None:
        raise Invalid("schedules.ride.both")
    _add(session, cafe_id, driver, RIDE_OFFER, now, seats=seats)
    return passengers_for(session, cafe_id, driver, may_pair)


def passengers_for(session: Session, cafe_id: int, driver: str, may_pair: MayPair) -> list[str]:
    """Waiting passengers (oldest first) for the driver's free seats."""
    riding = _riding(session, cafe_id)
    waiting = [r.user_id for r in _waiting(session, cafe_id, RIDE_NEED, exclude=driver)
               if r.user_id not in riding and may_pair(driver, r.user_id)]
    return waiting[:free_seats(session, cafe_id, driver)]


def need_ride(session: Session, cafe_id: int, passenger: str, now: datetime, may_pair: MayPair) -> str | None:
    """Record a need; returns a driver with a free seat, if any (the earliest offer)."""
    if _request(session, cafe_id, passenger, RIDE_NEED) is not None:
        raise Invalid("schedules.ride.already_asked")
    if _request(session, cafe_id, passenger, RIDE_OFFER) is not None:
        raise Invalid("schedules.ride.both")
    _add(session, cafe_id, passenger, RIDE_NEED, now)
    return driver_for(session, cafe_id, passenger, may_pair)


def driver_for(session: Session, cafe_id: int, passenger: str, may_pair: MayPair) -> str | None:
    for offer in _waiting(session, cafe_id, RIDE_OFFER, exclude=passenger):
        if free_seats(session, cafe_id, offer.user_id) > 0 and may_pair(offer.user_id, passenger):
            return offer.user_id
    return None


def record_match(session: Session, cafe_id: int, kind: str, first: str, second: str, room_id: str,
                 now: datetime) -> CompanionMatch:
    match = CompanionMatch(cafe_id=cafe_id, kind=kind, first_user=first, second_user=second, room_id=room_id,
                           created_at=now)
    session.add(match)
    session.flush()
    return match


def withdraw(session: Session, cafe_id: int, user_id: str, kinds: tuple[str, ...]) -> list[CompanionMatch]:
    """Withdraw this person's requests of these kinds; returns the matches that are undone (the
    other person's request stands and may be matched again). Invalid when there was nothing."""
    requests = [r for k in kinds if (r := _request(session, cafe_id, user_id, k)) is not None]
    if not requests:
        raise Invalid("schedules.companion.nothing_to_cancel")
    match_kind = BUDDY if BUDDY in kinds else "ride"
    undone = [m for m in _matches(session, cafe_id, match_kind) if user_id in (m.first_user, m.second_user)]
    for row in [*requests, *undone]:
        session.delete(row)
    session.flush()
    return undone


def requests_of(session: Session, user_id: str) -> list[CompanionRequest]:
    q = select(CompanionRequest).where(CompanionRequest.user_id == user_id)
    return list(session.scalars(q.order_by(CompanionRequest.id)))


def erase_person(session: Session, user_id: str) -> None:
    session.execute(delete(CompanionRequest).where(CompanionRequest.user_id == user_id))
    session.execute(delete(CompanionMatch).where(
        or_(CompanionMatch.first_user == user_id, CompanionMatch.second_user == user_id)))
