"""The events database: one DuckDB instance per process, handing out cursors.

A stand-in with the smallest interface the query path needs (``path``, ``cursor()``,
``close()``) until the ingestion store, which also does the writes, owns the file. DuckDB
refuses a second instance of a file with a different configuration in one process, so
everything (queries, writes) must share this one instance through its cursors.
"""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb

from hedgerow.store.errors import StoreUnavailable
from hedgerow.store.events.duckdb_query import apply_sandbox
from hedgerow.store.events.schema import TABLES

DUCKDB_SCHEME = "duckdb:///"


def path_from_url(url: str) -> Path:
    """The file of a ``duckdb:///<path>`` events URL (SQLAlchemy style: four slashes for an
    absolute path, three for a relative one)."""
    if not url.startswith(DUCKDB_SCHEME) or len(url) == len(DUCKDB_SCHEME):
        raise ValueError(f"not a DuckDB events URL: {url!r}")
    return Path(url[len(DUCKDB_SCHEME) :])


_registry_lock = threading.Lock()
_instances: dict[Path, list] = {}
"""Open instances by resolved path: ``[connection, users]``. DuckDB itself hands every
``connect`` of one path in a process the same instance, so two owners (two apps in one test
process) must share the one already sandboxed rather than configure it twice."""


def _acquire(path: Path, memory_limit: str, threads: int | None) -> duckdb.DuckDBPyConnection:
    with _registry_lock:
        entry = _instances.get(path)
        if entry is not None:
            entry[1] += 1
            return entry[0]
        try:
            conn = duckdb.connect(str(path))
        except duckdb.Error as error:
            raise StoreUnavailable("events database could not be opened") from error
        for ddl in TABLES:
            conn.execute(ddl)
        apply_sandbox(conn, memory_limit=memory_limit, threads=threads)
        _instances[path] = [conn, 1]
        return conn


def _release(path: Path) -> None:
    with _registry_lock:
        entry = _instances.get(path)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] == 0:
            del _instances[path]
            entry[0].close()


class EventsDatabase:
    """Opens the DuckDB file once (creating the storage tables), sandboxes it, hands out cursors."""

    def __init__(self, path: str | Path, *, memory_limit: str = "2GB", threads: int | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._key = self.path.resolve()
        self._conn = _acquire(self._key, memory_limit, threads)
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def from_url(cls, url: str) -> "EventsDatabase":
        from hedgerow.config import ConfigError

        try:
            path = path_from_url(url)
        except ValueError as error:
            raise ConfigError(f"unsupported events URL (expected duckdb:///<path>): {url}") from error
        return cls(path)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor (its own DuckDB connection to the shared instance); close it after use."""
        with self._lock:
            if self._closed:
                raise StoreUnavailable("events database is closed")
            return self._conn.cursor()

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                _release(self._key)
