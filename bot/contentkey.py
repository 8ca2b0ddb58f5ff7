"""Where the content key lives, and what it protects besides the database: nio's crypto store.

The key never lives in ``data_dir``: a copy of ``data_dir`` (a backup, a stolen disk image) must
not carry the key that opens it. It comes, in this order, from ``storage.encryption_key_file``
(also ``RECONNECT_STORAGE__ENCRYPTION_KEY_FILE``), from a systemd credential named ``content.key``
(``LoadCredential=content.key:/etc/reconnect/content.key``, read from ``$CREDENTIALS_DIRECTORY``),
or from ``secrets/content.key`` beside ``data_dir``. It is created only when nothing sealed
exists yet; over sealed data a missing key stops start-up with one line, never a new key.

nio pickles the Olm account and every megolm session with a passphrase (``DEFAULT_KEY`` unless
told otherwise); the bot gives it one derived from the content key, and re-pickles a store
written with ``DEFAULT_KEY`` the first time it starts with this code.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import sqlite3
import stat
from pathlib import Path
from typing import Callable

import vodozemac
from sqlalchemy.orm import Session

from bot.config import StorageConfig
from bot.db import derive_key, load_or_create_key
from bot.models import BotSecret

log = logging.getLogger(__name__)

KEY_NAME = "content.key"
NIO_DEFAULT_PICKLE_KEY = "DEFAULT_KEY"  # matrix-nio's AsyncClientConfig default


class KeyFileError(Exception):
    """The content key cannot be used; the message says why and what to do (one line)."""


def resolve_key_file(storage: StorageConfig) -> Path:
    if storage.encryption_key_file is not None:
        return storage.encryption_key_file
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    if credentials and (Path(credentials) / KEY_NAME).exists():
        return Path(credentials) / KEY_NAME
    return default_key_file(storage)


def default_key_file(storage: StorageConfig) -> Path:
    data_dir = storage.data_dir.resolve()
    return data_dir.parent / "secrets" / KEY_NAME


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def load_content_key(storage: StorageConfig, has_sealed_data: Callable[[], bool]) -> bytes:
    """The content key; created (0600, in a 0700 folder) only when nothing sealed exists yet."""
    path = resolve_key_file(storage)
    legacy = storage.data_dir / KEY_NAME
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning("content key %s is readable by group or others (mode %o)", path, mode)
            raise KeyFileError(f"the content key {path} is readable by group or others (mode {mode:o}); "
                               f"make it private with: chmod 600 {path}")
        if _inside(path, storage.data_dir):
            log.warning("the content key %s is inside data_dir: a copy of data_dir opens everything in it; "
                        "move it elsewhere and set storage.encryption_key_file", path)
        try:
            return load_or_create_key(path)
        except ValueError as exc:
            raise KeyFileError(str(exc)) from None
    if legacy.exists() and legacy.resolve() != path.resolve():
        raise KeyFileError(
            f"the content key is still in {legacy}, inside data_dir, where a copy of data_dir carries it; "
            f"move it out: mkdir -p -m 700 {path.parent} && mv {legacy} {path} "
            "(or set storage.encryption_key_file to where you keep it), and back it up apart from data_dir")
    if has_sealed_data():
        raise KeyFileError(
            f"the content key {path} is missing, but the database or crypto store in {storage.data_dir} "
            "holds data sealed with a key; restore the key file from its backup "
            "(or set storage.encryption_key_file); a new key would not open that data")
    log.info("creating a new content key in %s (back it up apart from data_dir)", path)
    return load_or_create_key(path)


KEY_CHECK = "content_key_check"


def check_content_key(session: Session) -> None:
    """Open one sealed row, so a wrong key stops start-up at once rather than at the first read
    (:class:`bot.db.SealError`); the first start writes that row."""
    if session.get(BotSecret, KEY_CHECK) is None:
        session.add(BotSecret(name=KEY_CHECK, value="sealed with this content key"))


def crypto_store_has_data(storage: StorageConfig) -> bool:
    store_dir = storage.data_dir / "crypto"
    return store_dir.is_dir() and any(store_dir.glob("*.db"))


def nio_pickle_key(content_key: bytes) -> str:
    """The passphrase nio pickles its Olm account and sessions with."""
    return base64.b64encode(derive_key(content_key, "nio-pickle-key/v1")).decode("ascii")


# nio's SQLite store: (table, column, vodozemac class) of every pickled secret.
_PICKLED = (
    ("accounts", "account", vodozemac.Account),
    ("olmsessions", "session", vodozemac.Session),
    ("megolminboundsessions", "session", vodozemac.InboundGroupSession),
)


def _pickle_passphrase_key(passphrase: str) -> bytes:
    # What nio.crypto.sessions.derive_pickle_key does with a passphrase.
    return hashlib.sha256(passphrase.encode()).digest()


def rekey_crypto_store(store_file: Path, new_passphrase: str, old_passphrase: str = NIO_DEFAULT_PICKLE_KEY) -> int:
    """Re-pickle every secret in nio's store that opens with ``old_passphrase`` under
    ``new_passphrase``, in one transaction; returns how many. A pickle that opens with neither
    stops start-up (a store from another content key)."""
    new_key, old_key = _pickle_passphrase_key(new_passphrase), _pickle_passphrase_key(old_passphrase)
    changed = 0
    conn = sqlite3.connect(store_file)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        with conn:
            for table, column, kind in _PICKLED:
                if table not in tables:
                    continue
                for rowid, pickled in conn.execute(f"SELECT rowid, {column} FROM {table}").fetchall():
                    text = bytes(pickled).decode() if not isinstance(pickled, str) else pickled
                    try:
                        kind.from_pickle(text, new_key)
                        continue
                    except vodozemac.PickleException:
                        pass
                    try:
                        secret = kind.from_pickle(text, old_key)
                    except vodozemac.PickleException:
                        raise KeyFileError(f"the crypto store {store_file} does not open with this content key; "
                                           "restore the content key that belongs to it") from None
                    conn.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?",
                                 (secret.pickle(new_key).encode(), rowid))
                    changed += 1
    finally:
        conn.close()
    if changed:
        log.info("crypto store re-sealed with the content key (%d secrets)", changed)
    return changed


def make_private(path: Path, mode: int) -> None:
    """Tighten a file or folder the bot owns to ``mode`` (0600 files, 0700 folders)."""
    try:
        if path.exists() and stat.S_IMODE(path.stat().st_mode) & ~mode:
            os.chmod(path, mode)
    except OSError as exc:  # e.g. a folder mounted read-only for the bot: say so, go on
        log.warning("could not make %s private (%s)", path, type(exc).__name__)
