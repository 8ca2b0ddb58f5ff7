"""Issue 11, finding 5: the content key lives apart from data_dir, is never made anew over sealed
data, opens only the row a value was sealed for, and also seals nio's crypto store."""

from __future__ import annotations

import base64
import os
import stat
from datetime import datetime

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nio.crypto import OlmAccount
from nio.store import SqliteStore
from sqlalchemy import select, text

from bot.app import App
from bot.config import StorageConfig
from bot.contentkey import (
    NIO_DEFAULT_PICKLE_KEY,
    KeyFileError,
    load_content_key,
    nio_pickle_key,
    rekey_crypto_store,
    resolve_key_file,
)
from bot.db import Database, SealError, bring_seals_up_to_date, current_cipher, load_or_create_key
from bot.matrix import StartupError
from bot.models import BotSecret
from tests.support.core import test_settings
from toolbox.models import DiaryEntry


def _storage(tmp_path, **kw) -> StorageConfig:
    return StorageConfig(data_dir=tmp_path / "data", **kw)


def test_the_default_key_file_is_outside_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    storage = _storage(tmp_path)
    key = load_content_key(storage, lambda: False)
    path = resolve_key_file(storage)
    assert path == tmp_path / "secrets" / "content.key"
    assert not path.resolve().is_relative_to(storage.data_dir.resolve())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_content_key(storage, lambda: True) == key  # read again, never replaced


def test_a_systemd_credential_is_used_when_no_file_is_configured(tmp_path, monkeypatch):
    creds = tmp_path / "creds"
    creds.mkdir()
    key = load_or_create_key(creds / "content.key")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    assert load_content_key(_storage(tmp_path), lambda: True) == key
    assert not (tmp_path / "secrets").exists()


def test_a_missing_key_over_sealed_data_stops_start_with_one_line_and_makes_no_key(tmp_path, monkeypatch):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    storage = _storage(tmp_path)
    with pytest.raises(KeyFileError) as caught:
        load_content_key(storage, lambda: True)
    message = str(caught.value)
    assert "\n" not in message and "missing" in message and "restore the key file" in message
    assert not resolve_key_file(storage).exists()


def test_a_key_file_readable_by_others_is_refused(tmp_path, caplog):
    path = tmp_path / "k" / "content.key"
    load_or_create_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_content_key(_storage(tmp_path, encryption_key_file=path), lambda: True)
    assert "readable by group or others" in caplog.text


def test_a_key_left_in_data_dir_by_an_old_version_is_refused_with_how_to_move_it(tmp_path, monkeypatch):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    storage = _storage(tmp_path)
    load_or_create_key(storage.data_dir / "content.key")
    with pytest.raises(KeyFileError) as caught:
        load_content_key(storage, lambda: True)
    target = resolve_key_file(storage)
    assert f"mv {storage.data_dir / 'content.key'} {target}" in str(caught.value)
    assert not target.exists()


async def test_start_refuses_a_missing_key_for_a_database_with_sealed_rows(tmp_path, monkeypatch, content_cipher):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    settings = test_settings(storage={"data_dir": str(tmp_path / "data")})
    from bot.features import load_features
    from bot.migrate import upgrade

    settings.storage.data_dir.mkdir()
    db = Database(f"sqlite:///{settings.storage.data_dir / 'reconnect.db'}")
    upgrade(db.engine, load_features())
    with db.session() as s:
        s.add(BotSecret(name="access_token", value="syt_secret"))
    db.dispose()
    with pytest.raises(StartupError, match="is missing, but the database"):
        await App(settings).start()
    assert not resolve_key_file(settings.storage).exists()


async def test_start_refuses_a_wrong_key_with_one_line_not_a_bare_invalid_tag(tmp_path, monkeypatch):
    from bot.db import FieldCipher, install_cipher

    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.setattr(App, "_running_keys", {})
    before = current_cipher()
    settings = test_settings(storage={"data_dir": str(tmp_path / "data"),
                                      "encryption_key_file": str(tmp_path / "k1")},
                             homeserver={"url": "http://127.0.0.1:9"})
    try:
        with pytest.raises(StartupError):  # no homeserver: it fails at login, after the key check row
            await App(settings).start()
        load_or_create_key(tmp_path / "k2")
        App._running_keys.clear()
        wrong = settings.model_copy(update={"storage": settings.storage.model_copy(
            update={"encryption_key_file": tmp_path / "k2"})})
        with pytest.raises(StartupError, match="does not open this database"):
            await App(wrong).start()
    finally:
        install_cipher(before)
        assert isinstance(before, FieldCipher)


