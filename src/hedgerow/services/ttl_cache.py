"""A bounded, short-lived map: at most ``max_entries`` entries (the least recently used go
first), each kept at most ``ttl`` seconds. Thread-safe; a value is loaded outside the lock.

An entry may also be filed under a second key (``index``), so everything filed under it can be
dropped at once (every distinct id of a person when the person changes).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """``key -> value``, bounded (LRU) and short-lived."""

    def __init__(self, *, max_entries: int, ttl: float, index: Callable[[K, V], Hashable | None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.max_entries = max_entries
        self.ttl = ttl
        self._index = index
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._filed: dict[Hashable, set[K]] = {}
        self._lock = threading.Lock()

    def get(self, key: K, load: Callable[[], V]) -> V:
        """The live value of ``key``, else ``load()``'s (kept; an exception keeps nothing)."""
        now = self._clock()
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found[0] > now:
                self._entries.move_to_end(key)
                return found[1]
        value = load()
        with self._lock:
            self._forget(key)
            self._entries[key] = (now + self.ttl, value)
            filed = self._index(key, value) if self._index is not None else None
            if filed is not None:
                self._filed.setdefault(filed, set()).add(key)
            while len(self._entries) > self.max_entries:
                self._forget(next(iter(self._entries)))
        return value

    def drop(self, key: K) -> None:
        """Forget ``key``."""
        with self._lock:
            self._forget(key)

    def drop_filed(self, filed: Hashable) -> None:
        """Forget every entry filed under ``filed``."""
        with self._lock:
            for key in list(self._filed.get(filed, ())):
                self._forget(key)

    def _forget(self, key: K) -> None:
        found = self._entries.pop(key, None)
        if found is None or self._index is None:
            return
        filed = self._index(key, found[1])
        keys = self._filed.get(filed) if filed is not None else None
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._filed[filed]

    def __len__(self) -> int:
        return len(self._entries)
