"""Issue 11, finding 12: personal columns sealed (mood scores, crisis plan, medication times,
the view log, flags, the pseudonym ↔ Matrix id link), and existing rows converted by the
migrations and the re-sealing after them."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timezone

import pytest
from alembic import command
from sqlalchemy import select, text

from bot.db import Database, current_cipher
from bot.features import load_features
from bot.migrate import alembic_config, upgrade
from bot.models import Participant
from bot.people import participant_by_pseudonym, pseudonym_key
from rooms.models import Flag, ModerationEntry
from tests.conftest import PG_BASE, PG_OK
from toolbox import activities, crisis_plan, diary, meds
from toolbox.models import Activity, CrisisItem, CrisisPlanMeta, Medication, MoodEntry, ShareView

ANN = "@ann:localhost"

SEALED = {  # table: columns whose stored values must never be readable
    "participant": ("pseudonym",),
    "toolbox_mood": ("score",),
    "toolbox_activity": ("importance", "enjoyment"),
    "toolbox_crisis_item": ("section", "text"),
    "toolbox_crisis_plan": ("review_on",),
    "toolbox_medication": ("times",),
    "toolbox_share_view": ("provider_id", "item", "shown"),
    "rooms_flag": ("details",),
    "rooms_moderation_entry": ("target_pseudonym",),
}


def _stored(db: Database) -> dict[tuple[str, str], list[str]]:
    with db.engine.connect() as conn:
        return {(t, c): [r[0] for r in conn.execute(text(f"SELECT {c} FROM {t}"))]
                for t, cols in SEALED.items() for c in cols}


def _assert_all_sealed(db: Database) -> None:
    for (table, column), values in _stored(db).items():
        assert values, f"{table}.{column} has no row to check"
        for value in values:
            assert isinstance(value, str) and value.startswith("v2:"), (table, column, value)
    with db.engine.connect() as conn:
        (key,) = conn.execute(text("SELECT pseudonym_key FROM participant")).one()
    assert key.startswith("h1:") and "anna" not in key.lower()


def test_new_rows_are_sealed_and_read_back_plain(sqlite_db):
    with sqlite_db.session() as s:
        s.add(Participant(user_id=ANN, status="active", pseudonym="Anna", pseudonym_key=pseudonym_key("Anna")))
        diary.add_mood(s, ANN, 7, None)
        activities.add(s, ANN, datetime(2020, 1, 1, tzinfo=timezone.utc), "a walk")
        activities.mark_done(s, ANN, 1, 4, 5, now=datetime(2020, 1, 1, tzinfo=timezone.utc))
        crisis_plan.add(s, ANN, "reasons", "my cat")
        crisis_plan.set_review(s, ANN, date(2027, 1, 15))
        meds.add(s, ANN, "Pill", "5 mg", [time(8), time(20)], "Europe/Oslo")
        s.add(ShareView(user_id=ANN, provider_id="@doc:localhost", item="mood", shown=True))
        s.add(Flag(kind="privacy", room_id="!f:localhost", event_id="$e", author=ANN, details="phone"))
        s.add(Flag(kind="crisis", room_id="!f:localhost", event_id="$c", author=ANN))
        s.add(ModerationEntry(actor="@c:localhost", action="warn", target_user=ANN, target_pseudonym="Anna"))
    _assert_all_sealed(sqlite_db)
    with sqlite_db.session() as s:
        assert participant_by_pseudonym(s, "ANNA").user_id == ANN  # found by its keyed hash
        assert participant_by_pseudonym(s, "Bob") is None
        assert s.scalars(select(MoodEntry)).one().score == 7
        done = s.scalars(select(Activity)).one()
        assert (done.importance, done.enjoyment) == (4, 5)
        assert s.scalars(select(CrisisItem)).one().section == "reasons"
        assert s.get(CrisisPlanMeta, ANN).review_on == date(2027, 1, 15)
        assert [m.times for m in meds.with_reminders(s)] == ["08:00,20:00"]
        view = s.scalars(select(ShareView)).one()
        assert (view.provider_id, view.item, view.shown) == ("@doc:localhost", "mood", True)
        assert sorted(f.details for f in s.scalars(select(Flag))) == ["", "phone"]


def _old_schema_rows(db: Database) -> None:
    """A database as the previous version left it, with plain values in these columns."""
    cfg = alembic_config(load_features())
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        for target in ("core_0003", "rooms_0001", "toolbox_0002", "schedules@head"):
            command.upgrade(cfg, target)
    now = datetime(2026, 11, 1, tzinfo=timezone.utc)
    v1 = "v1:" + _legacy_seal("a reason")
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO participant (user_id, status, pseudonym, pseudonym_key, created_at) "
                          "VALUES (:u, 'active', 'Anna', 'anna', :now)"), {"u": ANN, "now": now})
        conn.execute(text("INSERT INTO toolbox_mood (user_id, score, created_at) VALUES (:u, 4, :now)"),
                     {"u": ANN, "now": now})
        conn.execute(text("INSERT INTO toolbox_activity (user_id, text, due_at, importance, enjoyment, created_at) "
                          "VALUES (:u, :t, :now, 2, 3, :now)"), {"u": ANN, "t": "v1:" + _legacy_seal("x"), "now": now})
        conn.execute(text("INSERT INTO toolbox_crisis_item (user_id, section, text, created_at) "
                          "VALUES (:u, 'reasons', :t, :now)"), {"u": ANN, "t": v1, "now": now})
        conn.execute(text("INSERT INTO toolbox_crisis_plan (user_id, review_on, updated_at) VALUES (:u, :d, :now)"),
                     {"u": ANN, "d": date(2027, 2, 1), "now": now})
        conn.execute(text("INSERT INTO toolbox_medication (user_id, name, dose, times, remind, zone, created_at) "
                          "VALUES (:u, :n, :d, '09:00', :r, 'Europe/Oslo', :now)"),
                     {"u": ANN, "n": "v1:" + _legacy_seal("Pill"), "d": "v1:" + _legacy_seal("1"), "r": True,
                      "now": now})
        conn.execute(text("INSERT INTO toolbox_share_view (user_id, provider_id, item, shown, viewed_at) "
                          "VALUES (:u, '@doc:localhost', 'crisis', :s, :now)"), {"u": ANN, "s": False, "now": now})
        conn.execute(text("INSERT INTO rooms_flag (kind, room_id, event_id, author, details, alerted, redacted, at) "
                          "VALUES ('privacy', '!f', '$e', :u, 'email', :f, :f, :now)"),
                     {"u": ANN, "f": False, "now": now})
        conn.execute(text("INSERT INTO rooms_moderation_entry (actor, action, target_user, target_pseudonym, at) "
                          "VALUES ('@c:localhost', 'mute', :u, 'Anna', :now)"), {"u": ANN, "now": now})


def _legacy_seal(plain: str) -> str:
    import base64
    import os

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    return base64.b64encode(nonce + AESGCM(b"k" * 32).encrypt(nonce, plain.encode(), None)).decode()


def _check_converted(db: Database) -> None:
    upgrade(db.engine, load_features())
    _assert_all_sealed(db)
    with db.session() as s:
        assert participant_by_pseudonym(s, "anna").pseudonym == "Anna"
        assert s.scalars(select(MoodEntry)).one().score == 4
        rated = s.scalars(select(Activity)).one()
        assert (rated.importance, rated.enjoyment, rated.text) == (2, 3, "x")
        item = s.scalars(select(CrisisItem)).one()
        assert (item.section, item.text) == ("reasons", "a reason")
        assert s.get(CrisisPlanMeta, ANN).review_on == date(2027, 2, 1)
        med = s.scalars(select(Medication)).one()
        assert (med.name, med.times) == ("Pill", "09:00")
        view = s.scalars(select(ShareView)).one()
        assert (view.provider_id, view.item, view.shown) == ("@doc:localhost", "crisis", False)
        assert s.scalars(select(Flag)).one().details == "email"
        assert s.scalars(select(ModerationEntry)).one().target_pseudonym == "Anna"


def test_existing_rows_are_converted_on_sqlite(tmp_path, content_cipher):
    assert current_cipher() is content_cipher
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    _old_schema_rows(db)
    _check_converted(db)
    db.dispose()


@pytest.mark.postgres
def test_existing_rows_are_converted_on_postgres(content_cipher):
    if not PG_OK:
        pytest.skip("PostgreSQL not reachable")
    schema = f"m_{uuid.uuid4().hex[:10]}"
    admin = Database(PG_BASE)
    with admin.engine.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        db = Database(f"{PG_BASE}?options=-csearch_path%3D{schema}")
        _old_schema_rows(db)
        _check_converted(db)
        db.dispose()
    finally:
        with admin.engine.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
