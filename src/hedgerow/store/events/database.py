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


class EventsDatabase:
    """Opens the DuckDB file once (creating the storage tables), sandboxes it, hands out cursors."""

    def __init__(self, path: str | Path, *, memory_limit: str = "2GB", threads: int | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = duckdb.connect(str(self.path))
        except duckdb.Error as error:
            raise StoreUnavailable("events database could not be opened") from error
        for ddl in TABLES:
            self._conn.execute(ddl)
        apply_sandbox(self._conn, memory_limit=memory_limit, threads=threads)
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def from_url(cls, url: str) -> "EventsDatabase":
        return cls(path_from_url(url))

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
                self._conn.close()
