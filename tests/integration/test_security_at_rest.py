"""Issue 11, finding 5: a copy of ``data_dir`` alone (a backup, a disk image) reads nothing.

A real participant writes to their toolbox through an encrypted room; then ``data_dir`` is copied
as it is on disk, and everything in the copy is searched for what they wrote. nio's crypto store
in the copy must not open with nio's default pickle key, so the Olm account and the megolm
sessions (with which the homeserver's stored events could be read) stay closed.
"""

from __future__ import annotations

import shutil
import sqlite3
import stat

import pytest
from nio.store import SqliteStore

from bot.contentkey import NIO_DEFAULT_PICKLE_KEY, nio_pickle_key, rekey_crypto_store, resolve_key_file
from bot.db import load_or_create_key
from tests.integration.test_toolbox_flows import ask, enrolled

WORDS = ("Kvitfjell", "Lindqvist", "Sertralin", "Grandmother-Oddny", "Tromsdalen")


async def test_a_copy_of_data_dir_alone_reads_no_toolbox_text_and_no_olm_account(
        start_bot, consultant, make_user, tmp_path):
    bot = await start_bot()
    person, toolbox, pseudonym, _ = await enrolled(bot, consultant, make_user, "vea")
    await ask(person, toolbox, f"!diary I walked to {WORDS[0]} today", bot, "Saved in your diary")
    await ask(person, toolbox, f"!mood 3 talked with {WORDS[1]}", bot, "(3/10)")
    await ask(person, toolbox, f"!med add {WORDS[2]} 50mg 08:00", bot, WORDS[2])
    await ask(person, toolbox, f"!crisis add reasons {WORDS[3]}", bot, "Added to")
    await ask(person, toolbox, f"!goal add housing: move to {WORDS[4]}", bot, "Goal 1 saved")

    copy = tmp_path / "copied-data-dir"
    shutil.copytree(bot.data_dir, copy)  # as it is on disk while the bot runs (with WAL files)
    files = [p for p in copy.rglob("*") if p.is_file()]
    assert any(p.name.endswith(".db") for p in files)

    # The key is not in the copy, and data_dir, the database and the store are private.
    key_file = resolve_key_file(bot.settings.storage)
    assert not key_file.resolve().is_relative_to(bot.data_dir.resolve())
    assert not any(p.read_bytes().strip() == key_file.read_bytes().strip() for p in files)
    assert stat.S_IMODE(bot.data_dir.stat().st_mode) == 0o700
    for original in (bot.data_dir / "reconnect.db", *(bot.data_dir / "crypto").glob("*.db")):
        assert stat.S_IMODE(original.stat().st_mode) == 0o600, original

    # No readable toolbox text (nor the pseudonym) in any file, byte for byte ...
    needles = [w.encode() for w in (*WORDS, pseudonym)]
    for path in files:
        raw = path.read_bytes()
        assert not [n for n in needles if n in raw], path
    # ... nor in any table of any SQLite file, value for value.
    for path in files:
        if not path.name.endswith(".db"):
            continue
        conn = sqlite3.connect(path)
        try:
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for table in tables:
                for row in conn.execute(f'SELECT * FROM "{table}"'):
                    text = " ".join(str(v) for v in row)
                    assert not [w for w in (*WORDS, pseudonym) if w in text], table
        finally:
            conn.close()

    # The Olm account in the copy does not open with nio's default key; it does with the real one.
    device_id = bot.app.client.device_id
    with pytest.raises(Exception):  # noqa: B017 - vodozemac's PickleException
        SqliteStore(bot.user_id, device_id, str(copy / "crypto"), NIO_DEFAULT_PICKLE_KEY).load_account()
    with pytest.raises(Exception):  # noqa: B017
        SqliteStore(bot.user_id, device_id, str(copy / "crypto"), "").load_account()
    real = nio_pickle_key(load_or_create_key(key_file))
    assert SqliteStore(bot.user_id, device_id, str(copy / "crypto"), real).load_account() is not None


async def test_a_crypto_store_left_with_nios_default_key_is_resealed_and_keeps_working(
        start_bot, consultant, make_user):
    """An upgrade: the previous version pickled the store with ``DEFAULT_KEY``. After a restart the
    store opens only with the derived key, and the same device still reads and answers."""
    bot = await start_bot()
    person, toolbox, _, _ = await enrolled(bot, consultant, make_user, "wil")
    device_id = bot.app.client.device_id
    derived = nio_pickle_key(load_or_create_key(resolve_key_file(bot.settings.storage)))
    store_file = bot.data_dir / "crypto" / f"{bot.user_id}_{device_id}.db"
    await bot.stop()
    # Back to how the previous version left it.
    assert rekey_crypto_store(store_file, NIO_DEFAULT_PICKLE_KEY, old_passphrase=derived) > 1
    assert SqliteStore(bot.user_id, device_id, str(store_file.parent), NIO_DEFAULT_PICKLE_KEY).load_account()

    await bot.start()
    assert bot.app.client.device_id == device_id
    with pytest.raises(Exception):  # noqa: B017 - vodozemac's PickleException
        SqliteStore(bot.user_id, device_id, str(store_file.parent), NIO_DEFAULT_PICKLE_KEY).load_account()
    await ask(person, toolbox, "!diary after the upgrade", bot, "Saved in your diary")
