"""Persons for flag evaluation in scale-out mode: read from the shared identity store through
a small bounded cache.

An entry lives at most ``ttl`` seconds (other processes' changes are seen within that time)
and is dropped at once when this process changes its distinct id or its person. A miss on
the event loop raises :class:`~hedgerow.flags.patterns.WouldBlock`, so the flag request is
evaluated on a worker thread instead of holding the loop on the database.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict

from hedgerow.flags.patterns import WouldBlock
from hedgerow.ingest.persons import Changes, Person
from hedgerow.store.meta.identity import SharedIdentityStore

MAX_ENTRIES = 10_000
TTL_SECONDS = 1.0


class SharedPersonCache:
    """``(team, distinct_id) -> Person | None``, bounded (LRU) and short-lived."""

    def __init__(self, store: SharedIdentityStore, *, max_entries: int = MAX_ENTRIES,
                 ttl: float = TTL_SECONDS) -> None:  # fmt: skip
        self.store = store
        self.max_entries = max_entries
        self.ttl = ttl
        self._entries: OrderedDict[tuple[int, str], tuple[float, Person | None]] = OrderedDict()
        self._by_person: dict[tuple[int, str], set[str]] = {}
        self._lock = threading.Lock()

    def person(self, team_id: int, distinct_id: str) -> Person | None:
        """The person ``distinct_id`` belongs to (None when it has none)."""
        key = (team_id, distinct_id)
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found[0] > now:
                self._entries.move_to_end(key)
                return found[1]
        if on_event_loop():
            raise WouldBlock()
        row = self.store.person(team_id, distinct_id)
        person = None
        if row is not None:
            team, uuid, int_id, created_us, props_json, identified, version = row
            person = Person(team, uuid, int_id, created_us, None, props_json, identified, version)
        with self._lock:
            self._forget(key)
            self._entries[key] = (now + self.ttl, person)
            if person is not None:
                self._by_person.setdefault((team_id, person.uuid), set()).add(distinct_id)
            while len(self._entries) > self.max_entries:
                self._forget(next(iter(self._entries)))
        return person

    def changed(self, team_id: int, changes: Changes) -> None:
        """Drop what ``changes`` (made by this process) made stale."""
        with self._lock:
            for uuid in [*changes.persons, *changes.deleted_persons]:
                for distinct_id in self._by_person.pop((team_id, uuid), ()):
                    self._forget((team_id, distinct_id))
            for team, distinct_id in [*changes.distinct_ids, *changes.deleted_distinct_ids]:
                self._forget((team, distinct_id))

    def _forget(self, key: tuple[int, str]) -> None:
        found = self._entries.pop(key, None)
        if found is not None and found[1] is not None:
            ids = self._by_person.get((key[0], found[1].uuid))
            if ids is not None:
                ids.discard(key[1])
                if not ids:
                    del self._by_person[(key[0], found[1].uuid)]

    def __len__(self) -> int:
        return len(self._entries)


def on_event_loop() -> bool:
    """Whether the caller runs on an asyncio event loop (where a database read must not)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
