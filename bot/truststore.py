"""nio's crypto store with its three device-trust files indexed and written only when they change.

nio's ``DefaultStore`` keeps verified, blacklisted and ignored devices in three text files
(``KeyStore``: a Python list, rewritten and fsynced whole on every change). Two costs grow with
the number of devices the bot knows:

- every check (``key in store``, for each device of each room the bot shares a room key in, and
  for each device loaded at start) scans the whole list, comparing key objects one by one;
- ``ignore_devices`` (what ``room_send(..., ignore_unverified_devices=True)`` calls once per room
  with that room's new devices) rewrites all three files, even the two it removed nothing from.

:class:`IndexedKeyStore` gives the same answers and file contents from a dictionary, and writes a
file only when its entries changed. :class:`ReConnectStore` is nio's ``DefaultStore`` with the
three files as :class:`IndexedKeyStore` (same file names, same format, so a store from before
loads unchanged). :meth:`bot.keys.KeyWork.prepare_rooms` then marks a whole wave's new unverified
devices ignored in one write instead of nio's one per room.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from nio.store import DefaultStore, MatrixStore
from nio.store.file_trustdb import Ed25519Key, Key, KeyStore


def _ident(key: Ed25519Key) -> tuple[str, str, str]:
    return key.user_id, key.device_id, key.key


class IndexedKeyStore(KeyStore):  # type: ignore[misc]  # nio is untyped
    """nio's ``KeyStore`` (the same entries, in the same order, in the same file) with
    constant-time lookups, and a file write only when an entry was added or removed.

    nio's equality of keys is: both ``Ed25519Key`` with the same user, device and key; the index
    counts entries by exactly that (nio's ``add`` may append an equal entry twice)."""

    def __init__(self, filename: str) -> None:
        self._count: Counter[tuple[str, str, str]] = Counter()
        self._first: dict[tuple[str, str], Key] = {}  # get_key: the first entry of a device
        self.writes = 0
        super().__init__(filename)  # sets _entries and calls _load

    def _load(self, filename: str) -> None:
        super()._load(filename)
        for entry in self._entries:
            self._index(entry)

    def _index(self, key: Key) -> None:
        if isinstance(key, Ed25519Key):
            self._count[_ident(key)] += 1
        self._first.setdefault((key.user_id, key.device_id), key)

    def _unindex(self, key: Key) -> None:
        if isinstance(key, Ed25519Key):
            ident = _ident(key)
            self._count[ident] -= 1
            if self._count[ident] <= 0:
                del self._count[ident]
        device = (key.user_id, key.device_id)
        if self._first.get(device) is key:
            del self._first[device]
            for entry in self._entries:  # rare: only when a stored key is removed
                if (entry.user_id, entry.device_id) == device:
                    self._first[device] = entry
                    break

    def __contains__(self, key: Any) -> bool:
        if isinstance(key, Ed25519Key):
            return _ident(key) in self._count
        return any(entry == key for entry in self._entries)

    def check(self, key: Key) -> bool:
        return key in self

    def get_key(self, user_id: str, device_id: str) -> Key | None:
        return self._first.get((user_id, device_id))

    def _save(self) -> None:
        self.writes += 1
        super()._save()

    def _add_without_save(self, key: Key) -> bool:
        added: bool = super()._add_without_save(key)  # raises on a changed fingerprint, as nio does
        self._index(key)
        return added

    def _remove_without_save(self, key: Key) -> bool:
        if key not in self:
            return False
        for i, entry in enumerate(self._entries):  # list.remove: the first equal entry
            if entry == key:
                del self._entries[i]
                self._unindex(entry)
                return True
        return False  # pragma: no cover - the index said it was there

    def add(self, key: Key) -> bool:
        added = self._add_without_save(key)
        self._save()
        return added

    def add_many(self, keys: list[Key]) -> None:
        for key in keys:
            self._add_without_save(key)
        if keys:
            self._save()

    def remove(self, key: Key) -> bool:
        removed = self._remove_without_save(key)
        if removed:
            self._save()
        return removed

    def remove_many(self, keys: list[Key]) -> None:
        removed = [self._remove_without_save(key) for key in keys]
        if any(removed):
            self._save()


class ReConnectStore(DefaultStore):  # type: ignore[misc]  # nio is untyped
    """nio's ``DefaultStore`` (SQLite plus the three trust files), its trust files indexed."""

    def __post_init__(self) -> None:
        MatrixStore.__post_init__(self)  # DefaultStore's would load the three files as plain lists
        prefix = os.path.join(self.store_path, f"{self.user_id}_{self.device_id}")
        self.trust_db = IndexedKeyStore(f"{prefix}.trusted_devices")
        self.blacklist_db = IndexedKeyStore(f"{prefix}.blacklisted_devices")
        self.ignore_db = IndexedKeyStore(f"{prefix}.ignored_devices")

    @property
    def trust_file_writes(self) -> int:
        """Files written since the store was loaded (all three together)."""
        return int(self.trust_db.writes + self.blacklist_db.writes + self.ignore_db.writes)
