"""Groups for flag evaluation in scale-out mode: read from the shared identity store through
a small bounded cache, as persons are (:mod:`hedgerow.services.person_cache`).

Group properties live at most ``ttl`` seconds, a team's group types too (other processes'
changes are seen within that time); this process's own changes drop them at once. A miss on
the event loop raises :class:`~hedgerow.flags.patterns.WouldBlock`, so the flag request is
evaluated on a worker thread instead of holding the loop on the database.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import orjson

from hedgerow.ingest.persons import Changes
from hedgerow.services.person_cache import MAX_ENTRIES, TTL_SECONDS, off_loop
from hedgerow.services.ttl_cache import TtlCache
from hedgerow.store.meta.identity import SharedIdentityStore


class SharedGroupCache:
    """``(team, type index, key) -> properties`` and ``team -> {index: type}``, bounded (LRU)
    and short-lived."""

    def __init__(self, store: SharedIdentityStore, *, max_entries: int = MAX_ENTRIES,
                 ttl: float = TTL_SECONDS) -> None:  # fmt: skip
        self.store = store
        self._cache: TtlCache[Hashable, Any] = TtlCache(max_entries=max_entries, ttl=ttl)

    def group_properties(self, team_id: int, type_index: int, key: str) -> Mapping[str, Any]:
        """A group's properties (empty when there is no such group)."""

        def load() -> Mapping[str, Any]:
            row = self.store.group(team_id, type_index, key)
            return orjson.loads(row[3]) if row is not None else {}

        return self._cache.get(("group", team_id, type_index, key), off_loop(load))

    def group_types(self, team_id: int) -> dict[int, str]:
        """The team's group types by index."""
        return self._cache.get(("types", team_id), off_loop(lambda: self.store.group_types(team_id)))

    def changed(self, team_id: int, changes: Changes) -> None:
        """Drop what ``changes`` (made by this process) made stale."""
        for team, type_index, key in changes.groups:
            self._cache.drop(("group", team, type_index, key))
        if changes.group_types:
            self._cache.drop(("types", team_id))

    def __len__(self) -> int:
        return len(self._cache)