def _raw(db: Database, sql: str, **params):
    with db.engine.begin() as conn:
        result = conn.execute(text(sql), params)
        return result.all() if result.returns_rows else None


def test_a_ciphertext_copied_to_another_row_does_not_open(sqlite_db):
    with sqlite_db.session() as s:
        s.add_all([DiaryEntry(user_id="@ann:localhost", text="Ann's own words"),
                   DiaryEntry(user_id="@eve:localhost", text="Eve's words")])
    _raw(sqlite_db, "UPDATE toolbox_diary SET text = (SELECT text FROM toolbox_diary WHERE user_id = '@ann:localhost')"
                    " WHERE user_id = '@eve:localhost'")
    with sqlite_db.session() as s:
        with pytest.raises(SealError):
            s.scalars(select(DiaryEntry).where(DiaryEntry.user_id == "@eve:localhost")).all()
    with sqlite_db.session() as s:
        (ann,) = s.scalars(select(DiaryEntry).where(DiaryEntry.user_id == "@ann:localhost")).all()
        assert ann.text == "Ann's own words"


def test_a_ciphertext_moved_to_another_column_or_table_does_not_open(sqlite_db):
    with sqlite_db.session() as s:
        s.add(BotSecret(name="a", value="one"))
        s.add(BotSecret(name="b", value="two"))
    _raw(sqlite_db, "UPDATE bot_secret SET value = (SELECT value FROM bot_secret WHERE name = 'a') WHERE name = 'b'")
    with sqlite_db.session() as s:
        assert s.get(BotSecret, "a").value == "one"
        with pytest.raises(SealError):
            s.get(BotSecret, "b")


def test_values_sealed_before_rows_were_bound_are_resealed_at_start(sqlite_db, content_cipher):
    # A v1 value, as the previous version wrote it: AES-GCM without associated data.
    nonce = os.urandom(12)
    v1 = "v1:" + base64.b64encode(nonce + AESGCM(b"k" * 32).encrypt(nonce, b"an old diary line", None)).decode()
    _raw(sqlite_db, "INSERT INTO toolbox_diary (user_id, text, created_at) VALUES ('@ann:localhost', :t, :at)",
         t=v1, at=datetime(2026, 1, 1))
    with sqlite_db.session() as s:
        with pytest.raises(SealError):  # a load never opens a v1 value
            s.scalars(select(DiaryEntry)).all()
    assert bring_seals_up_to_date(sqlite_db.engine) == 1
    (stored,) = _raw(sqlite_db, "SELECT text FROM toolbox_diary")
    assert stored[0].startswith("v2:") and "old diary" not in stored[0]
    with sqlite_db.session() as s:
        assert s.scalars(select(DiaryEntry)).one().text == "an old diary line"
    assert bring_seals_up_to_date(sqlite_db.engine) == 0


def test_a_core_write_of_plain_text_into_a_sealed_column_is_refused(sqlite_db):
    with pytest.raises(Exception, match="sealed column"):
        with sqlite_db.session() as s:
            s.execute(BotSecret.__table__.insert().values(name="x", value="in the clear"))
    assert _raw(sqlite_db, "SELECT count(*) FROM bot_secret WHERE name = 'x'")[0][0] == 0


def test_nio_store_pickled_with_default_key_is_resealed_with_the_derived_key(tmp_path):
    new = nio_pickle_key(b"c" * 32)
    assert new != NIO_DEFAULT_PICKLE_KEY and new == nio_pickle_key(b"c" * 32) != nio_pickle_key(b"d" * 32)
    store = SqliteStore("@bot:localhost", "DEV", str(tmp_path), NIO_DEFAULT_PICKLE_KEY)
    account = OlmAccount()
    store.save_account(account)
    identity = account.identity_keys
    store_file = tmp_path / "@bot:localhost_DEV.db"
    assert rekey_crypto_store(store_file, new) == 1
    assert rekey_crypto_store(store_file, new) == 0  # idempotent
    with pytest.raises(Exception):  # noqa: B017 - vodozemac's PickleException
        SqliteStore("@bot:localhost", "DEV", str(tmp_path), NIO_DEFAULT_PICKLE_KEY).load_account()
    loaded = SqliteStore("@bot:localhost", "DEV", str(tmp_path), new).load_account()
    assert loaded.identity_keys == identity
    with pytest.raises(KeyFileError, match="does not open with this content key"):
        rekey_crypto_store(store_file, nio_pickle_key(b"d" * 32))
