"""An in-process cache of query results, keyed by what determines them.

Entries outlive their freshness (async modes may serve a stale result while refreshing), and
the cache is bounded: least recently used entries go first. One process only; a shared cache
(Redis) is a later step for multi-process deployments.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
from collections import OrderedDict
from typing import Any

from hedgerow import clock


class ResultCache:
    def __init__(self, max_entries: int = 256, keep_for: dt.timedelta = dt.timedelta(hours=1)) -> None:
        self.max_entries = max_entries
        self.keep_for = keep_for
        self._entries: OrderedDict[str, tuple[dt.datetime, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[dt.datetime, dict[str, Any]] | None:
        """``(computed_at, response copy)`` or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            computed_at, response = entry
            if clock.now() - computed_at > self.keep_for:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return computed_at, copy.copy(response)

    def put(self, key: str, computed_at: dt.datetime, response: dict[str, Any]) -> None:
        with self._lock:
            self._entries[key] = (computed_at, copy.copy(response))
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
