from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import inspect, select, text

from bot.db import Database, FieldCipher, SealError, load_or_create_key
from bot.features import load_features
from bot.migrate import upgrade
from bot.models import BotSecret, HandledEvent
from tests.conftest import PG_BASE, PG_OK


def test_key_file_created_0600_and_reused(tmp_path):
    path = tmp_path / "keys" / "content.key"
    key = load_or_create_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_or_create_key(path) == key


def test_cipher_round_trip_and_random_nonce():
    cipher = FieldCipher(b"x" * 32)
    a, b = cipher.encrypt("I felt better today"), cipher.encrypt("I felt better today")
    assert a != b and cipher.decrypt(a) == cipher.decrypt(b) == "I felt better today"
    with pytest.raises(SealError):
        FieldCipher(b"y" * 32).decrypt(a)


def test_encrypted_column_is_sealed_in_the_raw_file(sqlite_db):
    secret = "my secret sentence about the hospital"
    with sqlite_db.session() as s:
        s.add(BotSecret(name="probe", value=secret))
    path = sqlite_db.url.removeprefix("sqlite:///")
    sqlite_db.dispose()
    raw = open(path, "rb").read() + (open(path + "-wal", "rb").read() if os.path.exists(path + "-wal") else b"")
    assert secret.encode() not in raw
    with Database(sqlite_db.url).session() as s:
        assert s.get(BotSecret, "probe").value == secret


def test_migrations_on_sqlite(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(db.engine, load_features())
    upgrade(db.engine, load_features())  # idempotent
    tables = set(inspect(db.engine).get_table_names())
    assert {"handled_event", "outbox_message", "participant", "provider", "managed_room", "sent_event"} <= tables
    db.dispose()


@pytest.mark.postgres
def test_migrations_on_postgres():
    if not PG_OK:
        pytest.skip("PostgreSQL not reachable")
    import uuid

    schema = f"m_{uuid.uuid4().hex[:10]}"
    admin = Database(PG_BASE)
    with admin.engine.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        db = Database(f"{PG_BASE}?options=-csearch_path%3D{schema}")
        upgrade(db.engine, load_features())
        tables = set(inspect(db.engine).get_table_names(schema=schema))
        assert {"handled_event", "outbox_message", "participant", "alembic_version"} <= tables
        with db.session() as s:
            s.add(HandledEvent(event_id="$x", room_id="!r"))
        with db.session() as s:
            assert s.scalar(select(HandledEvent.room_id)) == "!r"
        db.dispose()
    finally:
        with admin.engine.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
