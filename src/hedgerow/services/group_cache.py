"""Groups for flag evaluation in scale-out mode: read from the shared identity store through a
small bounded cache, as persons are (:mod:`hedgerow.services.person_cache`).

Group properties live at most ``ttl`` seconds, a team's group types too (other processes'
changes are seen within that time); this process's own changes drop them at once. A miss on
the event loop raises :class:`~hedgerow.flags.patterns.WouldBlock`, so the flag request is
evaluated on a worker thread instead of holding the loop on the database.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Hashable, Mapping, TypeVar

import orjson

from hedgerow.flags.patterns import WouldBlock
from hedgerow.ingest.persons import Changes
from hedgerow.services.person_cache import MAX_ENTRIES, TTL_SECONDS, on_event_loop
from hedgerow.store.meta.identity import SharedIdentityStore

T = TypeVar("T")


class SharedGroupCache:
    """``(team, type index, key) -> properties`` and ``team -> {index: type}``, bounded (LRU)
    and short-lived."""

    def __init__(self, store: SharedIdentityStore, *, max_entries: int = MAX_ENTRIES,
                 ttl: float = TTL_SECONDS) -> None:  # fmt: skip
        self.store = store
        self.max_entries = max_entries
        self.ttl = ttl
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def group_properties(self, team_id: int, type_index: int, key: str) -> Mapping[str, Any]:
        """A group's properties (empty when there is no such group)."""

        def load() -> Mapping[str, Any]:
            row = self.store.group(team_id, type_index, key)
            return orjson.loads(row[3]) if row is not None else {}

        return self._get(("group", team_id, type_index, key), load)

    def group_types(self, team_id: int) -> dict[int, str]:
        """The team's group types by index."""
        return self._get(("types", team_id), lambda: self.store.group_types(team_id))

    def changed(self, team_id: int, changes: Changes) -> None:
        """Drop what ``changes`` (made by this process) made stale."""
        with self._lock:
            for team, type_index, key in changes.groups:
                self._entries.pop(("group", team, type_index, key), None)
            if changes.group_types:
                self._entries.pop(("types", team_id), None)

    def _get(self, key: Hashable, load: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found[0] > now:
                self._entries.move_to_end(key)
                return found[1]
        if on_event_loop():
            raise WouldBlock()
        value = load()
        with self._lock:
            self._entries[key] = (now + self.ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._entries)
