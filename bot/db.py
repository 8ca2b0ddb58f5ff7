"""Database: the shared declarative ``Base``, the encrypted text column, engine and migrations."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import stat
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import DateTime, String, Text, create_engine, event, inspect, literal, or_, select, type_coerce
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import DeclarativeBase, Mapper, Session, sessionmaker
from sqlalchemy.orm.attributes import set_attribute, set_committed_value
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator


class Base(DeclarativeBase):
    """One metadata for every feature's tables."""


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use timezone-aware UTC")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


# --- encryption at rest -------------------------------------------------------------------------
#
# A sealed column holds ``v2:`` + base64(nonce‖AES-GCM ciphertext). The associated data binds the
# value to its table, column and row (the primary key, or a model's ``__seal_row_key__``), so a
# ciphertext copied into another row, column or table does not open. The row id of a new
# autoincrement row is only known after its INSERT, so such a row is written once more, bound,
# in the same flush. ORM events (below) seal on flush and open on load: domain code reads and
# writes plain values. ``v1:`` values (no associated data) from before are re-sealed at start by
# :func:`bring_seals_up_to_date`; a ``v1:`` value is never opened by a load.

KEY_BYTES = 32
_PREFIX = "v2:"
_LEGACY_PREFIX = "v1:"
_HASH_PREFIX = "h1:"


class SealError(ValueError):
    """A sealed value does not open: another content key, or moved from another row."""


def derive_key(key: bytes, purpose: str) -> bytes:
    """A 32-byte key for one purpose (nio's pickles, lookup hashes), derived from the content key."""
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None,
                info=f"reconnect/{purpose}".encode()).derive(key)


