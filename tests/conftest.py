"""Shared fixtures: a real database (SQLite file, and PostgreSQL on 127.0.0.1:5432 when it
answers), migrated with every feature's revisions, and the content cipher installed."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import text

from bot.db import Database, FieldCipher, install_cipher, make_engine
from bot.features import load_features
from bot.migrate import upgrade

PG_BASE = os.environ.get("RECONNECT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_available() -> bool:
    try:
        engine = make_engine(PG_BASE)
        with engine.connect() as c:
            c.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


PG_OK = _postgres_available()


@pytest.fixture(scope="session", autouse=True)
def content_cipher() -> FieldCipher:
    cipher = FieldCipher(b"k" * 32)
    install_cipher(cipher)
    return cipher


@pytest.fixture(scope="session")
def features():
    return load_features()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory, features) -> Path:
    path = tmp_path_factory.mktemp("dbtemplate") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine, features)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_schema_url(features) -> Iterator[str]:
    if not PG_OK:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_BASE)
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG_BASE}?options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    upgrade(engine, features)
    engine.dispose()
    yield url
    with admin.begin() as c:
        c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _fresh_pg(url: str) -> Database:
    """The session's migrated schema, emptied: every table's rows deleted (children first) and
    every sequence set back to 1. The same as ``TRUNCATE ... RESTART IDENTITY``, but a DELETE of a
    few rows costs milliseconds where truncating 55 tables cost about a second per test."""
    from bot.db import Base

    database = Database(url)
    with database.engine.begin() as c:
        c.execute(text("; ".join(f'DELETE FROM "{t.name}"' for t in reversed(Base.metadata.sorted_tables))))
        sequences = [r[0] for r in c.execute(text(
            "SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = current_schema()"))]
        if sequences:
            c.execute(text("SELECT " + ", ".join(f"setval('\"{s}\"', 1, false)" for s in sequences)))
    return database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request, tmp_path) -> Iterator[Database]:
    """A migrated, empty database: each test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        database = Database(f"sqlite:///{path}")
    else:
        database = _fresh_pg(request.getfixturevalue("pg_schema_url"))
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(tmp_path, sqlite_template) -> Iterator[Database]:
    """SQLite only, for tests that read the raw file."""
    path = tmp_path / "test.db"
    shutil.copy(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()
