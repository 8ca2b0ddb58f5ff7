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
(:class:`bot.truststore.ReConnectStore`, which also writes a file only when it changed). The files and the database are unchanged.
"""

from __future__ import annotations

from collections import defaultdict

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

from bot.truststore import ReConnectStore


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


class CryptoStore(BatchedLoads, ReConnectStore):
    """The bot's crypto store: nio's ``DefaultStore``, its files unchanged, loaded in a fixed
    number of queries with trust looked up by index."""