class FieldCipher:
    """AES-GCM with a random 96-bit nonce per value, and keyed hashes for lookups."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError("content key must be 32 bytes")
        self._aead = AESGCM(key)
        self._lookup_key = derive_key(key, "lookup-hmac/v1")

    def encrypt(self, plaintext: str, aad: bytes = b"") -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), aad)
        return _PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, token: str, aad: bytes = b"") -> str:
        if not token.startswith(_PREFIX):
            raise SealError("not a sealed value")
        raw = base64.b64decode(token[len(_PREFIX):])
        try:
            return self._aead.decrypt(raw[:12], raw[12:], aad).decode("utf-8")
        except InvalidTag:
            raise SealError("a sealed value does not open with this content key "
                            "(another key, or copied from another row)") from None

    def decrypt_legacy(self, token: str) -> str:
        """A ``v1:`` value (before values were bound to their row); only for re-sealing."""
        raw = base64.b64decode(token[len(_LEGACY_PREFIX):])
        try:
            return self._aead.decrypt(raw[:12], raw[12:], None).decode("utf-8")
        except InvalidTag:
            raise SealError("a sealed value does not open with this content key") from None

    def lookup_hash(self, value: str) -> str:
        return _HASH_PREFIX + hmac.new(self._lookup_key, value.encode("utf-8"), hashlib.sha256).hexdigest()


class _CipherHolder:
    """The process's content cipher, installed once at start by :func:`install_cipher`.

    A column type has no other way to reach the key; the key itself never enters the database.
    """

    cipher: FieldCipher | None = None


def install_cipher(cipher: FieldCipher) -> None:
    _CipherHolder.cipher = cipher


def current_cipher() -> FieldCipher:
    if _CipherHolder.cipher is None:
        raise RuntimeError("content key not loaded; call bot.db.install_cipher first")
    return _CipherHolder.cipher


def load_or_create_key(path: Path) -> bytes:
    """Read the 32-byte content key, creating it with 0600 permissions if there is none.

    Start-up goes through :mod:`bot.contentkey`, which refuses to create a key over sealed data."""
    path = Path(path)
    if path.exists():
        raw = path.read_bytes().strip()
        try:
            key = base64.b64decode(raw, validate=True)
        except ValueError:
            raise ValueError(f"encryption key file {path} is not base64") from None
        if len(key) != KEY_BYTES:
            raise ValueError(f"encryption key file {path} must hold a 32-byte key")
        return key
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(KEY_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(base64.b64encode(key) + b"\n")
    return key


class Token(str):
    """A sealed value as stored; the ORM events turn it into the plain value on load."""


class Sealed(TypeDecorator[Any]):
    """A column sealed with AES-GCM, bound to its table, column and row. Subclasses say how the
    plain value is written as text. Only the ORM writes it (see ``_seal_before_write``): a Core
    ``insert``/``update`` with a plain value is refused rather than stored in the clear."""

    impl = Text
    cache_ok = True

    @staticmethod
    def encode(value: Any) -> str:
        return str(value)

    @staticmethod
    def decode(text: str) -> Any:
        return text

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if isinstance(value, Token):
            return str(value)
        raise TypeError("a sealed column is written through the ORM (or set to None), never as plain text")

    def process_result_value(self, value: Any, dialect: Dialect) -> Token | None:
        return None if value is None else Token(value)


class EncryptedText(Sealed):
    """Personal free text."""

    cache_ok = True


class SealedInt(Sealed):
    cache_ok = True

    @staticmethod
    def decode(text: str) -> int:
        return int(text)


class SealedBool(Sealed):
    cache_ok = True

    @staticmethod
    def encode(value: Any) -> str:
        return "1" if value else "0"

    @staticmethod
    def decode(text: str) -> bool:
        return text.strip().lower() in ("1", "true", "t")


class SealedDate(Sealed):
    cache_ok = True

    @staticmethod
    def encode(value: Any) -> str:
        assert isinstance(value, date)
        return value.isoformat()

    @staticmethod
    def decode(text: str) -> date:
        return date.fromisoformat(text.strip()[:10])


class LookupHash(TypeDecorator[str]):
    """A value kept only to be found again (e.g. a pseudonym's comparison key): stored as a keyed
    hash (HMAC-SHA256 with a key derived from the content key). Comparisons in queries hash the
    value they compare with, so ``where(col == value)`` works; the plain value is never stored."""

    impl = String(80)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or value.startswith(_HASH_PREFIX):
            return value
        return current_cipher().lookup_hash(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return value


def _sealed_attrs(mapper: Mapper[Any]) -> list[tuple[str, str, Sealed]]:
    """(attribute, column name, type) of each sealed column of a mapped class."""
    found = _SEALED_ATTRS.get(mapper)
    if found is None:
        found = []
        for prop in mapper.column_attrs:
            column = prop.columns[0]
            if isinstance(column.type, Sealed):
                found.append((prop.key, column.name, column.type))
        _SEALED_ATTRS[mapper] = found
    return found


_SEALED_ATTRS: dict[Mapper[Any], list[tuple[str, str, Sealed]]] = {}


def _row_key(mapper: Mapper[Any], target: Any, *, loaded: bool = False) -> str | None:
    names = getattr(type(target), "__seal_row_key__", None)
    # A row just loaded has its primary key as its identity (read there: ``primary_key_from_instance``
    # costs several times the opening of a value, and the planner opens thousands of rows a minute).
    # A row being written may be changing its key: that is read from its attributes.
    identity = inspect(target).key if loaded and not names else None
    values = ([getattr(target, n, None) for n in names] if names
              else list(identity[1]) if identity is not None
              else list(mapper.primary_key_from_instance(target)))
    if any(v is None for v in values):
        return None
    return "/".join(str(v) for v in values)


def seal_aad(table: str, column: str, row_key: str) -> bytes:
    return f"reconnect\x1f{table}\x1f{column}\x1f{row_key}".encode("utf-8")


_PENDING_ROW = "\x00pending"  # a new row whose id the database has yet to give


def _seal_before_write(mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    sealed = _sealed_attrs(mapper)
    if not sealed:
        return
    state = inspect(target)
    row_key = _row_key(mapper, target)
    table = mapper.local_table.name  # type: ignore[attr-defined]
    plain: dict[str, Any] = {}
    for key, column, kind in sealed:
        value = state.dict.get(key)
        if value is None and not state.persistent:  # a column default is sealed like any value
            default = mapper.columns[key].default
            if default is not None and default.is_scalar:
                value = default.arg  # type: ignore[attr-defined]
        if value is None or isinstance(value, Token):
            continue
        if state.persistent and not state.attrs[key].history.added:
            continue
        plain[key] = value
        aad = seal_aad(table, column, row_key if row_key is not None else _PENDING_ROW)
        set_attribute(target, key, Token(current_cipher().encrypt(kind.encode(value), aad)))
    if plain:
        state.info["reconnect_plain"] = (plain, row_key is None)


def _after_write(mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    state = inspect(target)
    pending = state.info.pop("reconnect_plain", None)
    if pending is None:
        return
    plain, rebind = pending
    if rebind:  # the row has its id now: write the values again, bound to it
        row_key = _row_key(mapper, target)
        assert row_key is not None
        table = mapper.local_table
        by_key = {key: (column, kind) for key, column, kind in _sealed_attrs(mapper)}
        values = {by_key[key][0]: Token(current_cipher().encrypt(
            by_key[key][1].encode(value), seal_aad(table.name, by_key[key][0], row_key)))  # type: ignore[attr-defined]
            for key, value in plain.items()}
        ident = mapper.primary_key_from_instance(target)
        where = [column == value for column, value in zip(mapper.primary_key, ident)]
        connection.execute(table.update().where(*where).values(values))  # type: ignore[attr-defined]
    for key, value in plain.items():
        set_committed_value(target, key, value)


def _open_loaded(target: Any, attrs: Any = None) -> None:
    state = inspect(target)
    mapper = state.mapper
    sealed = _sealed_attrs(mapper)
    if not sealed:
        return
    row_key: str | None = None
    table = mapper.local_table.name
    for key, column, kind in sealed:
        if attrs is not None and key not in attrs:
            continue
        value = state.dict.get(key)
        if not isinstance(value, Token):
            continue
        if row_key is None:
            row_key = _row_key(mapper, target, loaded=True)
        try:
            text = current_cipher().decrypt(value, seal_aad(table, column, row_key or ""))
        except SealError as exc:
            raise SealError(f"{table}.{column} of row {row_key}: {exc}") from None
        set_committed_value(target, key, kind.decode(text))


@event.listens_for(Base, "load", propagate=True)
def _on_load(target: Any, context: Any) -> None:
    _open_loaded(target)


@event.listens_for(Base, "refresh", propagate=True)
def _on_refresh(target: Any, context: Any, attrs: Any) -> None:
    _open_loaded(target, attrs)


event.listen(Base, "before_insert", _seal_before_write, propagate=True)
event.listen(Base, "before_update", _seal_before_write, propagate=True)
event.listen(Base, "after_insert", _after_write, propagate=True)
event.listen(Base, "after_update", _after_write, propagate=True)


def _sealed_tables() -> list[tuple[Mapper[Any], list[tuple[str, str, Sealed]], list[Any]]]:
    out = []
    for mapper in Base.registry.mappers:
        hashed = [c for c in mapper.local_table.columns
                  if isinstance(c.type, LookupHash)]
        sealed = _sealed_attrs(mapper)
        if sealed or hashed:
            out.append((mapper, sealed, hashed))
    return out


def database_has_sealed_rows(engine: Engine) -> bool:
    """Whether any table holds a sealed value or a keyed hash (so a new key would orphan it)."""
    present = set(sa_inspect(engine).get_table_names())
    with engine.connect() as conn:
        for mapper, sealed, hashed in _sealed_tables():
            table = mapper.local_table
            if table.name not in present:  # type: ignore[attr-defined]
                continue
            columns = [table.c[column] for _, column, _ in sealed] + hashed
            for column in columns:
                if conn.execute(select(literal(1)).select_from(table).where(column.is_not(None)).limit(1)).first():
                    return True
    return False


def bring_seals_up_to_date(engine: Engine) -> int:
    """Seal, bound to its row, every value written before it was (``v1:`` values, and plain
    values of columns a migration turned into sealed ones); hash plain lookup values. Runs at
    start after the migrations; returns how many rows changed. Cheap when there is nothing to do."""
    changed = 0
    present = set(sa_inspect(engine).get_table_names())
    with engine.begin() as conn:
        for mapper, sealed, hashed in _sealed_tables():
            table = mapper.local_table
            if table.name not in present:  # type: ignore[attr-defined]
                continue
            raw_cols = {column: type_coerce(table.c[column], Text) for _, column, _ in sealed}
            hash_cols = {c.name: type_coerce(c, Text) for c in hashed}
            stale = [c.is_not(None) & c.not_like(f"{_PREFIX}%") for c in raw_cols.values()]
            stale += [c.is_not(None) & c.not_like(f"{_HASH_PREFIX}%") for c in hash_cols.values()]
            if not stale:
                continue
            key_cols = _row_key_columns(mapper)
            pk_cols = list(mapper.primary_key)
            query = (select(*[c.label(f"pk_{i}") for i, c in enumerate(pk_cols)],
                            *[c.label(f"rk_{i}") for i, c in enumerate(key_cols)],
                            *[c.label(f"s_{n}") for n, c in raw_cols.items()],
                            *[c.label(f"h_{n}") for n, c in hash_cols.items()])
                     .select_from(table).where(or_(*stale)))
            for row in conn.execute(query).mappings().all():
                row_key = "/".join(str(row[f"rk_{i}"]) for i in range(len(key_cols)))
                values: dict[str, Any] = {}
                for _, column, kind in sealed:
                    value = row[f"s_{column}"]
                    if value is None or value.startswith(_PREFIX):
                        continue
                    text = current_cipher().decrypt_legacy(value) if value.startswith(_LEGACY_PREFIX) else value
                    values[column] = Token(current_cipher().encrypt(
                        kind.encode(kind.decode(text)), seal_aad(table.name, column, row_key)))  # type: ignore[attr-defined]
                for name in hash_cols:
                    value = row[f"h_{name}"]
                    if value is not None and not value.startswith(_HASH_PREFIX):
                        values[name] = current_cipher().lookup_hash(value)
                if values:
                    where = [c == row[f"pk_{i}"] for i, c in enumerate(pk_cols)]
                    conn.execute(table.update().where(*where).values(values))  # type: ignore[attr-defined]
                    changed += 1
    return changed


def _row_key_columns(mapper: Mapper[Any]) -> list[Any]:
    names = getattr(mapper.class_, "__seal_row_key__", None)
    if names:
        return [mapper.columns[n] for n in names]
    return list(mapper.primary_key)


# --- engine and sessions ---------------------------------------------------------------------


def create_private_sqlite_file(url: str) -> None:
    """Create a SQLite database file 0600 before SQLite does (its -wal and -shm files follow the
    database file's mode)."""
    if not url.startswith("sqlite:///") or url == "sqlite:///:memory:":
        return
    path = Path(url[len("sqlite:///"):])
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    elif stat.S_IMODE(path.stat().st_mode) & 0o077:
        os.chmod(path, 0o600)


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(  # pragma: no cover - trivial
            dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry
        ) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


class Database:
    """Engine plus session factory; ``with db.session() as s:`` commits on success."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        s = self._factory()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def dispose(self) -> None:
        self.engine.dispose()
