"""An in-process cache of query results, keyed by what determines them.

Entries outlive their freshness (async modes may serve a stale result while refreshing), and
the cache is bounded by entries and by bytes (each entry's result size, as its rows measured
in JSON): least recently used entries go first, and a result larger than
``max_entry_bytes`` is not kept at all. One process only; a shared cache (Redis) is a later
step for multi-process deployments.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
from collections import OrderedDict
from typing import Any

from hedgerow import clock

MAX_BYTES = 64 * 1024 * 1024
MAX_ENTRY_BYTES = 16 * 1024 * 1024


class ResultCache:
    """LRU of ``(computed_at, response)`` by cache key, within ``max_entries`` and ``max_bytes``."""

    def __init__(
        self,
        max_entries: int = 256,
        keep_for: dt.timedelta = dt.timedelta(hours=1),
        *,
        max_bytes: int = MAX_BYTES,
        max_entry_bytes: int = MAX_ENTRY_BYTES,
    ) -> None:
        self.max_entries = max_entries
        self.keep_for = keep_for
        self.max_bytes = max_bytes
        self.max_entry_bytes = min(max_entry_bytes, max_bytes)
        self._entries: OrderedDict[str, tuple[dt.datetime, dict[str, Any], int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        """The sizes of the kept results, summed."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> tuple[dt.datetime, dict[str, Any]] | None:
        """``(computed_at, response copy)`` or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            computed_at, response, _ = entry
            if clock.now() - computed_at > self.keep_for:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return computed_at, copy.copy(response)

    def put(self, key: str, computed_at: dt.datetime, response: dict[str, Any], size: int = 0) -> None:
        """Keep ``response`` (whose results take ``size`` bytes) unless it is too large."""
        with self._lock:
            if key in self._entries:
                self._drop(key)
            if size > self.max_entry_bytes:
                return
            self._entries[key] = (computed_at, copy.copy(response), size)
            self._bytes += size
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        _, _, size = self._entries.pop(key)
        self._bytes -= size

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
