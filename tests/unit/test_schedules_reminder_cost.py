"""Issue 13: the planner and every sweep list what is due (a sweep looks back over the grace period);
a café's private reminders and follow-up questions, and the personal reminders of every feature,
find their toolbox rooms and who is asked in a fixed number of statements, not one per person, and
a sweep learns which of them the ledger has seen (and which reaction rows are seeded) alike."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import event, select

from bot.contracts import DueReminder
from bot.models import EnrolmentStatus, Participant, RoomKind, SentEvent
from bot.roomdir import register_room
from schedules.delivery import sweep, txn_for
from schedules.models import Cafe, FollowupOptOut, ReminderLedger, Rsvp
from schedules.reminders import collect
from tests.support.core import statements
from tests.support.schedules import CAFE_NORTH, toolbox_of, user

UTC = timezone.utc
STARTS = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)  # 18:00 in Oslo; the private reminder 2 h before
START = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
END = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)  # the follow-up is asked at 10:00 Oslo the next day
PERSONAL_AT = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)


def add_people(s, cafe_id: int, names: list[str]) -> None:
    for name in names:
        s.add(Participant(user_id=user(name), status=EnrolmentStatus.ACTIVE.value, pseudonym=name.title(),
                          pseudonym_key=name, community="North"))
        register_room(s, toolbox_of(name), RoomKind.TOOLBOX, owner=user(name))
        s.add(Rsvp(cafe_id=cafe_id, user_id=user(name), answer="yes", updated_at=STARTS - timedelta(days=2)))


def personal(session, start: datetime, end: datetime) -> list[DueReminder]:
    """A feature's reminder for everyone enrolled, due in the window."""
    people = session.query(Participant.user_id).order_by(Participant.user_id).all()
    return [DueReminder(key=f"test:{user_id}", user_id=user_id, due_at=PERSONAL_AT, message_key="x")
            for (user_id,) in people if start <= PERSONAL_AT < end]


def statements_and_due(db, settings):
    with statements(db.engine) as seen, db.session() as s:
        found = collect(s, settings, [personal], START, END, digest_sources=[])
        rows = [(d.key.split(":")[0], d.user_id, d.room_id) for d in found if d.user_id is not None]
    return len(seen) - 1, rows  # less the one statement of ``personal`` itself


def test_cafe_and_personal_reminders_cost_as_much_for_200_people_as_for_5(db, settings):
    with db.session() as s:
        register_room(s, CAFE_NORTH, RoomKind.CAFE, community="North")
        cafe = Cafe(community="North", starts_at=STARTS, place="Library", created_by=user("host"),
                    created_at=STARTS - timedelta(days=7))
        s.add(cafe)
        s.flush()
        cafe_id = cafe.id
        add_people(s, cafe_id, [f"p{n:03d}" for n in range(5)])
        s.add(FollowupOptOut(user_id=user("p001"), since=STARTS - timedelta(days=9)))  # not asked after
        s.get(Participant, user("p002")).status = EnrolmentStatus.LEFT.value  # nor is someone who left
    few, rows = statements_and_due(db, settings)
    by_kind = {kind: sorted((u, r) for k, u, r in rows if k == kind) for kind in ("cafe-private", "cafe-followup",
                                                                                   "test")}
    everyone = [(user(f"p{n:03d}"), toolbox_of(f"p{n:03d}")) for n in range(5)]
    assert by_kind["cafe-private"] == everyone and by_kind["test"] == everyone
    assert by_kind["cafe-followup"] == [everyone[n] for n in (0, 3, 4)]
    with db.session() as s:
        add_people(s, cafe_id, [f"p{n:03d}" for n in range(5, 200)])
    many, rows = statements_and_due(db, settings)
    assert len([r for r in rows if r[0] == "cafe-private"]) == 200
    assert len([r for r in rows if r[0] == "cafe-followup"]) == 198
    assert all(room == toolbox_of(u.split(":")[0][1:]) for _, u, room in rows)
    assert many == few, (few, many)


def test_a_sweep_over_hundreds_already_sent_and_seeded_costs_as_much_as_over_five(db, services):
    """A sweep looks back over the grace period: what it finds already in the ledger (sent, and its
    reaction row seeded) is known from one look at the ledger, not one per reminder."""
    people: list[str] = []

    def prompts(session, start: datetime, end: datetime) -> list[DueReminder]:
        return [DueReminder(key=f"test:{u}", user_id=u, due_at=PERSONAL_AT, message_key="toolbox.checkin.prompt",
                            reactions=("1️⃣", "2️⃣")) for u in people if start <= PERSONAL_AT < end]

    def swept(minutes: int) -> tuple[int, int]:
        now = PERSONAL_AT + timedelta(minutes=minutes)
        with statements(db.engine) as seen, db.session() as s:
            done = sweep(s, services.settings, [prompts], now, online_since=PERSONAL_AT - timedelta(days=1),
                         speaker=services.speaker, digest_sources=[])
            s.commit()
        return len(seen), len(done)

    def add(names: list[str], minutes: int) -> int:
        with db.session() as s:
            for name in names:
                register_room(s, toolbox_of(name), RoomKind.TOOLBOX, owner=user(name))
            s.commit()
        people.extend(user(name) for name in names)
        assert swept(minutes)[1] == len(names)  # sent
        with db.session() as s:  # the homeserver gave them event ids
            s.add_all(SentEvent(txn_id=txn_for(f"test:{user(name)}"), event_id=f"$e-{name}", room_id=toolbox_of(name))
                      for name in names)
            s.commit()
        swept(minutes + 1)  # the reaction rows are seeded
        with db.session() as s:
            seeds = s.scalars(select(ReminderLedger.key).where(ReminderLedger.key.like("seed:test:%"))).all()
            assert len(seeds) == len(people)
        statements, done = swept(minutes + 2)
        assert done == 0
        return statements

    few = add([f"p{n:03d}" for n in range(5)], 1)
    many = add([f"p{n:03d}" for n in range(5, 200)], 4)
    assert many == few, (few, many)


def test_the_forum_prompts_of_cafes_already_begun_are_not_read(db, services):
    """Issue 13: every planner run looks for reflection prompts; those of past cafés (a year's worth
    at a national population) are not read again."""
    from schedules.models import CafePrompt
    from schedules.reminders import cafe_prompts

    now = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
    with db.session() as s:
        for n in range(30):
            cafe = Cafe(community="North", starts_at=now - timedelta(days=n + 1), place="Library",
                        created_by="@consultant:localhost", number=n + 1)
            s.add(cafe)
            s.flush()
            s.add(CafePrompt(cafe_id=cafe.id, text=f"past {n}", created_by="@consultant:localhost",
                             created_at=now - timedelta(days=40)))
        coming = Cafe(community="North", starts_at=now + timedelta(days=3), place="Library",
                      created_by="@consultant:localhost", number=31)
        s.add(coming)
        s.flush()
        s.add(CafePrompt(cafe_id=coming.id, text="coming", created_by="@consultant:localhost",
                         created_at=now - timedelta(days=1)))
    read: list[str] = []

    def loaded(target, context):
        read.append(target.text)

    event.listen(CafePrompt, "load", loaded)
    try:
        with db.session() as s:
            cafe_prompts(s, services.settings, now - timedelta(hours=6), now)
    finally:
        event.remove(CafePrompt, "load", loaded)
    assert read == ["coming"]
