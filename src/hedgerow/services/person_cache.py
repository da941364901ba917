"""Persons for flag evaluation in scale-out mode: read from the shared identity store through
a small bounded cache.

An entry lives at most ``ttl`` seconds (other processes' changes are seen within that time)
and is dropped at once when this process changes its distinct id or its person. A miss on
the event loop raises :class:`~hedgerow.flags.patterns.WouldBlock`, so the flag request is
evaluated on a worker thread instead of holding the loop on the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from typing import TypeVar

from hedgerow.flags.patterns import WouldBlock
from hedgerow.ingest.persons import Changes, Person
from hedgerow.services.ttl_cache import TtlCache
from hedgerow.store.meta.identity import SharedIdentityStore

MAX_ENTRIES = 10_000
TTL_SECONDS = 1.0

T = TypeVar("T")


class SharedPersonCache:
    """``(team, distinct_id) -> Person | None``, bounded (LRU) and short-lived."""

    def __init__(self, store: SharedIdentityStore, *, max_entries: int = MAX_ENTRIES,
                 ttl: float = TTL_SECONDS) -> None:  # fmt: skip
        self.store = store
        self._cache: TtlCache[tuple[int, str], Person | None] = TtlCache(
            max_entries=max_entries, ttl=ttl, index=_person_of)

    def person(self, team_id: int, distinct_id: str) -> Person | None:
        """The person ``distinct_id`` belongs to (None when it has none)."""

        def load() -> Person | None:
            row = self.store.person(team_id, distinct_id)
            if row is None:
                return None
            team, uuid, int_id, created_us, props_json, identified, version = row
            return Person(team, uuid, int_id, created_us, None, props_json, identified, version)

        return self._cache.get((team_id, distinct_id), off_loop(load))

    def changed(self, team_id: int, changes: Changes) -> None:
        """Drop what ``changes`` (made by this process) made stale."""
        for uuid in [*changes.persons, *changes.deleted_persons]:
            self._cache.drop_filed((team_id, uuid))
        for team, distinct_id in [*changes.distinct_ids, *changes.deleted_distinct_ids]:
            self._cache.drop((team, distinct_id))

    def __len__(self) -> int:
        return len(self._cache)


def _person_of(key: tuple[int, str], person: Person | None) -> Hashable | None:
    return (key[0], person.uuid) if person is not None else None


def on_event_loop() -> bool:
    """Whether the caller runs on an asyncio event loop (where a database read must not)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def off_loop(load: Callable[[], T]) -> Callable[[], T]:
    """``load``, refused with :class:`WouldBlock` when called on an event loop."""

    def guarded() -> T:
        if on_event_loop():
            raise WouldBlock()
        return load()

    return guarded
