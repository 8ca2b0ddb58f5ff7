"""nio's crypto store as the bot uses it: ``DefaultStore`` (SQLite, with the trust state in three
text files beside it), loading at start in a fixed number of queries and looking trust up by index.

nio 0.26 loads the store row by row: one query for each device's keys and one for each inbound
group session's forwarding chain. The trust files are lists, and asking whether a device is in one
compares it with every entry; the bot marks every device it shares a room key with as ignored
(``ignore_unverified_devices``), so the ignored file holds every device it knows, and loading the
store compared each device with about half of them. At 3,000 devices that was seconds of every
start, growing as devices² (devices grow with rooms). :class:`CryptoStore` gives the same objects
(devices with the same keys, display name, deleted flag and trust state; the same sessions and
chains) in two queries each (:class:`BatchedLoads`), and the trust files answer by index
(:class:`IndexedTrust`). The files and the database are unchanged.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from nio.crypto import (
    DeviceStore,
    GroupSessionStore,
    InboundGroupSession,
    OlmDevice,
    Session,
    SessionStore,
    TrustState,
)
from nio.store import DefaultStore, DeviceKeys, ForwardedChains, Keys, MegolmInboundSessions, OlmSessions
from nio.store.database import use_database
from nio.store.file_trustdb import Key, KeyStore


def _ident(key: Key) -> tuple[type, str, str, str]:
    # What ``Ed25519Key.__eq__`` compares (the type too: it refuses any other kind of key).
    return type(key), key.user_id, key.device_id, key.key


class IndexedKeyStore(KeyStore):  # type: ignore[misc]  # nio is untyped
    """nio's trust file (``KeyStore``) with an index beside its list of entries: membership and
    ``get_key`` by lookup instead of a scan. The list, its order, its duplicates and the file
    are kept as nio keeps them."""

    def __init__(self, filename: str) -> None:
        super().__init__(filename)  # reads the file into self._entries
        self._index()

    @classmethod
    def of(cls, store: KeyStore) -> IndexedKeyStore:
        """The same trust file, indexed, without reading it again."""
        indexed: IndexedKeyStore = cls.__new__(cls)
        indexed._filename, indexed._entries = store._filename, store._entries
        indexed._index()
        return indexed

    def _index(self) -> None:
        self._count: Counter[tuple[type, str, str, str]] = Counter()
        self._by_device: dict[tuple[str, str], list[Key]] = defaultdict(list)
        for key in self._entries:
            self._indexed(key)

    def _indexed(self, key: Key) -> None:
        self._count[_ident(key)] += 1
        self._by_device[key.user_id, key.device_id].append(key)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, Key) and self._count[_ident(key)] > 0

    def check(self, key: Key) -> bool:
        return key in self

    def get_key(self, user_id: str, device_id: str) -> Key | None:
        found = self._by_device.get((user_id, device_id))
        return found[0] if found else None

    def _add_without_save(self, key: Key) -> bool:
        added: bool = super()._add_without_save(key)  # raises on a mismatching fingerprint
        self._indexed(key)
        return added

    def _remove_without_save(self, key: Key) -> bool:
        if key not in self:
            return False
        self._entries.remove(key)  # the first equal entry; equal entries have the same _ident
        self._count[_ident(key)] -= 1
        same_device = self._by_device[key.user_id, key.device_id]
        same_device.remove(key)
        if not same_device:
            del self._by_device[key.user_id, key.device_id]
        return True

    @KeyStore._save_store  # type: ignore[untyped-decorator]
    def remove_many(self, keys: Iterable[Key]) -> None:
        for key in keys:
            self._remove_without_save(key)

    @KeyStore._save_store  # type: ignore[untyped-decorator]
    def remove(self, key: Key) -> bool:
        return self._remove_without_save(key)


class IndexedTrust(DefaultStore):  # type: ignore[misc]  # nio is untyped
    """``DefaultStore`` with its three trust files indexed (same files, same format)."""

    trust_db: KeyStore
    blacklist_db: KeyStore
    ignore_db: KeyStore

    def __post_init__(self) -> None:
        super().__post_init__()
        self.trust_db = IndexedKeyStore.of(self.trust_db)
        self.blacklist_db = IndexedKeyStore.of(self.blacklist_db)
        self.ignore_db = IndexedKeyStore.of(self.ignore_db)


class BatchedLoads(DefaultStore):  # type: ignore[misc]  # nio is untyped
    """``DefaultStore``'s loaders in a fixed number of queries, with the same results. The trust
    state is looked up in the trust files as nio does (``key in file``), so it is only as fast as
    the files' membership test: combine with indexed files (:class:`CryptoStore`)."""

    trust_db: KeyStore
    blacklist_db: KeyStore
    ignore_db: KeyStore

    def _trust_state(self, device: OlmDevice) -> TrustState:
        # nio's order: verified, then blacklisted, then ignored.
        key = Key.from_olmdevice(device)
        if key in self.trust_db:
            return TrustState.verified
        if key in self.blacklist_db:
            return TrustState.blacklisted
        if key in self.ignore_db:
            return TrustState.ignored
        return TrustState.unset

    @use_database  # type: ignore[untyped-decorator]
    def load_device_keys(self) -> DeviceStore:
        store = DeviceStore()
        account = self._get_account()
        if not account:
            return store
        keys: dict[int, dict[str, str]] = defaultdict(dict)
        query = (Keys.select(Keys.device, Keys.key_type, Keys.key).join(DeviceKeys)
                 .where(DeviceKeys.account == account).order_by(Keys.id).tuples())
        for device_pk, key_type, key in query:
            keys[device_pk][key_type] = key
        # nio's query (``account.device_keys``, so the same order), as rows rather than models.
        for d in DeviceKeys.select().where(DeviceKeys.account == account).namedtuples():
            device = OlmDevice(d.user_id, d.device_id, keys.get(d.id, {}),
                               display_name=d.display_name, deleted=d.deleted)
            device.trust_state = self._trust_state(device)
            store.add(device)
        return store

    @use_database  # type: ignore[untyped-decorator]
    def load_sessions(self) -> SessionStore:
        """nio's ``load_sessions`` (already one query), reading rows rather than models."""
        store = SessionStore()
        account = self._get_account()
        if not account:
            return store
        for s in OlmSessions.select().where(OlmSessions.account == account).namedtuples():
            session = Session.from_pickle(s.session, s.creation_time, self.pickle_key)
            store.add(s.sender_key, session)
            if session.upgrade_pickle:  # as nio: re-save an old pickle in vodozemac's format
                session.upgrade_pickle = False
                self.save_session(s.sender_key, session)
        return store

    @use_database  # type: ignore[untyped-decorator]
    def load_inbound_group_sessions(self) -> GroupSessionStore:
        store = GroupSessionStore()
        account = self._get_account()
        if not account:
            return store
        chains: dict[str, list[str]] = defaultdict(list)
        query = (ForwardedChains.select(ForwardedChains.session, ForwardedChains.sender_key)
                 .join(MegolmInboundSessions).where(MegolmInboundSessions.account == account)
                 .order_by(ForwardedChains.id).tuples())
        for session_id, sender_key in query:
            chains[session_id].append(sender_key)
        for s in MegolmInboundSessions.select().where(MegolmInboundSessions.account == account).namedtuples():
            session = InboundGroupSession.from_pickle(s.session, s.fp_key, s.sender_key, s.room_id,
                                                      self.pickle_key, chains.get(s.session_id, []))
            store.add(session)
            if session.upgrade_pickle:  # as nio: re-save an old pickle in vodozemac's format
                session.upgrade_pickle = False
                self.save_inbound_group_session(session)
        return store


class CryptoStore(BatchedLoads, IndexedTrust):
    """The bot's crypto store: nio's ``DefaultStore``, its files unchanged, loaded in a fixed
    number of queries with trust looked up by index."""
