"""Enrolment: !start → !consent → !pseudonym → !community → a consultant approves (or enrols
directly). Providers are registered by consultants. Plain functions over a session."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db import utcnow
from bot.errors import Invalid, NotFound
from bot.models import EnrolmentStatus, Participant, Provider
from bot.people import participant_by_pseudonym, pseudonym_key
from rooms.pseudonyms import check_available, check_not_identifying, clean_pseudonym

S = EnrolmentStatus


def start(session: Session, user_id: str) -> Participant:
    p = session.get(Participant, user_id)
    if p is None:
        p = Participant(user_id=user_id, status=S.STARTED.value)
        session.add(p)
        session.flush()
    return p


def consent(session: Session, user_id: str) -> tuple[Participant, bool]:
    """Record consent; returns (participant, now awaiting approval)."""
    p = start(session, user_id)
    if p.consent_at is None:
        p.consent_at = utcnow()
    if p.status == S.STARTED.value:
        p.status = S.CONSENTED.value
    return p, _maybe_pending(p)


def _consented(session: Session, user_id: str) -> Participant:
    p = session.get(Participant, user_id)
    if p is None or p.consent_at is None:
        raise Invalid("rooms.enrol.consent_first")
    return p


def set_pseudonym(session: Session, user_id: str, raw: str,
                  display_name: str | None = None) -> tuple[Participant, bool, str | None]:
    """Returns (participant, now awaiting approval, the name it replaced after approval)."""
    p = _consented(session, user_id)
    name = clean_pseudonym(raw)
    check_not_identifying(name, user_id, display_name)
    check_available(session, name, user_id)
    renamed = p.pseudonym if p.approved_at is not None and p.pseudonym != name else None
    p.pseudonym, p.pseudonym_key = name, pseudonym_key(name)
    session.flush()
    return p, _maybe_pending(p), renamed


def community_name(settings: Settings, raw: str) -> str:
    community = settings.community(raw)
    if community is None:
        raise Invalid("rooms.enrol.no_such_community",
                      communities=", ".join(c.name for c in settings.communities))
    return community.name


def set_community(session: Session, settings: Settings, user_id: str, raw: str) -> tuple[Participant, bool]:
    p = _consented(session, user_id)
    if p.status == S.ACTIVE.value:
        raise Invalid("rooms.enrol.community_fixed")  # moving café rooms is a consultant's job
    p.community = community_name(settings, raw)
    return p, _maybe_pending(p)


def come_back(p: Participant) -> bool:
    """Someone who left sends ``!start`` again: with a pseudonym and community still on file they
    wait for a consultant again (and are listed in ``!pending``). True if they just did."""
    if p.status == S.LEFT.value and p.pseudonym and p.community:
        p.status = S.PENDING.value
        return True
    return False


def _maybe_pending(p: Participant) -> bool:
    """Move to "pending" when everything a consultant needs is there; True if it just did."""
    ready = p.consent_at is not None and p.pseudonym and p.community
    if ready and p.status in (S.STARTED.value, S.CONSENTED.value):
        p.status = S.PENDING.value
        return True
    return False


def awaiting_approval(session: Session) -> list[Participant]:
    q = select(Participant).where(Participant.status == S.PENDING.value).order_by(Participant.created_at)
    return list(session.scalars(q))


def by_pseudonym(session: Session, pseudonym: str) -> Participant:
    p = participant_by_pseudonym(session, pseudonym)
    if p is None:
        raise NotFound("rooms.no_such_pseudonym", pseudonym=pseudonym)
    return p


def active_by_pseudonym(session: Session, pseudonym: str) -> Participant:
    p = by_pseudonym(session, pseudonym)
    if p.status != S.ACTIVE.value:
        raise NotFound("rooms.no_such_pseudonym", pseudonym=pseudonym)
    return p


# Approval, direct enrolment and leaving come in two steps, a check and a change, so that the
# Matrix effects (invites, new rooms) happen in between, before this transaction writes anything.

def approvable(session: Session, pseudonym: str) -> Participant:
    p = by_pseudonym(session, pseudonym)
    if p.status == S.ACTIVE.value:
        raise Invalid("rooms.enrol.already_active", pseudonym=p.pseudonym)
    if p.status not in (S.PENDING.value, S.LEFT.value) or not p.community:
        raise Invalid("rooms.enrol.not_ready", pseudonym=p.pseudonym)
    return p


def enrollable(session: Session, settings: Settings, user_id: str, pseudonym: str,
               community: str) -> tuple[str, str]:
    """The cleaned pseudonym and community for a direct enrolment, or a domain error."""
    name = clean_pseudonym(pseudonym)
    check_not_identifying(name, user_id)
    check_available(session, name, user_id)
    p = session.get(Participant, user_id)
    if p is not None and p.status == S.ACTIVE.value:
        raise Invalid("rooms.enrol.already_active", pseudonym=p.pseudonym)
    return name, community_name(settings, community)


def enroll(session: Session, user_id: str, name: str, community: str, by: str) -> Participant:
    """A consultant enrols someone directly (consent given in person); checked by :func:`enrollable`."""
    p = start(session, user_id)
    p.pseudonym, p.pseudonym_key, p.community = name, pseudonym_key(name), community
    p.consent_at = p.consent_at or utcnow()
    activate(p, by)
    session.flush()
    return p


def activate(p: Participant, by: str) -> None:
    p.status = S.ACTIVE.value
    p.approved_at = utcnow()
    p.approved_by = by


def active(session: Session, user_id: str) -> Participant:
    p = session.get(Participant, user_id)
    if p is None or p.status != S.ACTIVE.value:
        raise Invalid("rooms.enrol.not_active")
    return p


def add_provider(session: Session, user_id: str, by: str) -> Provider:
    if session.get(Provider, user_id) is not None:
        raise Invalid("rooms.provider.already", user=user_id)
    if (p := session.get(Participant, user_id)) is not None and p.status == S.ACTIVE.value:
        raise Invalid("rooms.provider.is_participant", user=user_id)
    provider = Provider(user_id=user_id, added_by=by)
    session.add(provider)
    session.flush()
    return provider


def remove_provider(session: Session, user_id: str) -> None:
    """Unregister a provider: from now on they have no provider role (no ``!view``, no ``!hours``)."""
    session.delete(provider(session, user_id))
    session.flush()


def provider(session: Session, user_id: str) -> Provider:
    found = session.get(Provider, user_id)
    if found is None:
        raise NotFound("rooms.provider.unknown", user=user_id)
    return found
