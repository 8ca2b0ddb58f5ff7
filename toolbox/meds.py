"""The medication overview, with optional daily reminders at the person's local times."""

from __future__ import annotations

from datetime import time
from typing import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, load_only

from bot.errors import Invalid
from bot.timephrase import read_clock
from bot.zones import with_own_zone, zone_or
from toolbox.limits import MAX_MED_TIMES, MAX_MEDS, NAME_MAX
from toolbox.models import Medication
from toolbox.numbering import check_length, ensure_room, pick


def parse_entry(text: str) -> tuple[str, str, list[time]]:
    """``Sertraline 50 mg 08:00 20:00`` -> ("Sertraline", "50 mg", [08:00, 20:00]).

    The first word (or quoted words) is the name, clock times at the end are the times, and
    everything between is the dose.
    """
    text = text.strip()
    if text[:1] in "\"'“":
        close = {"“": "”"}.get(text[0], text[0])
        end = text.find(close, 1)
        if end == -1:
            raise Invalid("toolbox.med.usage")
        name, rest = text[1:end].strip(), text[end + 1:].split()
    else:
        name, *rest = text.split() or [""]
    times: list[time] = []
    while rest and all(_clock(part) for part in rest[-1].split(",") if part):
        parts = [p for p in rest.pop().split(",") if p]
        times[:0] = [clock for clock in map(_clock, parts) if clock is not None]
    dose = " ".join(rest)
    if not name or not dose:
        raise Invalid("toolbox.med.usage")
    if len(times) > MAX_MED_TIMES:
        raise Invalid("toolbox.med.too_many_times", max=MAX_MED_TIMES)
    return name, dose, sorted(set(times))


def _clock(word: str) -> time | None:
    """A medication time: a clock time as read everywhere (``08:00``, ``8.30``, ``8pm``), whole minutes."""
    clock = read_clock(word, bare_ok=False)
    return clock.replace(second=0) if clock is not None else None


def times_of(med: Medication) -> list[time]:
    return [time.fromisoformat(t) for t in med.times.split(",") if t]


def listed(session: Session, user_id: str) -> list[Medication]:
    return list(session.scalars(select(Medication).where(Medication.user_id == user_id).order_by(Medication.id)))


def add(session: Session, user_id: str, name: str, dose: str, times: list[time], zone: str) -> Medication:
    ensure_room(len(listed(session, user_id)), MAX_MEDS, "med")
    med = Medication(user_id=user_id, name=check_length(name, NAME_MAX), dose=check_length(dose, NAME_MAX),
                     times=",".join(t.strftime("%H:%M") for t in times), remind=bool(times), zone=zone)
    session.add(med)
    session.flush()
    return med


def remove(session: Session, user_id: str, n: int) -> Medication:
    med = pick(listed(session, user_id), n, "med")
    session.delete(med)
    session.flush()
    return med


def set_reminders(session: Session, user_id: str, n: int, on: bool) -> Medication:
    med = pick(listed(session, user_id), n, "med")
    if on and not med.times:
        raise Invalid("toolbox.med.no_times")
    med.remind = on
    return med


def with_reminders(session: Session) -> list[Medication]:
    return [med for med, _zone in with_reminders_and_zones(session)]


_DECIDING = (Medication.id, Medication.user_id, Medication.times, Medication.zone, Medication.created_at)
# Ids per ``IN`` list: far below SQLite's and PostgreSQL's limits on bound parameters.
_IN_CHUNK = 500


def with_reminders_and_zones(session: Session) -> list[tuple[Medication, ZoneInfo]]:
    """Every medicine with reminders, with the zone they come in (its person's preference, else the
    medicine's own): one statement, however many people. Only what deciding what is due needs is
    read and opened (the times); the name and the dose stay sealed in the database: read them with
    ``names_and_doses`` for the few that are due (touching ``med.name`` here would read one row
    at a time)."""
    # ``times`` is sealed, so the test for "has times" is made here, not in SQL.
    q = with_own_zone(select(Medication).options(load_only(*_DECIDING)).where(Medication.remind.is_(True)),
                      Medication.user_id)
    return [(med, zone_or(own, med.zone)) for med, own in session.execute(q) if med.times]


def names_and_doses(session: Session, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """The name and dose of each medicine in ``ids`` (those still there), opened: one statement per
    ``_IN_CHUNK`` ids, none for none."""
    wanted = sorted(set(ids))
    found: dict[int, tuple[str, str]] = {}
    for n in range(0, len(wanted), _IN_CHUNK):
        q = select(Medication).options(load_only(Medication.id, Medication.name, Medication.dose)).where(
            Medication.id.in_(wanted[n:n + _IN_CHUNK]))
        found.update((med.id, (med.name, med.dose)) for med in session.scalars(q))
    return found
